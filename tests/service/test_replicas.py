"""Two service replicas on one real Redis: each event is acted on once, whichever replica (or both) receives it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from callbridge.emulator.acs.callbacks import ISSUER
from callbridge.emulator.seed import ART_ANDERSON_ID, DEMO_NUMBER
from callbridge.service.settings import RoutingRule
from tests.support.fanout import FanOut
from tests.support.fixtures import StartService
from tests.support.scenario import CALLER, Cloud, eventually
from tests.support.service import ServiceEnv

ART_RAW = f"8:orgid:{ART_ANDERSON_ID}"


@pytest.fixture
def fanout() -> Iterator[FanOut]:
    with FanOut(copies=3) as proxy:
        yield proxy


def two_replicas(start_service: StartService, store_url: str, **settings: Any) -> tuple[ServiceEnv, ServiceEnv]:
    """Replicas A and B on one store, both subscribed to Event Grid, so every IncomingCall reaches both."""
    a = start_service(store_url=store_url, subscribe=False, **settings)
    b = start_service(store_url=store_url, subscribe=False, **settings)
    a.subscribe("replica-a")
    b.subscribe("replica-b")
    return a, b


def summaries(cloud: Cloud, kind: str, connection: str | None = None) -> list[str]:
    params = {"kind": kind} | ({"callConnectionId": connection} if connection else {})
    return [str(entry["summary"]) for entry in cloud.journal(**params)]


def art_rings(cloud: Cloud) -> list[str]:
    return [s for s in summaries(cloud, "call") if s.startswith(f"ringing {ART_RAW}")]


def art_toasts(cloud: Cloud) -> list[str]:
    return [s for s in summaries(cloud, "client") if s.startswith("Art Anderson: toast")]


def timeline(env: ServiceEnv, key: str) -> list[str]:
    return [str(entry["summary"]) for entry in env.call(key)["timeline"]]


def settled(env: ServiceEnv, key: str) -> dict[str, Any]:
    """The call's detail once Art has joined and the roster that shows him has been processed."""
    return env.wait_for(
        key,
        lambda d: [p["displayName"] for p in d["call"]["participants"] if not p["isApp"]] == [CALLER, "Art Anderson"],
        "Art Anderson in the call",
    )


def test_an_incoming_call_delivered_to_both_replicas_is_answered_once(
    start_service: StartService, fresh_redis: str
) -> None:
    a, b = two_replicas(start_service, fresh_redis)

    key = a.answered()
    settled(b, key)

    incoming = [s for s in summaries(a.cloud, "eventgrid") if s.startswith("IncomingCall → REPLICA")]
    assert sorted(incoming) == ["IncomingCall → REPLICA-A attempt 1: 200", "IncomingCall → REPLICA-B attempt 1: 200"]
    answers = [s for s in summaries(a.cloud, "request") if "callConnections:answer" in s]
    assert answers == ["POST /calling/callConnections:answer"], "the call must be answered by one replica only"
    assert len(art_rings(a.cloud)) == 1
    assert len(art_toasts(a.cloud)) == 1
    assert [c["callKey"] for c in a.calls()] == [c["callKey"] for c in b.calls()] == [key]
    assert timeline(a, key).count(f"IncomingCall from {CALLER} to {DEMO_NUMBER}") == 1


def test_simultaneous_calls_to_both_replicas_are_each_answered_once(
    start_service: StartService, fresh_redis: str
) -> None:
    answer_only = [RoutingRule(number=DEMO_NUMBER, strategy="none")]
    a, b = two_replicas(start_service, fresh_redis, routes=answer_only)
    callers = [f"+1425555{n:04d}" for n in range(5)]

    for caller in callers:
        a.dial(caller)

    def five_connected() -> list[dict[str, Any]] | None:
        calls = b.calls()
        return calls if sum(c["state"] == "connected" for c in calls) == 5 else None

    connected = eventually(five_connected, what="five connected calls")

    assert sorted(c["caller"] for c in connected) == callers
    answers = [s for s in summaries(a.cloud, "request") if "callConnections:answer" in s]
    assert len(answers) == 5, answers
    assert len({c["callConnectionId"] for c in connected}) == 5


def test_every_callback_delivered_to_both_replicas_three_times_changes_the_call_once(
    start_service: StartService, fresh_redis: str, fanout: FanOut
) -> None:
    """Each callback reaches A, B, A, B, A, B concurrently (valid JWT each time); Art is rung once, joins once."""
    a, b = two_replicas(start_service, fresh_redis, public_base_url=fanout.url)
    fanout.replicas = [a.url, b.url]

    key = a.answered()
    detail = settled(a, key)
    connection = str(detail["call"]["callConnectionId"])
    eventually(lambda: len(summaries(a.cloud, "callback", connection)) >= 4, what="the final roster callback")
    a.cloud.idle()  # every copy handled: the proxy answers the local cloud only after all six

    forwarded = fanout.forwarded()
    assert {"CallConnected", "AddParticipantSucceeded", "ParticipantsUpdated"} <= {
        t for f in forwarded for t in f.event_types
    }
    for delivery in forwarded:
        assert sorted(status for _, status in delivery.statuses) == [200] * 6, (delivery.event_types, delivery.statuses)
        assert {replica for replica, _ in delivery.statuses} == {a.url, b.url}
    assert len(art_rings(a.cloud)) == 1, art_rings(a.cloud)
    assert len(art_toasts(a.cloud)) == 1, art_toasts(a.cloud)
    adds = [s for s in summaries(a.cloud, "request", connection) if s.endswith("/participants:add")]
    assert len(adds) == 1, adds
    outcomes = a.outcomes(key)
    assert [(o["operation"], o["explanation"]) for o in outcomes] == [("add", "Art Anderson joined")]
    lines = timeline(a, key)
    assert lines.count("call connected") == 1, lines
    assert lines.count("AddParticipantSucceeded: Art Anderson joined") == 1, lines
    assert lines.count("ringing Art Anderson") == 1, lines
    assert a.call(key) == b.call(key)
    assert art_client_roster(a.cloud) == [CALLER, "Art Anderson"]


def test_replayed_callbacks_sent_alternately_to_both_replicas_change_nothing(
    start_service: StartService, fresh_redis: str
) -> None:
    """ACS redelivers: every event of a settled call is posted again, 3 times to each replica, concurrently."""
    a, b = two_replicas(start_service, fresh_redis)
    key = a.answered()
    connection = str(settled(a, key)["call"]["callConnectionId"])
    eventually(lambda: len(summaries(a.cloud, "callback", connection)) >= 4, what="the final roster callback")
    before = a.call(key)
    delivered = a.cloud.journal(kind="callback", callConnectionId=connection)
    events = [entry["detail"]["event"] for entry in delivered]
    path = urlsplit(delivered[0]["detail"]["url"]).path
    token = mint_callback_token(a.cloud)

    statuses = asyncio.run(replay([a.url, b.url], path, events, token, copies=3))

    assert statuses == [200] * (len(events) * 6)
    assert len(art_rings(a.cloud)) == 1
    assert len(art_toasts(a.cloud)) == 1
    assert a.call(key) == before, "a redelivered event changed the call"
    assert b.call(key) == before


def test_an_operator_on_replica_a_gets_the_outcome_that_replica_b_receives(
    start_service: StartService, fresh_redis: str
) -> None:
    """Callbacks go to B only; remove and add with wait=true through A still return their outcomes promptly."""
    b = start_service(store_url=fresh_redis, subscribe=False)
    a = start_service(store_url=fresh_redis, subscribe=False, public_base_url=b.url)
    a.subscribe("replica-a")
    key = a.answered()
    settled(a, key)
    callback_urls = {entry["detail"]["url"] for entry in a.cloud.journal(kind="callback")}
    assert callback_urls and all(url.startswith(b.url + "/callbacks/") for url in callback_urls), callback_urls

    # each request gives up after 10 s: without pub/sub across replicas, a wait would only end after 60 s
    removed = a.cloud.ok(
        a.api.delete(f"/calls/{key}/participants/Art Anderson", params={"wait": True}, timeout=10)
    ).json()
    a.wait_for(key, lambda d: len(d["call"]["participants"]) == 2, "the roster without Art")
    added = a.cloud.ok(
        a.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson", "wait": True}, timeout=10)
    ).json()

    assert removed["pending"] is False and removed["outcome"]["explanation"] == "Art Anderson was removed"
    assert added["pending"] is False
    assert added["outcome"]["succeeded"] is True and added["outcome"]["explanation"] == "Art Anderson joined"
    settled(b, key)
    assert a.call(key) == b.call(key)


# ---------------------------------------------------------------------- helpers


def art_client_roster(cloud: Cloud) -> list[str]:
    client = cloud.teams_client(ART_ANDERSON_ID)
    return [p["displayName"] for p in (client.get("activeCall") or {}).get("roster", [])]


def mint_callback_token(cloud: Cloud) -> str:
    """A callback JWT exactly as the local cloud signs them (its own key, issuer and audience)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": cloud.resource_id, "iat": now, "nbf": now, "exp": now + 300}
    return cloud.emulator.cloud.signing_key.sign(claims)


async def replay(replicas: list[str], path: str, events: list[dict[str, Any]], token: str, copies: int) -> list[int]:
    """Post each event ``copies`` times to every replica, interleaved and concurrently; the statuses."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(replica: str, event: dict[str, Any]) -> int:
            response = await client.post(replica + path, json=[event], headers=headers)
            return response.status_code

        statuses: list[int] = []
        for event in events:
            sends = [post(replica, event) for _ in range(copies) for replica in replicas]
            statuses.extend(await asyncio.gather(*sends))
        return statuses
