"""HMAC and bearer verification against the reference vectors and the real Call Automation SDK."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from azure.communication.callautomation import (
    CallAutomationClient,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
)
from azure.communication.callautomation._shared import policy as sdk_policy
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest

from callbridge.emulator.acs.auth import AuthError, verify_request
from callbridge.emulator.clock import RealClock

ACCESS_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="
KEY = base64.b64decode(ACCESS_KEY)
HOST = "127.0.0.1:18080"
DATE = "Thu, 26 Nov 2026 22:38:21 GMT"
DATE_EPOCH = 1_795_732_701.0
EMPTY_HASH = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


@dataclass(frozen=True)
class Captured:
    """One request exactly as it arrived on the wire."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def appendix_headers(content_hash: str, signature: str) -> dict[str, str]:
    return {
        "host": HOST,
        "x-ms-date": DATE,
        "x-ms-content-sha256": content_hash,
        "authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
    }


GET_VECTOR = (
    "GET",
    "/calling/callConnections/cc1?api-version=2026-03-12",
    b"",
    appendix_headers(EMPTY_HASH, "GA9Ha2Dugwk6a7B4g8dkqkENiDlSGRAEUDvlpeLjaBo="),
)
POST_VECTOR = (
    "POST",
    "/calling/callConnections/cc1/participants:cancelAddParticipant?api-version=2026-03-12",
    b'{"invitationId": "inv1", "operationContext": "oc-cancel"}',
    appendix_headers("NwPOTtUVvD2NIjHeNRPpDXTpABeeHxuxwCYvNUiCDKI=", "5lGi9bLqmaLUkKECe1N2SLLHX2fDtb7M/Rq1rEVK1Uo="),
)
APPENDIX_A = [pytest.param(*GET_VECTOR, id="get"), pytest.param(*POST_VECTOR, id="post")]


def sdk_sign(
    method: str, target: str, body: str = "", *, endpoint: str = f"https://{HOST}", decode_url: bool = False
) -> dict[str, str]:
    """Headers the SDK's own HMAC policy puts on a request at DATE, plus the Host header the transport sends."""
    request = HttpRequest(method, f"https://{HOST}{target}")
    request.body = body
    signer = sdk_policy.HMACCredentialsPolicy(endpoint, ACCESS_KEY, decode_url=decode_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sdk_policy, "get_current_utc_time", lambda: DATE)
        signer.on_request(PipelineRequest(request, PipelineContext(None)))
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = HOST
    return headers


def verify(
    method: str, target: str, headers: dict[str, str], body: bytes = b"", *, now: float = DATE_EPOCH, key: bytes = KEY
) -> str:
    return verify_request(method, target, headers, body, key, now)


@pytest.mark.parametrize(("method", "target", "body", "headers"), APPENDIX_A)
def test_appendix_a_vectors_verify(method: str, target: str, body: bytes, headers: dict[str, str]) -> None:
    assert verify(method, target, headers, body) == "hmac"


@pytest.mark.parametrize(("method", "target", "body", "headers"), APPENDIX_A)
def test_appendix_a_vectors_fail_with_another_key(
    method: str, target: str, body: bytes, headers: dict[str, str]
) -> None:
    with pytest.raises(AuthError, match="signature does not match; check the access key"):
        verify(method, target, headers, body, key=b"k" * 31 + b"x")


def test_signature_for_one_call_does_not_authenticate_another() -> None:
    _, target, body, headers = GET_VECTOR
    with pytest.raises(AuthError, match="signature does not match"):
        verify("GET", target.replace("cc1", "cc2"), headers, body)
    with pytest.raises(AuthError, match="signature does not match"):
        verify("DELETE", target, headers, body)


def test_sdk_policy_signature_verifies() -> None:
    body = json.dumps({"participantToAdd": {"rawId": "8:acs:x"}, "operationContext": "ctx"})
    target = "/calling/callConnections/cc1/participants:add?api-version=2026-03-12"
    headers = sdk_sign("POST", target, body)
    assert verify("POST", target, headers, body.encode()) == "hmac"


def test_endpoint_with_trailing_slash_signs_host_with_slash() -> None:
    target = "/calling/callConnections/cc1?api-version=2026-03-12"
    headers = sdk_sign("GET", target, endpoint=f"https://{HOST}/")
    assert verify("GET", target, headers) == "hmac"


@pytest.mark.parametrize(
    ("signed", "sent"),
    [
        (
            "/calling/callConnections/cc1/participants/8%3Aorgid%3Aoid-1?api-version=2026-03-12",
            "/calling/callConnections/cc1/participants/8:orgid:oid-1?api-version=2026-03-12",
        ),
        (
            "/calling/callConnections/cc1/participants/4%3A%2B14255550123?api-version=2026-03-12",
            "/calling/callConnections/cc1/participants/4:+14255550123?api-version=2026-03-12",
        ),
    ],
    ids=["teams-user", "phone-number"],
)
def test_async_client_sending_unescaped_raw_id_verifies(signed: str, sent: str) -> None:
    headers = sdk_sign("GET", signed)
    assert verify("GET", sent, headers) == "hmac"


def test_client_that_signs_the_decoded_url_verifies() -> None:
    target = "/calling/callConnections/cc1/participants/8%3Aacs%3Auser-1?api-version=2026-03-12"
    headers = sdk_sign("GET", target, decode_url=True)
    assert verify("GET", target, headers) == "hmac"


def test_date_header_stands_in_for_missing_x_ms_date() -> None:
    target = "/calling/callConnections/cc1?api-version=2026-03-12"
    headers = sdk_sign("GET", target)
    headers["date"] = headers.pop("x-ms-date")
    assert verify("GET", target, headers) == "hmac"


def test_tampered_body_is_rejected() -> None:
    target = "/calling/callConnections/cc1/participants:remove?api-version=2026-03-12"
    headers = sdk_sign("POST", target, '{"participantToRemove": {"rawId": "8:acs:a"}}')
    with pytest.raises(AuthError, match="x-ms-content-sha256 does not match the body"):
        verify("POST", target, headers, b'{"participantToRemove": {"rawId": "8:acs:b"}}')


def test_hash_of_tampered_body_still_fails_the_signature() -> None:
    target = "/calling/callConnections/cc1/participants:remove?api-version=2026-03-12"
    headers = sdk_sign("POST", target, '{"participantToRemove": {"rawId": "8:acs:a"}}')
    tampered = b'{"participantToRemove": {"rawId": "8:acs:b"}}'
    headers["x-ms-content-sha256"] = sdk_sign("POST", target, tampered.decode())["x-ms-content-sha256"]
    with pytest.raises(AuthError, match="signature does not match"):
        verify("POST", target, headers, tampered)


@pytest.mark.parametrize(
    ("offset", "shown"), [(20 * 60, "20 minutes"), (-20 * 60, "20 minutes"), (901, "15 minutes 1 second")]
)
def test_date_outside_skew_is_rejected(offset: float, shown: str) -> None:
    target = "/calling/callConnections/cc1?api-version=2026-03-12"
    headers = sdk_sign("GET", target)
    expected = rf"x-ms-date is {shown} off the server clock \(allowed skew 15 minutes\)"
    with pytest.raises(AuthError, match=expected):
        verify("GET", target, headers, now=DATE_EPOCH + offset)


@pytest.mark.parametrize("offset", [-900, 14 * 60, 900])
def test_date_within_skew_is_accepted(offset: float) -> None:
    target = "/calling/callConnections/cc1?api-version=2026-03-12"
    assert verify("GET", target, sdk_sign("GET", target), now=DATE_EPOCH + offset) == "hmac"


def test_skew_is_configurable() -> None:
    target = "/calling/callConnections/cc1?api-version=2026-03-12"
    headers = sdk_sign("GET", target)
    with pytest.raises(AuthError, match=r"1 minute 1 second off the server clock \(allowed skew 1 minute\)"):
        verify_request("GET", target, headers, b"", KEY, DATE_EPOCH + 61, max_skew_seconds=60)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("authorization", "missing Authorization header"),
        ("x-ms-date", "missing x-ms-date header"),
        ("x-ms-content-sha256", "missing x-ms-content-sha256 header"),
        ("host", "missing Host header"),
    ],
)
def test_missing_header_is_named(missing: str, message: str) -> None:
    target = "/calling/callConnections/cc1?api-version=2026-03-12"
    headers = sdk_sign("GET", target)
    del headers[missing]
    with pytest.raises(AuthError, match=message):
        verify("GET", target, headers)


def test_bearer_token_is_accepted_without_hmac_headers() -> None:
    assert (
        verify("POST", "/calling:answer?api-version=2026-03-12", {"authorization": "Bearer eyJ0eXAi.x.y"}) == "bearer"
    )


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer   ", "bearer "])
def test_empty_bearer_token_is_rejected(authorization: str) -> None:
    with pytest.raises(AuthError, match="no token"):
        verify("GET", "/calling/callConnections/cc1", {"authorization": authorization})


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(AuthError, match="unsupported Authorization scheme 'Basic'"):
        verify("GET", "/calling/callConnections/cc1", {"authorization": "Basic dXNlcjpwYXNz"})


def _mutated(**changes: str) -> dict[str, str]:
    return {**GET_VECTOR[3], **changes}


GARBAGE = [
    _mutated(authorization="HMAC-SHA256"),
    _mutated(authorization="HMAC-SHA256 "),
    _mutated(authorization="HMAC-SHA256 &&&==&"),
    _mutated(authorization="HMAC-SHA256 Signature=GA9Ha2Dugwk6a7B4g8dkqkENiDlSGRAEUDvlpeLjaBo="),
    _mutated(authorization="HMAC-SHA256 SignedHeaders=host&Signature=GA9Ha2Dugwk6a7B4g8dkqkENiDlSGRAEUDvlpeLjaBo="),
    _mutated(authorization="HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=not base64!"),
    _mutated(authorization="HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=é√"),
    _mutated(authorization="HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="),
    _mutated(authorization="HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=AAA"),
    _mutated(authorization="\x00\xff"),
    _mutated(authorization="   "),
    _mutated(**{"x-ms-date": "yesterday"}),
    _mutated(**{"x-ms-date": "Thu, 99 Nov 2026 22:38:21 GMT"}),
    _mutated(**{"x-ms-date": "Thu, 26 Nov 99999 22:38:21 GMT"}),
    _mutated(**{"x-ms-date": "Thu, 26 Nov 2026 22:38:21 \ud800"}),
    _mutated(**{"x-ms-content-sha256": "ü"}),
    _mutated(host="ホスト:18080"),
    _mutated(host="\ud800"),
]


@pytest.mark.parametrize("headers", GARBAGE)
def test_garbage_is_refused_with_auth_error_only(headers: dict[str, str]) -> None:
    with pytest.raises(AuthError):
        verify("GET", "/calling/callConnections/cc1?api-version=2026-03-12", headers)


@pytest.mark.parametrize("target", ["", "\ud800/%ZZ?%", "/calling/%E0%A4%A/x?y=%ff", "////??", "\x00"])
def test_garbage_target_is_refused_with_auth_error_only(target: str) -> None:
    with pytest.raises(AuthError):
        verify("G\u00e9T", target, GET_VECTOR[3])


def test_random_header_values_raise_only_auth_error() -> None:
    chooser = random.Random(7)
    names = ["authorization", "x-ms-date", "x-ms-content-sha256", "host", "date"]
    prefixes = ["", "HMAC-SHA256 ", "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="]
    for _ in range(500):
        headers = {name: chooser.randbytes(chooser.randrange(40)).decode("latin-1") for name in names}
        headers["authorization"] = chooser.choice(prefixes) + headers["authorization"]
        with pytest.raises(AuthError):
            verify("POST", "/calling:answer", headers, chooser.randbytes(8))


# The real SDK clients, sync and async, against a local capture server.


@pytest.fixture(scope="module")
def capture_server() -> Iterator[tuple[str, list[Captured]]]:
    captured: list[Captured] = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            headers = {name.lower(): value for name, value in self.headers.items()}
            captured.append(Captured(self.command, self.path, headers, self.rfile.read(length)))
            reply = json.dumps({"error": {"code": "8522", "message": "Call not found."}}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_DELETE = answer  # noqa: N815 - the names http.server dispatches to

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", captured
    server.shutdown()
    server.server_close()
    thread.join()


TEAMS_USER = MicrosoftTeamsUserIdentifier("2b2ad3d3-5e7a-4e53-9f0b-5b2e1f0c2b39")
PHONE = PhoneNumberIdentifier("+14255550123")


def _drive_sync_client(endpoint: str) -> None:
    connection = CallAutomationClient(endpoint, AzureKeyCredential(ACCESS_KEY)).get_call_connection("cc1")
    for call in (
        lambda: connection.get_participant(TEAMS_USER),
        lambda: connection.get_participant(PHONE),
        lambda: connection.remove_participant(TEAMS_USER, operation_context="bye"),
        lambda: connection.transfer_call_to_participant(TEAMS_USER),
    ):
        with pytest.raises(HttpResponseError):
            call()


async def _drive_async_client(endpoint: str) -> None:
    async with AsyncCallAutomationClient(endpoint, AzureKeyCredential(ACCESS_KEY)) as client:
        connection = client.get_call_connection("cc1")
        for participant in (TEAMS_USER, PHONE):
            with pytest.raises(HttpResponseError):
                await connection.get_participant(participant)
        with pytest.raises(HttpResponseError):
            await connection.remove_participant(TEAMS_USER, operation_context="bye")


def test_real_sdk_requests_verify(capture_server: tuple[str, list[Captured]]) -> None:
    endpoint, captured = capture_server
    captured.clear()
    _drive_sync_client(endpoint)
    asyncio.run(_drive_async_client(endpoint))
    assert len(captured) == 7
    assert any(":orgid:" in request.target for request in captured), "async client should send ':' unescaped"
    now = RealClock().time()
    for request in captured:
        assert verify_request(request.method, request.target, request.headers, request.body, KEY, now) == "hmac"


def test_real_sdk_requests_fail_with_wrong_key(capture_server: tuple[str, list[Captured]]) -> None:
    endpoint, captured = capture_server
    captured.clear()
    asyncio.run(_drive_async_client(endpoint))
    now = RealClock().time()
    for request in captured:
        with pytest.raises(AuthError, match="signature does not match"):
            verify_request(request.method, request.target, request.headers, request.body, b"k" * 32 + b"!", now)
