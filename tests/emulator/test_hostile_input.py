"""Hostile bodies get each service's 400 or 413 envelope, never a 500, and the journal keeps serving valid JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.graph.support import raw_graph
from tests.support.scenario import Cloud
from tests.support.signing import RawAcs

HOSTILE = {
    "deep nesting": b"[" * 50_000 + b"]" * 50_000,
    "deep objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "huge integer": b'{"seconds": ' + b"9" * 5_000 + b"}",
    "infinity": b'{"seconds": 1e999, "callbackUri": 1e999}',
    "nan": b'{"seconds": NaN}',
    "lone surrogate": b'{"displayName": "\\ud800", "callbackUri": "\\udfff", "\\ud800": 1}',
    "wrong types": b'{"targets": 5, "callbackUri": {"a": [1]}, "displayName": [], "name": 1, "value": [1, "x"]}',
    "array": b"[1, 2, 3]",
    "string": b'"just a string"',
    "not json": b"{not json",
    "invalid utf-8": b'{"displayName": "\xff\xfe"}',
    "oversized": b'{"displayName": "' + b"x" * (2 * 1024 * 1024) + b'"}',
}

ACS = [
    ("POST", "/calling/callConnections"),
    ("POST", "/calling/callConnections:answer"),
    ("POST", "/calling/callConnections:redirect"),
    ("POST", "/calling/callConnections/no-such-call/participants:add"),
    ("POST", "/calling/callConnections/no-such-call:play"),
    ("POST", "/calling/recordings"),
]
GRAPH = [("POST", "/communications/getPresencesByUserId"), ("GET", "/users")]
CONTROL = [
    ("POST", "/teams/users"),
    ("PATCH", "/teams/users/no-such-user"),
    ("POST", "/teams/groups"),
    ("PUT", "/teams/acs-federation"),
    ("POST", "/teams/external-access-policies"),
    ("POST", "/teams/external-access-policies:grant"),
    ("PATCH", "/teams/settings"),
    ("POST", "/entra/apps"),
    ("POST", "/phone-numbers"),
    ("POST", "/eventgrid/subscriptions"),
    ("POST", "/pstn/calls"),
    ("PUT", "/endpoints/rules"),
    ("POST", "/media/recognize-results"),
    ("POST", "/clock:advance"),
]


@pytest.fixture
def raw(cloud: Cloud) -> Iterator[RawAcs]:
    with RawAcs(cloud.connection_string, cloud.ca_path) as client:
        yield client


def _refused(response: httpx.Response, what: str) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert isinstance(body, dict), f"{what}: {body}"
    return body


def _answered(response: httpx.Response, what: str) -> dict[str, Any] | None:
    """A lenient endpoint may accept a body of wrong types (it ignores unknown fields); none answers >= 500."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    return _refused(response, what) if response.status_code >= 400 else None


def _strict(text: str) -> object:
    """JSON as a browser reads it: no NaN or Infinity."""

    def refuse(constant: str) -> object:
        raise AssertionError(f"the journal served {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_get_each_services_error_envelope(cloud: Cloud, raw: RawAcs, name: str) -> None:
    content = HOSTILE[name]
    for method, path in ACS:
        body = _refused(raw.request(method, path, content=content), f"ACS {method} {path} ({name})")
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    with raw_graph(cloud) as graph:
        for method, path in GRAPH:
            if method == "GET":
                continue
            sent = graph.request(method, path, content=content, headers={"Content-Type": "application/json"})
            body = _refused(sent, f"Graph {method} {path} ({name})")
            assert {"code", "message", "innerError"} <= set(body["error"]), body
    tenant = cloud.info["graph"]["tenantId"]
    token_url = f"{cloud.emulator.cloud.urls.http}/{tenant}/oauth2/v2.0/token"
    for content_type in ("application/json", "application/x-www-form-urlencoded"):
        sent = httpx.post(token_url, content=content, headers={"Content-Type": content_type}, timeout=30)
        body = _refused(sent, f"Entra token ({content_type}, {name})")
        assert body["error"] == "invalid_request" and body["error_codes"], body
    for method, path in CONTROL:
        sent = cloud.control.request(method, path, content=content, headers={"Content-Type": "application/json"})
        body = _answered(sent, f"control {method} {path} ({name})")
        assert body is None or (set(body) == {"error"} and {"code", "message"} <= set(body["error"])), body


def test_the_cloud_keeps_serving_and_the_journal_stays_valid_json(cloud: Cloud, raw: RawAcs) -> None:
    for content in HOSTILE.values():
        raw.post("/calling/callConnections", content=content)
        cloud.control.post("/teams/users", content=content)
    with raw_graph(cloud) as graph:
        for content in HOSTILE.values():
            graph.post("/communications/getPresencesByUserId", content=content)
        assert graph.get("/users").status_code == 200
    journal = cloud.control.get("/journal")
    assert journal.status_code == 200
    entries = _strict(journal.text)["value"]  # type: ignore[index]
    assert entries, "the hostile requests were journaled"
    kept = [e["detail"].get("body") for e in entries if e["kind"] == "request"]
    cut = [body for body in kept if isinstance(body, dict) and body.get("truncated")]
    assert cut and all(len(body["text"]) <= 16 * 1024 for body in cut), "the journal caps the bodies it keeps"
    assert max(body["bytes"] for body in cut) > 2 * 1024 * 1024
    latest = entries[-1]["seq"]
    with cloud.control.stream("GET", "/events", timeout=30) as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                entry = _strict(line.removeprefix("data: "))
                if entry["seq"] >= latest:  # type: ignore[index]
                    break
    assert cloud.control.get("/info").status_code == 200
    assert raw.get("/calling/callConnections/no-such-call").status_code == 404
