"""What reaches the service from outside: ACS callbacks must prove they come from ACS for this very call, and
Event Grid deliveries are handled exactly once however often, in whatever batches and schema they arrive."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from callbridge.service.calls import Answered
from callbridge.service.models import CallRecord, CallState
from callbridge.service.settings import REAL_CALLBACK_ISSUER
from tests.support.flows import (
    emulator_call,
    explanations,
    holds_once_idle,
    requests_named,
    rule,
    settle,
    stored_call,
    summaries,
)
from tests.support.scenario import ART, CALLER, Cloud
from tests.support.service import ServiceEnv
from tests.support.signing import assert_error

StartService = Callable[..., ServiceEnv]
MALLORY = "8:orgid:0badc0de-0000-4000-8000-000000000bad"


@pytest.fixture
def quiet(cloud: Cloud, start_service: StartService) -> ServiceEnv:
    """A service that answers calls and leaves them alone (nothing changes unless someone makes it)."""
    return start_service(routes=[rule(cloud, [], strategy="none")])


# ---------------------------------------------------------------------------------------------- callbacks


def claims(cloud: Cloud, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"iss": REAL_CALLBACK_ISSUER, "aud": cloud.resource_id, "iat": now, "nbf": now}
    base["exp"] = now + 300
    base.update(changes)
    return base


def acs_token(cloud: Cloud, **changes: Any) -> str:
    """A token signed with the local cloud's real callback key (the one its JWKS publishes)."""
    return cloud.emulator.cloud.signing_key.sign(claims(cloud, **changes))


def forged_token(cloud: Cloud, same_kid: bool = True) -> str:
    """Right claims, signed with a throwaway key (optionally claiming the real key's id)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = cloud.emulator.cloud.signing_key.kid if same_kid else "not-a-published-key"
    return jwt.encode(claims(cloud), key, algorithm="RS256", headers={"kid": kid})


def unsigned_token(cloud: Cloud) -> str:
    return jwt.encode(claims(cloud), "", algorithm="none", headers={"kid": cloud.emulator.cloud.signing_key.kid})


def hijack(record: CallRecord) -> list[dict[str, Any]]:
    """Events that would put Mallory in the call and then end it, if the service believed them."""
    ids = {
        "callConnectionId": record.call_connection_id,
        "serverCallId": record.server_call_id,
        "correlationId": record.correlation_id,
    }
    subject = f"calling/callConnections/{record.call_connection_id}"

    def event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "source": subject,
            "subject": subject,
            "type": f"Microsoft.Communication.{kind}",
            "specversion": "1.0",
            "time": "2026-01-01T00:00:00Z",
            "data": {**ids, **data},
        }

    participants = [
        {"identifier": {"rawId": f"4:{CALLER}", "kind": "phoneNumber", "phoneNumber": {"value": CALLER}}},
        {"identifier": {"rawId": MALLORY, "kind": "microsoftTeamsUser", "microsoftTeamsUser": {"userId": MALLORY[8:]}}},
    ]
    return [
        event("ParticipantsUpdated", {"sequenceNumber": 1000, "participants": participants}),
        event("CallDisconnected", {"resultInformation": {"code": 200, "subCode": 0, "message": "forged"}}),
    ]


def post_callback(env: ServiceEnv, path: str, events: list[dict[str, Any]], token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(env.url + path, json=events, headers=headers)


BAD_CALLBACKS: dict[str, Callable[[Cloud], dict[str, Any]]] = {
    "signed-with-another-key": lambda cloud: {"token": forged_token(cloud)},
    "unknown-key-id": lambda cloud: {"token": forged_token(cloud, same_kid=False)},
    "unsigned-alg-none": lambda cloud: {"token": unsigned_token(cloud)},
    "expired": lambda cloud: {"token": acs_token(cloud, iat=int(time.time()) - 900, exp=int(time.time()) - 600)},
    "not-yet-valid": lambda cloud: {"token": acs_token(cloud, nbf=int(time.time()) + 600)},
    "foreign-audience": lambda cloud: {"token": acs_token(cloud, aud=str(uuid.uuid4()))},
    "foreign-issuer": lambda cloud: {"token": acs_token(cloud, iss="https://login.example.com")},
    "no-authorization": lambda cloud: {"token": None},
    "not-a-jwt": lambda cloud: {"token": "hello"},
    "wrong-secret": lambda cloud: {"token": acs_token(cloud), "secret": "guessed-secret"},
    "secret-of-another-call": lambda cloud: {"token": acs_token(cloud), "other_call": True},
}


@pytest.mark.parametrize("bad", BAD_CALLBACKS.values(), ids=BAD_CALLBACKS.keys())
def test_unverifiable_callbacks_are_refused_and_change_nothing(
    cloud: Cloud, quiet: ServiceEnv, bad: Callable[[Cloud], dict[str, Any]]
) -> None:
    env = quiet
    key = env.answered()
    env.wait_for(key, lambda d: env.people(key) == [CALLER], "the caller on the roster")
    record = stored_call(env, key)
    case = bad(cloud)
    secret = case.get("secret", record.secret)
    if case.get("other_call"):
        other = env.answered(caller="+14255550188")
        secret = stored_call(env, other).secret
    before = env.call(key)

    response = post_callback(env, f"/callbacks/{key}/{secret}", hijack(record), case["token"])

    assert_error(response, 401, "Unauthorized")
    holds_once_idle(cloud, lambda: env.call(key) == before, what="the call exactly as it was")
    assert env.people(key) == [CALLER] and before["call"]["state"] == "connected"
    # The same events, verifiable and for the right call, would have changed everything:
    accepted = post_callback(env, f"/callbacks/{key}/{record.secret}", hijack(record), acs_token(cloud))
    assert accepted.status_code == 200, accepted.text
    after = env.call(key)
    assert after["call"]["state"] == "ended" and MALLORY in [p["rawId"] for p in after["call"]["participants"]]


def test_a_callback_for_an_unknown_call_is_refused(cloud: Cloud, quiet: ServiceEnv) -> None:
    env = quiet
    key = env.answered()
    record = stored_call(env, key)

    response = post_callback(env, f"/callbacks/{uuid.uuid4().hex}/{record.secret}", hijack(record), acs_token(cloud))

    assert_error(response, 401, "Unauthorized")
    assert env.call(key)["call"]["state"] == "connected"


# ---------------------------------------------------------------------------------------------- Event Grid


@pytest.fixture
def unsubscribed(cloud: Cloud, start_service: StartService) -> ServiceEnv:
    """A service Event Grid does not know about: the test delivers what the stand-in app received."""
    return start_service(routes=[rule(cloud, [], strategy="none")], subscribe=False)


def incoming_call(cloud: Cloud, caller: str = CALLER) -> dict[str, Any]:
    """A real IncomingCall event (Event Grid schema), as the subscribed stand-in app received it."""
    return cloud.incoming_call(caller)


def deliver(env: ServiceEnv, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(env.url + "/eventgrid", content=content, headers={"Content-Type": "application/json"})


def answers(cloud: Cloud) -> int:
    return len(requests_named(cloud, "AnswerCall"))


def connected_callers(env: ServiceEnv) -> list[str]:
    return sorted(c["caller"] for c in env.calls() if c["state"] == "connected")


def test_a_duplicate_delivery_is_answered_once(cloud: Cloud, unsubscribed: ServiceEnv) -> None:
    env = unsubscribed
    event = incoming_call(cloud)

    first, second = deliver(env, [event]), deliver(env, [event])

    assert (first.status_code, second.status_code) == (200, 200)
    settle(lambda: connected_callers(env) == [CALLER], "the call to be answered")
    assert deliver(env, [event]).status_code == 200  # and once more, after the answer
    holds_once_idle(cloud, lambda: answers(cloud) == 1, what="exactly one AnswerCall")
    assert len(env.calls()) == 1


def test_concurrent_duplicate_deliveries_are_answered_once(cloud: Cloud, unsubscribed: ServiceEnv) -> None:
    env = unsubscribed
    body = json.dumps([incoming_call(cloud)]).encode()

    async def burst() -> list[int]:
        async with httpx.AsyncClient() as client:
            replies = await asyncio.gather(*(client.post(env.url + "/eventgrid", content=body) for _ in range(5)))
        return [r.status_code for r in replies]

    assert asyncio.run(burst()) == [200] * 5
    settle(lambda: connected_callers(env) == [CALLER], "the call to be answered")
    holds_once_idle(cloud, lambda: answers(cloud) == 1, what="exactly one AnswerCall")


def test_a_batch_of_two_incoming_calls_answers_both(cloud: Cloud, unsubscribed: ServiceEnv) -> None:
    env = unsubscribed
    batch = [incoming_call(cloud, "+14255550101"), incoming_call(cloud, "+14255550102")]

    assert deliver(env, batch).status_code == 200

    settle(lambda: connected_callers(env) == ["+14255550101", "+14255550102"], "both calls answered")
    assert answers(cloud) == 2


def test_a_redelivery_with_a_new_event_id_but_the_same_call_is_not_answered_again(
    cloud: Cloud, unsubscribed: ServiceEnv
) -> None:
    env = unsubscribed
    event = incoming_call(cloud)
    assert deliver(env, [event]).status_code == 200
    settle(lambda: connected_callers(env) == [CALLER], "the call to be answered")

    again = copy.deepcopy(event)
    again["id"] = str(uuid.uuid4())
    assert deliver(env, [again]).status_code == 200

    holds_once_idle(cloud, lambda: answers(cloud) == 1, what="exactly one AnswerCall")
    assert len(env.calls(active=False)) == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b"42", b'"IncomingCall"', b"null", b"{}", b"[1, 2]", b'[{"eventType": "x"}]'],
    ids=["broken-json", "not-utf8", "number", "string", "null", "empty-object", "array-of-numbers", "no-data"],
)
def test_bodies_that_are_not_event_batches_are_400_with_a_json_error(unsubscribed: ServiceEnv, body: bytes) -> None:
    response = deliver(unsubscribed, body)

    error = assert_error(response, 400, "BadRequest")
    assert error["message"]


def test_the_cloudevents_schema_handshake_and_delivery(cloud: Cloud, unsubscribed: ServiceEnv) -> None:
    env = unsubscribed
    preflight = httpx.options(env.url + "/eventgrid", headers={"WebHook-Request-Origin": "eventgrid.azure.net"})
    assert preflight.status_code == 200
    assert preflight.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"

    subscribed = cloud.control.post(
        "/eventgrid/subscriptions",
        json={"name": "callbridge-ce", "endpoint": env.url + "/eventgrid", "schema": "CloudEventSchemaV1_0"},
    )
    assert subscribed.status_code == 201, subscribed.text
    steps = [
        e["summary"] for e in cloud.journal(kind="eventgrid") if e["detail"].get("subscription") == "callbridge-ce"
    ]
    assert any(step.startswith("OPTIONS preflight") and ": 200" in step for step in steps), steps
    cloud.dial()

    settle(lambda: connected_callers(env) == [CALLER], "the call to be answered through the CloudEvents delivery")
    delivered = [
        e
        for e in cloud.journal(kind="eventgrid")
        if e["detail"].get("subscription") == "callbridge-ce"
        and e["detail"].get("eventType") == "Microsoft.Communication.IncomingCall"
    ]
    assert [e["detail"]["status"] for e in delivered] == [200]
    assert answers(cloud) == 1


# ---------------------------------------------------------------------------------------------- events before responses


class HeldResponses:
    """Hold the service's Call Automation responses until the events they cause have been handled, so events
    arrive before the HTTP response of the request that caused them (as they often do on Azure)."""

    def __init__(self, env: ServiceEnv) -> None:
        self.service = env.service.service
        self.overtaken: list[str] = []

    async def _until(self, call_key: str | None, done: Callable[[CallRecord], bool], what: str) -> None:
        store = self.service.store
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            record = await store.get_call(call_key) if call_key else None
            if record is not None and done(record):
                self.overtaken.append(what)
                return
            await asyncio.sleep(0.01)

    def answers(self) -> None:
        control = self.service.control
        answer = control.answer

        async def answer_late(incoming_call_context: str, callback_url: str, operation_context: str) -> Answered:
            result = await answer(incoming_call_context, callback_url, operation_context)
            call_key = callback_url.split("/callbacks/", 1)[1].split("/", 1)[0]
            await self._until(call_key, lambda r: r.state is CallState.CONNECTED, "CallConnected")
            return result

        control.answer = answer_late  # type: ignore[method-assign]

    def adds(self) -> None:
        control, store = self.service.control, self.service.store
        add = control.add_teams_user

        async def add_late(
            call_connection_id: str,
            user_id: str,
            source_display_name: str | None,
            timeout_seconds: int,
            operation_context: str,
        ) -> str:
            invitation_id = await add(
                call_connection_id, user_id, source_display_name, timeout_seconds, operation_context
            )
            record = await store.find_call(call_connection_id)
            await self._until(
                record.call_key if record else None,
                lambda r: any(o.operation_context == operation_context for o in r.outcomes),
                f"outcome of {operation_context}",
            )
            return invitation_id

        control.add_teams_user = add_late  # type: ignore[method-assign]


@pytest.fixture
def service_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="callbridge"):
        yield caplog


def misses(logs: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in logs.records
        if r.name.startswith("callbridge.service") and (r.levelno >= logging.WARNING or "unknown" in r.getMessage())
    ]


def test_call_connected_before_the_answer_response_still_starts_routing(
    cloud: Cloud, start_service: StartService, service_logs: pytest.LogCaptureFixture
) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env = start_service(routes=[rule(cloud, ["Art Anderson"])])
    held = HeldResponses(env)
    held.answers()

    key = env.answered()
    detail = env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art in the call")

    assert held.overtaken == ["CallConnected"], "the event must have been handled before the answer returned"
    lines = summaries(detail)
    assert lines.index("call connected") < lines.index("answered (first-available)")
    assert explanations(detail) == ["Art Anderson joined"]
    server_call = emulator_call(cloud, detail["call"]["serverCallId"])
    assert server_call is not None
    assert [c["callConnectionId"] for c in server_call["connections"]] == [detail["call"]["callConnectionId"]]
    assert answers(cloud) == 1
    assert misses(service_logs) == []


def test_add_outcomes_that_arrive_before_the_add_response_settle_the_right_operation(
    cloud: Cloud, quiet: ServiceEnv, service_logs: pytest.LogCaptureFixture
) -> None:
    env = quiet
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    held = HeldResponses(env)
    held.adds()
    key = env.answered()

    waited = env.api.post(f"/calls/{key}/participants", json={"user": "Isaiah Langer", "wait": True}).json()
    started = env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson"}).json()
    detail = env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art in the call")

    assert len(held.overtaken) == 2, "both outcomes must have been handled before their add responses returned"
    assert waited["outcome"]["operationContext"] == waited["operationContext"]
    assert waited["outcome"]["explanation"].startswith("Isaiah Langer's external access policy blocks calls from ACS")
    assert "-Identity isaiahlanger@contoso.onmicrosoft.com" in waited["outcome"]["explanation"]
    outcomes = {o["operationContext"]: (o["target"], o["succeeded"]) for o in detail["call"]["outcomes"]}
    assert outcomes == {
        waited["operationContext"]: ("Isaiah Langer", False),
        started["operationContext"]: ("Art Anderson", True),
    }
    assert detail["call"]["invitations"] == {}, "no invitation may be left dangling"
    assert misses(service_logs) == []
