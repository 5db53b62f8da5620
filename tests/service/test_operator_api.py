"""The operator REST API end to end: people found by name, UPN, mail or object id are added, removed, transferred
to and un-rung; hang-ups; directory and presence; errors an operator (or their script) can act on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from callbridge.service.events import Event
from callbridge.service.settings import RoutingRule
from tests.support.flows import (
    emulator_call,
    holds_once_idle,
    phone_calls,
    quiet_call,
    raw_ids,
    ringing,
    rule,
    settle,
    summaries,
    teams_user,
    toasts,
    wait_toast,
)
from tests.support.scenario import ALEX, ART, CALLER, Cloud
from tests.support.service import ServiceEnv
from tests.support.signing import assert_error

StartService = Callable[..., ServiceEnv]

FORMS: dict[str, Callable[[dict[str, Any]], str]] = {
    "name": lambda user: str(user["displayName"]),
    "upn": lambda user: str(user["userPrincipalName"]),
    "mail": lambda user: str(user["mail"]),
    "object-id": lambda user: str(user["id"]),
}
PATTI = {
    "displayName": "Patti Fernandez",
    "mail": "patti@contoso.com",
    "answer": {"action": "accept", "afterSeconds": 0},
}
LEE = {"displayName": "Lee Gu", "mail": "lee.gu@contoso.com", "answer": {"action": "noAnswer"}}


def no_routing(cloud: Cloud) -> list[RoutingRule]:
    """Calls are answered and left to the operator; invitations say they come from Jack."""
    return [rule(cloud, [], strategy="none")]


def ok(response: httpx.Response, status: int = 202) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return dict(response.json())


def outcome_of(env: ServiceEnv, key: str, context: str) -> dict[str, Any]:
    """The outcome the service recorded for an operation, once it has one."""
    detail = env.wait_for(
        key, lambda d: any(o["operationContext"] == context for o in d["call"]["outcomes"]), f"the outcome of {context}"
    )
    return next(o for o in detail["call"]["outcomes"] if o["operationContext"] == context)


# ---------------------------------------------------------------------------------------------- identity forms


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_add_and_remove_by_each_identity_form_with_and_without_wait(
    cloud: Cloud, start_service: StartService, form: Callable[[dict[str, Any]], str]
) -> None:
    patti = teams_user(cloud, PATTI)
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)

    added = ok(env.api.post(f"/calls/{key}/participants", json={"user": form(patti), "wait": True}))
    assert added["target"] == "Patti Fernandez" and added["pending"] is False
    assert added["outcome"]["explanation"] == "Patti Fernandez joined"
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Patti Fernandez"], "Patti in the call")

    removed = ok(env.api.delete(f"/calls/{key}/participants/{form(patti)}"))
    assert removed["pending"] is True and removed["outcome"] is None and removed["target"] == "Patti Fernandez"
    env.wait_for(key, lambda d: env.people(key) == [CALLER], "Patti removed")
    assert outcome_of(env, key, removed["operationContext"])["explanation"] == "Patti Fernandez was removed"

    again = ok(env.api.post(f"/calls/{key}/participants", json={"user": form(patti)}))
    assert again["pending"] is True and again["invitationId"]
    assert outcome_of(env, key, again["operationContext"])["explanation"] == "Patti Fernandez joined"
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Patti Fernandez"], "Patti back in the call")
    removed = ok(env.api.delete(f"/calls/{key}/participants/{form(patti)}", params={"wait": True}))
    assert removed["outcome"]["explanation"] == "Patti Fernandez was removed"
    assert cloud.teams_client(patti["id"])["activeCall"] is None


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_cancel_by_each_identity_form_stops_the_ringing(
    cloud: Cloud, start_service: StartService, form: Callable[[dict[str, Any]], str]
) -> None:
    lee = teams_user(cloud, LEE)
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    added = ok(env.api.post(f"/calls/{key}/participants", json={"user": form(lee)}))
    wait_toast(cloud, lee["id"])

    cancelled = env.api.post(f"/calls/{key}/invitations/{form(lee)}/cancel")

    assert cancelled.status_code == 202, f"cancel by {form(lee)!r}: {cancelled.status_code} {cancelled.text}"
    assert cancelled.json()["target"] == "Lee Gu"
    assert cancelled.json()["invitationId"] == added["invitationId"]
    settle(lambda: toasts(cloud, lee["id"]) == [], "Lee's toast to be withdrawn")
    env.wait_for(key, lambda d: ringing(env, key) == [], "nobody ringing")


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_transfer_by_each_identity_form_hands_the_caller_over(
    cloud: Cloud, start_service: StartService, form: Callable[[dict[str, Any]], str]
) -> None:
    patti = teams_user(cloud, PATTI)
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    server_call_id = env.call(key)["call"]["serverCallId"]

    transferred = ok(env.api.post(f"/calls/{key}/transfer", json={"target": form(patti), "wait": True}))

    assert transferred["outcome"]["explanation"] == "transferred to Patti Fernandez"
    env.wait_for(key, lambda d: d["call"]["state"] == "transferred", "the call to show as transferred")
    call = settle(
        lambda: c if (c := emulator_call(cloud, server_call_id)) and not c["connections"] else None,
        "the app to leave the transferred call",
    )
    assert sorted(raw_ids(call)) == sorted([f"4:{CALLER}", f"8:orgid:{patti['id']}"])
    assert cloud.teams_client(patti["id"])["activeCall"]["serverCallId"] == server_call_id


def test_transfer_to_a_phone_number_without_waiting(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    server_call_id = env.call(key)["call"]["serverCallId"]

    transferred = ok(env.api.post(f"/calls/{key}/transfer", json={"target": "+14255550199"}))

    assert transferred["pending"] is True and transferred["target"] == "+14255550199"
    assert outcome_of(env, key, transferred["operationContext"])["explanation"] == "transferred to +14255550199"
    phones = settle(lambda: {p["phone"]: p["state"] for p in phone_calls(cloud, server_call_id)}, "the phones")
    assert phones == {CALLER: "connected", "+14255550199": "connected"}


# ---------------------------------------------------------------------------------------------- ringing, hanging up


def test_cancel_while_alex_rings_withdraws_his_toast_and_records_the_cancel(
    cloud: Cloud, start_service: StartService
) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    added = ok(env.api.post(f"/calls/{key}/participants", json={"user": "Alex Wilber", "sourceDisplayName": "Olivia"}))
    toast = wait_toast(cloud, ALEX)
    assert toast["sourceDisplayName"] == "Olivia"
    assert ringing(env, key) == ["Alex Wilber"]

    cancelled = ok(env.api.post(f"/calls/{key}/invitations/Alex Wilber/cancel"))

    assert cancelled["target"] == "Alex Wilber" and cancelled["invitationId"] == toast["invitationId"]
    settle(lambda: toasts(cloud, ALEX) == [], "Alex's toast to be withdrawn")
    detail = env.wait_for(key, lambda d: any(o["operation"] == "cancel" for o in d["call"]["outcomes"]), "the cancel")
    assert ringing(env, key) == []
    server_call = emulator_call(cloud, detail["call"]["serverCallId"])
    assert server_call is not None and server_call["invitations"] == []
    holds_once_idle(
        cloud,
        lambda: all(o["operation"] == "cancel" for o in env.outcomes(key)),
        what="no AddParticipantFailed for Alex",
    )
    (outcome,) = env.outcomes(key)
    assert outcome["succeeded"] is True
    assert added["operationContext"] != outcome["operationContext"]
    assert "operator: cancel Alex Wilber — requested" in summaries(detail)
    assert outcome["explanation"] == "stopped ringing Alex Wilber"


def test_hang_up_for_everyone_ends_the_callers_phone_call(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    server_call_id = env.call(key)["call"]["serverCallId"]

    assert ok(env.api.post(f"/calls/{key}/hang-up", json={})) == {"requested": True}

    env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end")
    assert settle(lambda: [p["state"] for p in phone_calls(cloud, server_call_id)] == ["ended"], "the phone to end")
    assert emulator_call(cloud, server_call_id) is None
    audit = ok(env.api.get("/audit"), 200)["value"]
    assert (audit[0]["action"], audit[0]["callKey"]) == ("terminate", key)


def test_hang_up_for_the_app_only_leaves_the_caller_and_art_talking(cloud: Cloud, start_service: StartService) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    server_call_id = env.call(key)["call"]["serverCallId"]
    ok(env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson", "wait": True}))

    assert ok(env.api.post(f"/calls/{key}/hang-up", json={"forEveryone": False})) == {"requested": True}

    env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the service's leg to end")
    call = settle(
        lambda: c if (c := emulator_call(cloud, server_call_id)) and not c["connections"] else None, "app gone"
    )
    assert sorted(raw_ids(call)) == sorted([f"4:{CALLER}", f"8:orgid:{ART}"])
    assert [p["state"] for p in phone_calls(cloud, server_call_id)] == ["connected"]
    assert ok(env.api.get("/audit"), 200)["value"][0]["action"] == "hang up"


# ---------------------------------------------------------------------------------------------- directory


def test_directory_search_lists_teams_users_with_their_presence(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))

    found = ok(env.api.get("/directory/users", params={"search": "A"}), 200)["value"]

    presence = {u["displayName"]: u["presence"] for u in found}
    assert set(presence) == {"Art Anderson", "Alex Wilber", "Grady Archie"}
    assert presence["Art Anderson"] == {"availability": "Available", "activity": "Available"}
    assert presence["Alex Wilber"] == {"availability": "Away", "activity": "Away"}
    art = next(u for u in found if u["displayName"] == "Art Anderson")
    assert (art["id"], art["userPrincipalName"]) == (ART, "artanderson@contoso.onmicrosoft.com")
    assert ok(env.api.get("/directory/users", params={"search": "Contoso"}), 200)["value"] == [], (
        "resource accounts (the support queue) are not offered as Teams users"
    )


def test_presence_shows_busy_in_a_call_while_art_is_in_one(cloud: Cloud, start_service: StartService) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)

    def presence(user: str) -> dict[str, str]:
        return dict(ok(env.api.get(f"/directory/users/{user}/presence"), 200)["presence"])

    assert presence("Art Anderson") == {"availability": "Available", "activity": "Available"}
    ok(env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson", "wait": True}))
    assert presence("artanderson@contoso.onmicrosoft.com") == {"availability": "Busy", "activity": "InACall"}
    searched = ok(env.api.get("/directory/users", params={"search": "Art"}), 200)["value"]
    assert [(u["displayName"], u["presence"]["activity"]) for u in searched] == [("Art Anderson", "InACall")]
    ok(env.api.delete(f"/calls/{key}/participants/Art Anderson", params={"wait": True}))
    assert presence(ART) == {"availability": "Available", "activity": "Available"}
    assert presence("Diego Siciliani") == {"availability": "Offline", "activity": "Offline"}


# ---------------------------------------------------------------------------------------------- errors


def test_unknown_calls_and_users_are_404_with_a_clear_message(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)

    assert "nope" in assert_error(env.api.get("/calls/nope"), 404, "NotFound")["message"]
    assert (
        "nope"
        in assert_error(env.api.post("/calls/nope/participants", json={"user": "Art"}), 404, "NotFound")["message"]
    )
    assert_error(env.api.post("/calls/nope/hang-up", json={}), 404, "NotFound")
    unknown = assert_error(env.api.post(f"/calls/{key}/participants", json={"user": "Nobody Atall"}), 404, "NotFound")
    assert "Nobody Atall" in unknown["message"]
    missing_id = "00000000-1111-4222-8333-444444444444"
    assert_error(env.api.post(f"/calls/{key}/participants", json={"user": missing_id}), 404, "NotFound")
    assert_error(env.api.get("/directory/users/nobody@contoso.onmicrosoft.com/presence"), 404, "NotFound")
    not_in_call = assert_error(env.api.delete(f"/calls/{key}/participants/Megan Bowen"), 404, "NotFound")
    assert not_in_call["message"] == "Megan Bowen is not in the call"
    assert "Megan" in assert_error(env.api.post(f"/calls/{key}/invitations/Megan/cancel"), 404, "NotFound")["message"]
    assert_error(env.api.get("/no/such/route"), 404, "NotFound")


def test_adding_someone_already_in_the_call_is_409(cloud: Cloud, start_service: StartService) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    ok(env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson", "wait": True}))
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art on the operator's roster")

    error = assert_error(env.api.post(f"/calls/{key}/participants", json={"user": ART}), 409, "Conflict")

    assert error["message"] == "Art Anderson is already in the call"
    assert env.people(key) == [CALLER, "Art Anderson"]


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}], ids=["missing", "wrong", "empty"])
def test_requests_without_the_right_api_key_are_401(
    cloud: Cloud, start_service: StartService, headers: dict[str, str]
) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    with httpx.Client(base_url=env.url + "/api", headers=headers) as anonymous:
        for response in (
            anonymous.get("/calls"),
            anonymous.get(f"/calls/{key}"),
            anonymous.post(f"/calls/{key}/participants", json={"user": "Art Anderson"}),
            anonymous.post(f"/calls/{key}/hang-up", json={}),
            anonymous.get("/directory/users", params={"search": "A"}),
            anonymous.get("/audit"),
        ):
            assert assert_error(response, 401, "Unauthorized")["message"] == "missing or wrong X-API-Key"
        assert anonymous.get("/health").json() == {"status": "ok"}
    holds_once_idle(cloud, lambda: toasts(cloud, ART) == [], what="nobody rung by an unauthorised request")
    assert env.call(key)["call"]["state"] == "connected"


@pytest.mark.parametrize(
    ("path", "body", "mentions"),
    [
        ("/participants", {}, "user"),
        ("/participants", {"user": ""}, "user"),
        ("/participants", {"user": "Art Anderson", "timeoutSeconds": 0}, "timeoutSeconds"),
        ("/participants", {"user": "Art Anderson", "wait": "sometimes"}, "wait"),
        ("/participants", "not json", "JSON"),
        ("/transfer", {"transferee": "Art Anderson"}, "target"),
        ("/hang-up", {"forEveryone": "yes please"}, "forEveryone"),
    ],
    ids=["no-user", "empty-user", "zero-timeout", "bad-wait", "not-json", "no-target", "bad-flag"],
)
def test_invalid_bodies_are_400_naming_the_field(
    cloud: Cloud, start_service: StartService, path: str, body: Any, mentions: str
) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    if isinstance(body, str):
        response = env.api.post(f"/calls/{key}{path}", content=body, headers={"Content-Type": "application/json"})
    else:
        response = env.api.post(f"/calls/{key}{path}", json=body)

    error = assert_error(response, 400, "BadRequest")

    assert mentions in error["message"], error
    assert env.call(key)["call"]["state"] == "connected" and env.people(key) == [CALLER]


def test_operating_on_a_call_that_is_not_connected_is_409(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    ok(env.api.post(f"/calls/{key}/hang-up", json={}))
    env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end")

    for response in (
        env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson"}),
        env.api.delete(f"/calls/{key}/participants/{CALLER}"),
        env.api.post(f"/calls/{key}/transfer", json={"target": "Art Anderson"}),
    ):
        assert assert_error(response, 409, "Conflict")["message"] == "the call is ended, not connected"
    assert assert_error(env.api.post(f"/calls/{key}/hang-up", json={}), 409, "Conflict")["message"] == (
        "the call is not active"
    )
    assert toasts(cloud, ART) == []


# ---------------------------------------------------------------------------------------------- the API's description


def test_openapi_document_lists_the_operator_routes(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=no_routing(cloud))

    document = httpx.get(env.url + "/api/openapi.json").json()

    routes = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert routes == {
        ("/api/health", "get"),
        ("/api/calls", "get"),
        ("/api/calls/{call}", "get"),
        ("/api/calls/{call}/participants", "post"),
        ("/api/calls/{call}/participants/{user}", "delete"),
        ("/api/calls/{call}/transfer", "post"),
        ("/api/calls/{call}/invitations/{who}/cancel", "post"),
        ("/api/calls/{call}/hang-up", "post"),
        ("/api/directory/users", "get"),
        ("/api/directory/users/{user}/presence", "get"),
        ("/api/audit", "get"),
    }
    schemes = document["components"]["securitySchemes"]
    assert [(s["type"], s["in"], s["name"]) for s in schemes.values()] == [("apiKey", "header", "X-API-Key")]
    add = document["paths"]["/api/calls/{call}/participants"]["post"]
    assert {"400", "401", "404", "409"} <= set(add["responses"])


def test_transfer_with_a_transferee_keeps_the_call_under_the_operators_control(
    cloud: Cloud, start_service: StartService
) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    server_call_id = env.call(key)["call"]["serverCallId"]
    ok(env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson", "wait": True}))
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art in the call")

    swapped = ok(
        env.api.post(
            f"/calls/{key}/transfer", json={"target": "+14255550199", "transferee": "Art Anderson", "wait": True}
        )
    )

    assert swapped["outcome"]["explanation"] == "transferred to +14255550199"

    def swapped_call() -> dict[str, Any] | None:
        call = emulator_call(cloud, server_call_id)
        present = set(raw_ids(call))
        return call if "4:+14255550199" in present and f"8:orgid:{ART}" not in present else None

    call = settle(swapped_call, "Art to be swapped for the number")
    assert set(raw_ids(call)) == {f"4:{CALLER}", "4:+14255550199", f"4:{cloud.number}"}  # the last is the app's leg
    assert [c["state"] for c in call["connections"]] == ["connected"], "the service's leg stays in the call"
    detail = env.wait_for(key, lambda d: env.people(key) == [CALLER, "+14255550199"], "the swap on the roster")
    assert detail["call"]["state"] == "connected"
    assert [c["callKey"] for c in env.calls()] == [key], "the call is still listed as active"
    ok(env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson", "wait": True}))


# ---------------------------------------------------------------------------------------------- roster lag


def test_remove_works_the_instant_acs_has_the_user_before_the_service_hears_of_it(
    cloud: Cloud, start_service: StartService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's roster follows callbacks; an operator acting on what ACS already knows is not refused."""
    patti = teams_user(cloud, PATTI)
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)
    bridge = env.service.service.bridge
    release = asyncio.Event()
    held: list[str] = []
    handle = bridge.callbacks

    async def held_callbacks(call_key: str, secret: str, events: list[Event]) -> None:
        if any(e.short_type in ("AddParticipantSucceeded", "ParticipantsUpdated") for e in events):
            held.extend(e.short_type for e in events)
            await release.wait()
        await handle(call_key, secret, events)

    monkeypatch.setattr(bridge, "callbacks", held_callbacks)
    server_call_id = env.call(key)["call"]["serverCallId"]
    try:
        ok(env.api.post(f"/calls/{key}/participants", json={"user": "Patti Fernandez"}))
        settle(lambda: f"8:orgid:{patti['id']}" in raw_ids(emulator_call(cloud, server_call_id)), "Patti joined in ACS")
        settle(lambda: held, "the service's callbacks to be held")
        assert env.people(key) == [CALLER], "the service must not have heard of Patti yet"

        removed = ok(env.api.delete(f"/calls/{key}/participants/Patti Fernandez"))

        assert removed["target"] == "Patti Fernandez"
        settle(lambda: f"8:orgid:{patti['id']}" not in raw_ids(emulator_call(cloud, server_call_id)), "Patti removed")
        env.service.loop.run_sync(release.set)
        assert outcome_of(env, key, removed["operationContext"])["explanation"] == "Patti Fernandez was removed"
        env.wait_for(key, lambda d: env.people(key) == [CALLER], "the roster to settle on the caller alone")
    finally:
        env.service.loop.run_sync(release.set)


def test_remove_of_someone_acs_does_not_have_is_still_refused(cloud: Cloud, start_service: StartService) -> None:
    teams_user(cloud, PATTI)
    env = start_service(routes=no_routing(cloud))
    key = quiet_call(env)

    refused = env.api.delete(f"/calls/{key}/participants/Patti Fernandez")

    assert assert_error(refused, 404, "NotFound")["message"] == "Patti Fernandez is not in the call"
