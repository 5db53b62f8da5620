"""Operator actions on calls that cannot take them (ended, transferred, unknown, or ended in ACS before the service
heard of it) are refused with a 4xx that says why, never a 500; a call may be named by its call connection id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from callbridge.service.events import Event
from callbridge.service.settings import RoutingRule
from tests.support.flows import emulator_call, quiet_call, ringing, rule, settle, wait_toast
from tests.support.scenario import ALEX, CALLER, Cloud
from tests.support.service import ServiceEnv
from tests.support.signing import assert_error

StartService = Callable[..., ServiceEnv]
OUTSIDE_NUMBER = "+14255550199"


def no_routing(cloud: Cloud) -> list[RoutingRule]:
    return [rule(cloud, [], strategy="none")]


def ok(response: httpx.Response, status: int = 202) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return dict(response.json())


def ring_alex(env: ServiceEnv, key: str) -> dict[str, Any]:
    """Alex is rung into the call and lets it ring."""
    added = ok(env.api.post(f"/calls/{key}/participants", json={"user": "Alex Wilber", "timeoutSeconds": 180}))
    wait_toast(env.cloud, ALEX)
    return added


def operator_actions(env: ServiceEnv, call: str) -> dict[str, httpx.Response]:
    """Every operator action on ``call``, each aimed at someone it could apply to."""
    return {
        "add": env.api.post(f"/calls/{call}/participants", json={"user": "Art Anderson"}),
        "remove": env.api.delete(f"/calls/{call}/participants/{CALLER}"),
        "transfer": env.api.post(f"/calls/{call}/transfer", json={"target": OUTSIDE_NUMBER}),
        "cancel": env.api.post(f"/calls/{call}/invitations/Alex Wilber/cancel"),
        "hang-up": env.api.post(f"/calls/{call}/hang-up", json={}),
    }


def test_every_action_on_an_ended_call_is_409_and_the_call_can_still_be_read(
    cloud: Cloud, start_service: StartService
) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    ring_alex(env, key)
    ok(env.api.post(f"/calls/{key}/hang-up", json={}))
    env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end")

    refusals = {action: assert_error(r, 409, "Conflict")["message"] for action, r in operator_actions(env, key).items()}

    not_connected = "the call is ended, not connected"
    assert refusals == {
        "add": not_connected,
        "remove": not_connected,
        "transfer": not_connected,
        "cancel": not_connected,
        "hang-up": "the call is not active",
    }
    assert ok(env.api.get(f"/calls/{key}"), 200)["call"]["state"] == "ended"


def test_every_action_on_a_transferred_call_is_409(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    ok(env.api.post(f"/calls/{key}/transfer", json={"target": OUTSIDE_NUMBER, "wait": True}))
    env.wait_for(key, lambda d: d["call"]["state"] == "transferred", "the call to show as transferred")

    refusals = {action: assert_error(r, 409, "Conflict")["message"] for action, r in operator_actions(env, key).items()}

    assert set(refusals.values()) == {"the call is transferred, not connected", "the call is not active"}
    assert refusals["hang-up"] == "the call is not active"
    assert ok(env.api.get(f"/calls/{key}"), 200)["call"]["state"] == "transferred"


def test_every_action_on_an_unknown_call_is_404_naming_it(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))

    for action, response in {**operator_actions(env, "nope"), "get": env.api.get("/calls/nope")}.items():
        assert assert_error(response, 404, "NotFound")["message"] == "no call 'nope'", action


def test_a_call_can_be_named_by_its_call_connection_id(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    connection = env.call(key)["call"]["callConnectionId"]

    assert ok(env.api.get(f"/calls/{connection}"), 200)["call"]["callKey"] == key
    added = ring_alex(env, connection)
    cancelled = ok(env.api.post(f"/calls/{connection}/invitations/Alex Wilber/cancel"))
    assert cancelled["invitationId"] == added["invitationId"]
    env.wait_for(key, lambda d: ringing(env, key) == [], "nobody ringing")
    ok(env.api.post(f"/calls/{connection}/hang-up", json={}))
    env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end")
    audit = ok(env.api.get("/audit"), 200)["value"]
    assert [(a["action"], a["callKey"]) for a in audit[:3]] == [("terminate", key), ("cancel", key), ("add", key)]


def test_actions_on_a_call_acs_ended_before_the_service_heard_are_refused_with_acs_reason(
    cloud: Cloud, start_service: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's record still says connected (its CallDisconnected is on the way); ACS refuses, and so does
    the operator API: a 409 carrying ACS's words, not a 500."""
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    ring_alex(env, key)
    detail = env.call(key)["call"]
    bridge = env.service.service.bridge
    release = asyncio.Event()
    held: list[str] = []
    handle = bridge.callbacks

    async def held_callbacks(call_key: str, secret: str, events: list[Event]) -> None:
        if any(e.short_type == "CallDisconnected" for e in events):
            held.extend(e.short_type for e in events)
            await release.wait()
        await handle(call_key, secret, events)

    monkeypatch.setattr(bridge, "callbacks", held_callbacks)
    try:
        with cloud.client() as acs:
            acs.get_call_connection(detail["callConnectionId"]).hang_up(is_for_everyone=True)
        settle(lambda: emulator_call(cloud, detail["serverCallId"]) is None, "ACS to end the call")
        settle(lambda: held, "the service's CallDisconnected to be held")
        assert env.call(key)["call"]["state"] == "connected", "the service must not have heard yet"

        statuses = {action: r.status_code for action, r in operator_actions(env, key).items()}

        assert statuses == dict.fromkeys(statuses, 409), statuses
        refused = env.api.post(f"/calls/{key}/invitations/Alex Wilber/cancel")
        assert assert_error(refused, 409, "Conflict")["message"].endswith("has already been terminated. (400/8528)")
    finally:
        env.service.loop.run_sync(release.set)
    env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end")
    refused = env.api.post(f"/calls/{key}/invitations/Alex Wilber/cancel")
    assert assert_error(refused, 409, "Conflict")["message"] == "the call is ended, not connected"
