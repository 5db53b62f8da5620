"""The local CA's server certificate is trusted by real TLS clients, reused, and renewed when it must be."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from callbridge.emulator.certs import CertificatePaths, ensure_certificates
from callbridge.emulator.clock import VirtualClock


def tls_greeting(paths: CertificatePaths, server_hostname: str) -> bytes:
    """Connect to a TLS server on 127.0.0.1 serving the certificate, trusting only the CA; returns its greeting."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(paths.server_cert, paths.server_key)
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve_one() -> None:
            connection, _ = listener.accept()
            try:
                with server_context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"hello")
            except (ssl.SSLError, OSError):
                pass

        server = threading.Thread(target=serve_one)
        server.start()
        try:
            client_context = ssl.create_default_context(cafile=str(paths.ca_cert))
            with (
                socket.create_connection(listener.getsockname()) as raw,
                client_context.wrap_socket(raw, server_hostname=server_hostname) as tls,
            ):
                return tls.recv(5)
        finally:
            server.join(timeout=10)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def san_of(path: Path) -> set[object]:
    san = load(path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName), *san.get_values_for_type(x509.IPAddress)}


@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost"])
def test_server_certificate_is_trusted_through_the_ca(tmp_path: Path, hostname: str) -> None:
    paths = ensure_certificates(tmp_path)
    assert tls_greeting(paths, hostname) == b"hello"


def test_other_host_names_are_not_trusted(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_greeting(paths, "example.test")


def test_certificate_is_not_trusted_without_the_ca(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    stranger = ensure_certificates(tmp_path / "other")
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_greeting(CertificatePaths(stranger.ca_cert, paths.server_cert, paths.server_key), "localhost")


def test_files_and_permissions(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path / "certs")
    directory = tmp_path / "certs"
    assert sorted(entry.name for entry in directory.iterdir()) == [
        "ca-key.pem",
        "ca.pem",
        "server-key.pem",
        "server.pem",
    ]
    for key in (directory / "ca-key.pem", paths.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert paths == CertificatePaths(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")


def test_ca_and_server_certificate_contents(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    ca, server = load(paths.ca_cert), load(paths.server_cert)
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "callbridge local CA"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(days=3650)
    assert server.issuer == ca.subject
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert timedelta(days=825) <= server.not_valid_after_utc - server.not_valid_before_utc <= timedelta(days=826)
    assert san_of(paths.server_cert) == {
        "localhost",
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }


def test_second_call_reuses_everything(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert ensure_certificates(tmp_path) == first
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_new_host_reissues_server_certificate_only(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    ca_before, server_before = paths.ca_cert.read_bytes(), paths.server_cert.read_bytes()
    ensure_certificates(tmp_path, ("127.0.0.1", "localhost", "callbridge.test"))
    assert paths.ca_cert.read_bytes() == ca_before
    assert paths.server_cert.read_bytes() != server_before
    assert "callbridge.test" in san_of(paths.server_cert)
    assert tls_greeting(paths, "callbridge.test") == b"hello"


def test_subset_of_known_hosts_reuses_server_certificate(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    before = paths.server_cert.read_bytes()
    ensure_certificates(tmp_path, ("LOCALHOST", "0:0::1"))
    assert paths.server_cert.read_bytes() == before


def test_server_certificate_renewed_within_30_days_of_expiry(tmp_path: Path) -> None:
    clock = VirtualClock()
    paths = ensure_certificates(tmp_path, clock=clock)
    ca_before, server_before = paths.ca_cert.read_bytes(), paths.server_cert.read_bytes()
    clock.advance(timedelta(days=790).total_seconds())
    ensure_certificates(tmp_path, clock=clock)
    assert paths.server_cert.read_bytes() == server_before
    clock.advance(timedelta(days=10).total_seconds())
    ensure_certificates(tmp_path, clock=clock)
    assert paths.server_cert.read_bytes() != server_before
    assert paths.ca_cert.read_bytes() == ca_before
    assert load(paths.server_cert).not_valid_after_utc > clock.now() + timedelta(days=800)


def test_lost_ca_key_means_new_ca_and_reissued_server_certificate(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    ca_before = paths.ca_cert.read_bytes()
    (tmp_path / "ca-key.pem").unlink()
    ensure_certificates(tmp_path)
    assert paths.ca_cert.read_bytes() != ca_before
    assert tls_greeting(paths, "localhost") == b"hello"


@pytest.mark.parametrize("damaged", ["server.pem", "server-key.pem"])
def test_damaged_server_files_are_replaced(tmp_path: Path, damaged: str) -> None:
    paths = ensure_certificates(tmp_path)
    (tmp_path / damaged).write_bytes(b"-----BEGIN CERTIFICATE-----\ngarbage")
    ensure_certificates(tmp_path)
    assert tls_greeting(paths, "localhost") == b"hello"


def test_server_key_from_another_pair_is_replaced(tmp_path: Path) -> None:
    paths = ensure_certificates(tmp_path)
    other = ensure_certificates(tmp_path / "other")
    paths.server_key.write_bytes(other.server_key.read_bytes())
    ensure_certificates(tmp_path)
    assert tls_greeting(paths, "localhost") == b"hello"
