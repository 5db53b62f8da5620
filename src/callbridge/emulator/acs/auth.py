"""Verification of the HMAC-SHA256 and bearer credentials the Communication Services SDKs attach to requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

HMAC_SCHEME = "HMAC-SHA256"
SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"


class AuthError(Exception):
    """A request the emulator refuses to authenticate; the message says what was wrong and how to fix it."""


def verify_request(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    key: bytes,
    now: float,
    max_skew_seconds: float = 900.0,
) -> str:
    """Authenticate a request by its bearer token or HMAC signature; returns "bearer" or "hmac"."""
    authorization = headers.get("authorization")
    if not authorization:
        raise AuthError(
            "missing Authorization header; sign requests with the access key from the connection string "
            "or send a bearer token"
        )
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        if not credentials.strip():
            raise AuthError("the Authorization header says Bearer but carries no token")
        return "bearer"
    if scheme.upper() != HMAC_SCHEME:
        raise AuthError(f"unsupported Authorization scheme {scheme!r}; expected {HMAC_SCHEME} or Bearer")
    signature = _signature(credentials)
    content_hash = _content_hash(headers, body)
    date = _signed_date(headers, now, max_skew_seconds)
    host = headers.get("host")
    if not host:
        raise AuthError("missing Host header; it is part of the signed string")
    for candidate in _strings_to_sign(method.upper(), target, date, host, content_hash):
        expected = hmac.new(key, candidate.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        if hmac.compare_digest(expected, signature):
            return "hmac"
    raise AuthError("the signature does not match; check the access key in the connection string")


def parse_http_date(value: str) -> float | None:
    """Seconds since the epoch of an RFC 1123 / IMF-fixdate header value, or None when it is not a date."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _signature(credentials: str) -> bytes:
    fields: dict[str, str] = {}
    for part in credentials.strip().split("&"):
        name, _, value = part.partition("=")
        fields[name] = value
    signed_headers = fields.get("SignedHeaders")
    if signed_headers is None or "Signature" not in fields:
        raise AuthError(
            f"malformed {HMAC_SCHEME} Authorization header; expected SignedHeaders={SIGNED_HEADERS}&Signature=<base64>"
        )
    if signed_headers.lower() != SIGNED_HEADERS:
        raise AuthError(f"SignedHeaders must be {SIGNED_HEADERS!r}, got {signed_headers!r}")
    try:
        return base64.b64decode(fields["Signature"], validate=True)
    except ValueError:
        raise AuthError("the Signature in the Authorization header is not valid base64") from None


def _signed_date(headers: Mapping[str, str], now: float, max_skew_seconds: float) -> str:
    date = headers.get("x-ms-date") or headers.get("date")
    if not date:
        raise AuthError("missing x-ms-date header; HMAC-signed requests must carry the signing time")
    sent = parse_http_date(date)
    if sent is None:
        raise AuthError(f"x-ms-date {date!r} is not an RFC 1123 date such as 'Thu, 26 Nov 2026 22:38:21 GMT'")
    if abs(now - sent) > max_skew_seconds:
        raise AuthError(
            f"x-ms-date is {_duration(abs(now - sent))} off the server clock "
            f"(allowed skew {_duration(max_skew_seconds)}); check the client's system clock"
        )
    return date


def _content_hash(headers: Mapping[str, str], body: bytes) -> str:
    sent = headers.get("x-ms-content-sha256")
    if sent is None:
        raise AuthError("missing x-ms-content-sha256 header; HMAC-signed requests must carry the body hash")
    actual = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    if sent != actual:
        raise AuthError("x-ms-content-sha256 does not match the body; was the body changed after signing?")
    return sent


def _strings_to_sign(method: str, target: str, date: str, host: str, content_hash: str) -> Iterator[str]:
    hosts = dict.fromkeys([host, host + "/"])
    # Clients sign their own idea of the URL: async Python signs %3A but sends ':', an endpoint's trailing '/' stays.
    targets = dict.fromkeys([target, _requoted(target), unquote(target)])
    for signed_host in hosts:
        for signed_target in targets:
            yield f"{method}\n{signed_target}\n{date};{signed_host};{content_hash}"


def _requoted(target: str) -> str:
    path, question, query = target.partition("?")
    segments = (quote(unquote(segment), safe="", errors="surrogatepass") for segment in path.split("/"))
    return "/".join(segments) + question + query


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    parts = [_count(minutes, "minute")] if minutes else []
    if rest or not minutes:
        parts.append(_count(rest, "second"))
    return " ".join(parts)


def _count(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"
