"""Raw Call Automation HTTP for tests: requests signed the way the SDKs sign them, or deliberately not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_API_VERSION = "2026-03-12"


def http_date(moment: datetime | None = None) -> str:
    """An RFC 1123 date as ``x-ms-date`` and ``Repeatability-First-Sent`` carry it."""
    return (moment or datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S GMT")


def minutes_ago(minutes: float) -> str:
    return http_date(datetime.now(UTC) - timedelta(minutes=minutes))


def parse_connection_string(connection_string: str) -> tuple[str, str]:
    """The endpoint and access key of ``endpoint=…;accesskey=…``."""
    parts = dict(part.split("=", 1) for part in connection_string.split(";") if part)
    return parts["endpoint"].rstrip("/"), parts["accesskey"]


def hmac_headers(
    method: str, path_and_query: str, host: str, body: bytes, access_key: str, date: str
) -> dict[str, str]:
    """``x-ms-date``, ``x-ms-content-sha256`` and ``Authorization`` as the SDKs compute them (reference §5.1)."""
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    to_sign = f"{method.upper()}\n{path_and_query}\n{date};{host};{content_hash}"
    signature = base64.b64encode(
        hmac.new(base64.b64decode(access_key), to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
    }


class RawAcs:
    """An HTTPS client for ``/calling/…`` that signs each request itself, so a test can get any part wrong."""

    def __init__(self, connection_string: str, ca_path: str) -> None:
        self.endpoint, self.access_key = parse_connection_string(connection_string)
        self.host = urlsplit(self.endpoint).netloc
        self.http = httpx.Client(base_url=self.endpoint, verify=ssl.create_default_context(cafile=ca_path), timeout=30)

    def __enter__(self) -> RawAcs:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        api_version: str | None = DEFAULT_API_VERSION,
        query: str | None = None,
        access_key: str | None = None,
        date: str | None = None,
        sent_content: bytes | None = None,
        sign: bool = True,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send ``body`` (JSON) or raw ``content``; ``sent_content`` replaces the body after signing."""
        if content is None:
            content = b"" if body is None else json.dumps(body).encode()
        if query is None:
            query = f"api-version={api_version}" if api_version is not None else ""
        path_and_query = path + (f"?{query}" if query else "")
        sent: dict[str, str] = {}
        if content:
            sent["Content-Type"] = "application/json"
        if sign:
            sent.update(
                hmac_headers(
                    method, path_and_query, self.host, content, access_key or self.access_key, date or http_date()
                )
            )
        sent.update(headers or {})
        return self.http.request(
            method, path_and_query, content=content if sent_content is None else sent_content, headers=sent
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, body, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The service's error shape: the status, JSON ``{"error": {"code", "message"}}`` and nothing internal."""
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code} {response.text}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error.get("code") == code, body
    assert isinstance(error.get("message"), str) and error["message"], body
    assert set(error) <= {"code", "message", "target", "details", "innererror"}, body
    assert "retry-after" not in response.headers, "a Retry-After header makes azure-core retry any 4xx"
    for leak in ("Traceback", 'File "', "Exception", "callbridge."):
        assert leak not in response.text, f"internal detail {leak!r} leaked: {response.text}"
    return dict(error)
