"""A lean Call Automation client: httpx requests shaped and HMAC-signed as the official async SDK sends them.

The load generator must cost the same against the emulator and against the bare baseline, and as little as
possible, so it is plain httpx rather than the SDK's pipeline; headers, bodies and the signature follow what
azure-communication-callautomation 1.6.0 puts on the wire (acs-protocol.md §5.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import uuid
from collections.abc import Generator
from email.utils import formatdate
from typing import Any

import httpx

API_VERSION = "2026-03-12"
USER_AGENT = "azsdk-python-communication-callautomation/1.6.0 (callbridge bench)"


class HmacSigner(httpx.Auth):
    """``Authorization: HMAC-SHA256`` over verb, path and query, x-ms-date, host and the body's SHA-256."""

    requires_request_body = True

    def __init__(self, access_key: str) -> None:
        self._key = base64.b64decode(access_key)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        date = formatdate(usegmt=True)
        content_hash = base64.b64encode(hashlib.sha256(request.content).digest()).decode()
        signed = f"{request.method}\n{request.url.raw_path.decode()}\n{date};{request.headers['host']};{content_hash}"
        signature = base64.b64encode(hmac.new(self._key, signed.encode(), hashlib.sha256).digest()).decode()
        request.headers["x-ms-date"] = date
        request.headers["x-ms-content-sha256"] = content_hash
        request.headers["Authorization"] = (
            f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
        )
        yield request


def parse_connection_string(connection_string: str) -> tuple[str, str]:
    """The endpoint and access key of ``endpoint=…;accesskey=…``."""
    fields = dict(part.split("=", 1) for part in connection_string.split(";") if part)
    return fields["endpoint"], fields["accesskey"]


def teams_user(user_id: str) -> dict[str, Any]:
    """A Teams user identifier as the SDK serializes it."""
    return {
        "rawId": f"8:orgid:{user_id}",
        "microsoftTeamsUser": {"userId": user_id, "isAnonymous": False, "cloud": "PUBLIC"},
    }


class CallAutomation:
    """The Call Automation operations the benchmarks drive, over kept-alive HTTPS connections."""

    def __init__(self, endpoint: str, access_key: str, tls: ssl.SSLContext, connections: int = 1) -> None:
        self.http = httpx.AsyncClient(
            base_url=endpoint,
            auth=HmacSigner(access_key),
            verify=tls,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            timeout=30,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, "x-ms-return-client-request-id": "true"},
        )

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, repeatable: bool = False
    ) -> httpx.Response:
        """One signed request; a 4xx or 5xx answer breaks the benchmark with the service's error."""
        headers = {"x-ms-client-request-id": str(uuid.uuid1())}
        content = b""
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if repeatable:
            headers["Repeatability-Request-ID"] = str(uuid.uuid4())
            headers["Repeatability-First-Sent"] = formatdate(usegmt=True)
        response = await self.http.request(
            method, f"{path}?api-version={API_VERSION}", content=content, headers=headers
        )
        if response.is_error:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response

    async def answer(self, incoming_call_context: str, callback_uri: str) -> str:
        """Answer an IncomingCall; the new call connection's id."""
        body = {"incomingCallContext": incoming_call_context, "callbackUri": callback_uri}
        response = await self.request("POST", "/calling/callConnections:answer", body, repeatable=True)
        return str(response.json()["callConnectionId"])

    async def list_participants(self, call_connection_id: str) -> httpx.Response:
        return await self.request("GET", f"/calling/callConnections/{call_connection_id}/participants")

    async def add_participant(self, call_connection_id: str, user_id: str) -> None:
        path = f"/calling/callConnections/{call_connection_id}/participants:add"
        await self.request("POST", path, {"participantToAdd": teams_user(user_id)}, repeatable=True)

    async def remove_participant(self, call_connection_id: str, user_id: str) -> None:
        path = f"/calling/callConnections/{call_connection_id}/participants:remove"
        await self.request("POST", path, {"participantToRemove": teams_user(user_id)}, repeatable=True)

    async def hang_up(self, call_connection_id: str) -> None:
        await self.request("DELETE", f"/calling/callConnections/{call_connection_id}")

    async def aclose(self) -> None:
        await self.http.aclose()
