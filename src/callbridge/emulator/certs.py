"""A local certificate authority and server certificate for the emulator's HTTPS listener."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callbridge.emulator.clock import Clock, RealClock
from callbridge.emulator.persistence import atomic_write

CA_NAME = "callbridge local CA"
SERVER_NAME = "callbridge emulator"
CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=825)
RENEW_BEFORE = timedelta(days=30)
BACKDATE = timedelta(hours=1)

_HostName: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address | str


@dataclass(frozen=True)
class CertificatePaths:
    """Where the CA certificate and the server's certificate and key live."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def ensure_certificates(
    directory: Path,
    hosts: Sequence[str] = ("127.0.0.1", "localhost", "::1"),
    *,
    clock: Clock | None = None,
) -> CertificatePaths:
    """Create or reuse a local CA and a server certificate it signed that covers every one of ``hosts``."""
    now = (clock or RealClock()).now()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = CertificatePaths(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    ca_key_path = directory / "ca-key.pem"
    names = [_host_name(host) for host in hosts]
    ca = _load_pair(paths.ca_cert, ca_key_path)
    if ca is None or not _fresh(ca[0], now):
        ca = _create_ca(now)
        _write_pair(paths.ca_cert, ca_key_path, ca)
    server = _load_pair(paths.server_cert, paths.server_key)
    if (
        server is None
        or not _fresh(server[0], now)
        or not _signed_by(server[0], ca[0])
        or not _covers(server[0], names)
    ):
        _write_pair(paths.server_cert, paths.server_key, _create_server(ca, names, now))
    return paths


def _host_name(host: str) -> _HostName:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return host.lower()


def _load_pair(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    return cert, key


def _write_pair(cert_path: Path, key_path: Path, pair: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]) -> None:
    cert, key = pair
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    atomic_write(key_path, key_pem, 0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _fresh(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc - RENEW_BEFORE > now


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _covers(cert: x509.Certificate, names: Sequence[_HostName]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present: set[_HostName] = {name.lower() for name in san.get_values_for_type(x509.DNSName)}
    present.update(
        address
        for address in san.get_values_for_type(x509.IPAddress)
        if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address)
    )
    return all(name in present for name in names)


def _create_ca(now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    public_key = key.public_key()
    cert = (
        _validity(x509.CertificateBuilder(), now, CA_LIFETIME)
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _create_server(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], names: Sequence[_HostName], now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    alternative_names = [
        x509.DNSName(name) if isinstance(name, str) else x509.IPAddress(name) for name in dict.fromkeys(names)
    ]
    cert = (
        _validity(x509.CertificateBuilder(), now, SERVER_LIFETIME)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _validity(builder: x509.CertificateBuilder, now: datetime, lifetime: timedelta) -> x509.CertificateBuilder:
    # Serial numbers must be positive and at most 20 bytes; 159 random bits satisfy both.
    return (
        builder.serial_number(secrets.randbits(159) | 1)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + lifetime)
    )


def _key_usage(*, digital_signature: bool = False, key_cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
