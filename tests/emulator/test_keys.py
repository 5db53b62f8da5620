"""Tokens signed by the emulator's key verify through its published JWK, and only through it."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import jwt
import pytest

from callbridge.emulator.clock import RealClock
from callbridge.emulator.keys import SigningKey

ISSUER = "https://acscallautomation.communication.azure.com"
AUDIENCE = "6d0b1c4e-2f5a-4b8e-9c1d-3e7f8a9b0c2d"


def claims(age_seconds: float = 0) -> dict[str, object]:
    """Callback-style claims issued ``age_seconds`` ago; PyJWT checks them against the real clock."""
    now = int(RealClock().time() - age_seconds)
    return {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300}


def decode_with(jwk: dict[str, str], token: str) -> dict[str, object]:
    result: dict[str, object] = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER
    )
    return result


def test_token_verifies_with_published_jwk(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(tmp_path / "signing-key.pem")
    token = key.sign({**claims(), "eventType": "CallConnected"})
    assert decode_with(key.jwk(), token)["eventType"] == "CallConnected"
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": key.kid}


def test_verifier_picks_the_key_by_kid_from_the_jwks(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(tmp_path / "signing-key.pem")
    token = key.sign(claims())
    keys = jwt.PyJWKSet.from_dict(key.jwks())
    kid = jwt.get_unverified_header(token)["kid"]
    jwt.decode(token, keys[kid].key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)


def test_jwk_describes_a_public_rs256_signing_key(tmp_path: Path) -> None:
    jwk = SigningKey.load_or_create(tmp_path / "signing-key.pem").jwk()
    assert set(jwk) == {"kty", "use", "alg", "kid", "n", "e"}
    assert (jwk["kty"], jwk["use"], jwk["alg"], jwk["e"]) == ("RSA", "sig", "RS256", "AQAB")
    assert len(base64.urlsafe_b64decode(jwk["n"] + "==")) == 256


def test_kid_is_the_rfc_7638_thumbprint(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(tmp_path / "signing-key.pem")
    jwk = key.jwk()
    members = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":")).encode()
    assert key.kid == base64.urlsafe_b64encode(hashlib.sha256(members).digest()).decode().rstrip("=")
    assert jwt.PyJWK(jwk).key_id == key.kid


def test_key_survives_reload_with_same_kid(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"
    first = SigningKey.load_or_create(path)
    token = first.sign(claims())
    second = SigningKey.load_or_create(path)
    assert second.kid == first.kid
    assert second.jwks() == first.jwks()
    decode_with(second.jwk(), token)


def test_key_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    SigningKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert [entry.name for entry in tmp_path.iterdir()] == ["signing-key.pem"]


def test_token_from_another_key_is_rejected(tmp_path: Path) -> None:
    ours = SigningKey.load_or_create(tmp_path / "ours.pem")
    theirs = SigningKey.load_or_create(tmp_path / "theirs.pem")
    assert ours.kid != theirs.kid
    with pytest.raises(jwt.InvalidSignatureError):
        decode_with(ours.jwk(), theirs.sign(claims()))


def test_expired_token_is_rejected(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(tmp_path / "signing-key.pem")
    token = key.sign(claims(age_seconds=600))
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_with(key.jwk(), token)


def test_extra_headers_cannot_change_kid_or_algorithm(tmp_path: Path) -> None:
    key = SigningKey.load_or_create(tmp_path / "signing-key.pem")
    token = key.sign(claims(), {"kid": "forged", "alg": "HS256", "x5t": "abc"})
    header = jwt.get_unverified_header(token)
    assert (header["kid"], header["alg"], header["x5t"]) == (key.kid, "RS256", "abc")
    decode_with(key.jwk(), token)


@pytest.mark.parametrize("content", [b"not a key", b""])
def test_unreadable_key_file_is_reported_not_overwritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "signing-key.pem"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="delete it to create a new one"):
        SigningKey.load_or_create(path)
    assert path.read_bytes() == content
