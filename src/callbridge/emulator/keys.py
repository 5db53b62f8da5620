"""The RS256 key that signs the emulator's JWTs and is published as its JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callbridge.emulator.persistence import atomic_write

ALGORITHM = "RS256"
KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537


class SigningKey:
    """An RSA private key that signs JWTs and describes its public half as a JWK."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private_key = private_key
        numbers = private_key.public_key().public_numbers()
        self._n = _base64url_uint(numbers.n)
        self._e = _base64url_uint(numbers.e)
        self._kid = _thumbprint(self._n, self._e)

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """Load the PEM key at ``path``, or create one there (mode 0600) when the file does not exist."""
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write(path, _pem(private_key), 0o600)
            return cls(private_key)
        try:
            loaded = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path} is not an unencrypted PEM private key; delete it to create a new one") from error
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{path} holds a non-RSA key; delete it to create a new RS256 key")
        return cls(loaded)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        """The public half, for verifying what this key signed."""
        return self._private_key.public_key()

    @property
    def kid(self) -> str:
        """The key id: the RFC 7638 JWK thumbprint, base64url without padding."""
        return self._kid

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK."""
        return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": self._kid, "n": self._n, "e": self._e}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document that publishes this key."""
        return {"keys": [self.jwk()]}

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """A compact RS256 JWT of ``claims`` whose header names this key."""
        header = {"typ": "JWT", **(headers or {}), "alg": ALGORITHM, "kid": self._kid}
        return jwt.encode(dict(claims), self._private_key, algorithm=ALGORITHM, headers=header)


def _pem(private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _base64url_uint(value: int) -> str:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _thumbprint(n: str, e: str) -> str:
    canonical = json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode("ascii")).digest()).rstrip(b"=").decode("ascii")
