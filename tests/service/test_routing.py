"""Routing rules end to end, on a local cloud whose clock the test moves: who is rung, in which order, what the
operator reads when someone does not come, and what happens to the caller when nobody does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from callbridge.service.settings import Fallback
from tests.support.flows import (
    GRADY,
    ISAIAH,
    NESTOR,
    OUTSIDE_NUMBER,
    PRADEEP,
    SOURCE_NAME,
    ServiceStarter,
    emulator_call,
    explanations,
    holds_once_idle,
    phone_calls,
    raw_ids,
    requests_named,
    ringing,
    rule,
    settle,
    summaries,
    teams_user,
    toasts,
    toasts_shown,
    wait_toast,
)
from tests.support.scenario import ALEX, ART, CALLER, DIEGO, LYNNE, MEGAN, Cloud
from tests.support.service import ServiceEnv

Start = Callable[..., ServiceEnv]
UPN = "{}@contoso.onmicrosoft.com"


@pytest.fixture
def start(virtual_cloud: Cloud, tmp_path: Path) -> Iterator[Start]:
    """Services wired to the virtual-clock cloud: user answering delays and ring timeouts pass on ``advance``."""
    with ServiceStarter(virtual_cloud, tmp_path) as starter:
        yield starter.start


def in_order(lines: list[str], expected: list[str]) -> bool:
    """``expected`` appear in ``lines`` in this order (other lines may come between)."""
    remaining = iter(lines)
    return all(any(line == wanted for line in remaining) for wanted in expected)


def art_joins(cloud: Cloud, env: ServiceEnv, key: str) -> dict[str, Any]:
    """Art's client rings; a second later he accepts and the operator sees him in the call."""
    wait_toast(cloud, ART)
    cloud.advance(1)
    cloud.idle()
    detail = env.call(key)
    assert env.people(key) == [CALLER, "Art Anderson"], summaries(detail)
    return detail


def test_first_available_rings_each_target_in_turn_until_art_answers(virtual_cloud: Cloud, start: Start) -> None:
    cloud = virtual_cloud
    env = start([rule(cloud, ["Megan Bowen", "Alex Wilber", "Art Anderson"], ring_timeout_seconds=20)])
    key = env.answered()

    assert wait_toast(cloud, MEGAN)["sourceDisplayName"] == SOURCE_NAME
    assert toasts(cloud, ALEX) == [] and toasts(cloud, ART) == [], "first-available rings one target at a time"
    cloud.advance(1)  # Megan declines
    wait_toast(cloud, ALEX)
    assert ringing(env, key) == ["Alex Wilber"]
    cloud.advance(19)  # Alex lets it ring: still ringing just before the rule's 20 s
    holds_once_idle(
        cloud, lambda: len(toasts(cloud, ALEX)) == 1 and toasts(cloud, ART) == [], what="Alex ringing alone"
    )
    cloud.advance(1)  # the ring timeout: 487/10004
    detail = art_joins(cloud, env, key)

    assert toasts(cloud, ALEX) == [], "Alex's toast is taken down when his invitation times out"
    assert explanations(detail) == [
        "Megan Bowen declined (603)",
        "Alex Wilber did not answer in time (487/10004)",
        "Art Anderson joined",
    ]
    assert detail["call"]["routing"]["answeredBy"] == "Art Anderson"
    assert in_order(
        summaries(detail),
        [
            "ringing Megan Bowen",
            "AddParticipantFailed: Megan Bowen declined (603)",
            "ringing Alex Wilber",
            "AddParticipantFailed: Alex Wilber did not answer in time (487/10004)",
            "ringing Art Anderson",
            "AddParticipantSucceeded: Art Anderson joined",
        ],
    ), summaries(detail)
    server_call = emulator_call(cloud, detail["call"]["serverCallId"])
    assert server_call is not None and server_call["teamsUsers"] == [ART]
    roster = cloud.teams_client(ART)["activeCall"]["roster"]
    assert [p["displayName"] for p in roster] == [CALLER, "Art Anderson"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"presence": {"availability": "DoNotDisturb"}}, "presence DoNotDisturb"),
        ({"presence": {"availability": "Busy", "activity": "InAMeeting"}}, "presence Busy"),
        ({"online": False}, "presence Offline"),
    ],
    ids=["do-not-disturb", "busy-in-a-meeting", "signed-out"],
)
def test_targets_whose_presence_says_unreachable_are_skipped_without_ringing(
    virtual_cloud: Cloud, start: Start, change: dict[str, Any], reason: str
) -> None:
    cloud = virtual_cloud
    cloud.set_user(MEGAN, answer={"action": "accept", "afterSeconds": 0}, **change)  # would join at once if rung
    env = start([rule(cloud, ["Megan Bowen", "Art Anderson"])])
    key = env.answered()

    detail = art_joins(cloud, env, key)

    assert MEGAN not in toasts_shown(cloud), "Megan's Teams client must never have rung"
    assert toasts_shown(cloud) == [ART]
    assert len(requests_named(cloud, "AddParticipant")) == 1
    assert f"call connected; skipped Megan Bowen ({reason})" in summaries(detail)
    assert explanations(detail) == ["Art Anderson joined"]
    skipped = {t["displayName"]: t["skipped"] for t in detail["call"]["routing"]["targets"]}
    assert skipped == {"Megan Bowen": reason, "Art Anderson": None}


@dataclass(frozen=True)
class Failure:
    """A first target that does not come, and what the operator is told."""

    target: str
    user_id: str
    explanation: str
    rings: bool = True
    advance: float = 0.0
    change: dict[str, Any] = field(default_factory=dict)


FAILURES = {
    "declines": Failure("Megan Bowen", MEGAN, "Megan Bowen declined (603)", advance=1),
    "no-answer": Failure("Alex Wilber", ALEX, "Alex Wilber did not answer in time (487/10004)", advance=20),
    "busy": Failure(
        "Lynne Robbins",
        LYNNE,
        "Lynne Robbins is busy (486/8539)",
        advance=1,
        change={"presence": {"availability": "Available"}},  # otherwise presence (DoNotDisturb) skips her
    ),
    "policy-blocked": Failure(
        "Isaiah Langer",
        ISAIAH,
        "Isaiah Langer's external access policy blocks calls from ACS (403/7604): grant a policy with "
        f"`-EnableAcsFederationAccess $true` (`Grant-CsExternalAccessPolicy -Identity {UPN.format('isaiahlanger')} "
        "-PolicyName <policy>`) or run `Set-CsExternalAccessPolicy -Identity Global -EnableAcsFederationAccess $true`",
        rings=False,
    ),
    "no-teams-phone": Failure(
        "Nestor Wilke",
        NESTOR,
        "Nestor Wilke has no Teams Phone licence or Enterprise Voice is off (403/10391): assign Teams Phone (MCOEV) "
        f"and run `Set-CsPhoneNumberAssignment -Identity {UPN.format('nestorwilke')} -EnterpriseVoiceEnabled $true`",
        rings=False,
    ),
    "voice-off": Failure(
        "Grady Archie",
        GRADY,
        "Grady Archie has no Teams Phone licence or Enterprise Voice is off (403/10391): assign Teams Phone (MCOEV) "
        f"and run `Set-CsPhoneNumberAssignment -Identity {UPN.format('gradyarchie')} -EnterpriseVoiceEnabled $true`",
        rings=False,
    ),
    "guest": Failure(
        "Pradeep Gupta",
        PRADEEP,
        "Pradeep Gupta is a guest or consumer account and cannot be called as a Teams user (412/10119)",
        rings=False,
    ),
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_each_failure_moves_on_to_the_next_target_with_an_explanation(
    virtual_cloud: Cloud, start: Start, failure: Failure
) -> None:
    cloud = virtual_cloud
    if failure.change:
        cloud.set_user(failure.user_id, **failure.change)
    env = start([rule(cloud, [failure.target, "Art Anderson"], ring_timeout_seconds=20)])
    key = env.answered()

    if failure.rings:
        wait_toast(cloud, failure.user_id)
        cloud.advance(failure.advance)
    detail = art_joins(cloud, env, key)

    assert [o["target"] for o in detail["call"]["outcomes"]] == [failure.target, "Art Anderson"]
    if not failure.rings:
        assert failure.user_id not in toasts_shown(cloud), "a tenant gate refuses before any client rings"
    assert explanations(detail) == [failure.explanation, "Art Anderson joined"]


def test_an_offline_client_fails_with_480_and_routing_moves_on(virtual_cloud: Cloud, start: Start) -> None:
    cloud = virtual_cloud
    cloud.set_user(DIEGO, online=True)  # signed in when the call starts, so presence does not skip him
    env = start([rule(cloud, ["Megan Bowen", "Diego Siciliani", "Art Anderson"])])
    key = env.answered()

    wait_toast(cloud, MEGAN)
    cloud.set_user(DIEGO, online=False)  # ... and signed out by the time his turn comes
    cloud.advance(1)
    detail = art_joins(cloud, env, key)

    assert DIEGO not in toasts_shown(cloud)
    assert explanations(detail) == [
        "Megan Bowen declined (603)",
        "Diego Siciliani's Teams client is offline or signed out (or the id is not a Teams user) (480/10037)",
        "Art Anderson joined",
    ]


def test_a_tenant_that_does_not_allow_the_resource_fails_every_target_with_the_admin_command(
    virtual_cloud: Cloud, start: Start
) -> None:
    cloud = virtual_cloud
    cloud.set_federation(True, ["11111111-2222-4333-8444-555555555555"])  # another ACS resource
    env = start([rule(cloud, ["Megan Bowen", "Art Anderson"])])
    key = env.answered()

    detail = env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the fallback to hang up")

    fix = (
        "the Teams tenant does not allow this ACS resource (403/10124): run `Set-CsTeamsAcsFederationConfiguration "
        f"-EnableAcsUsers $true -AllowedAcsResources {cloud.resource_id}`"
    )
    assert explanations(detail) == [fix, fix]
    assert [o["target"] for o in detail["call"]["outcomes"]] == ["Megan Bowen", "Art Anderson"]
    assert toasts_shown(cloud) == []
    assert "nobody answered: hanging up" in summaries(detail)


def test_fallback_hangup_ends_the_callers_phone_call_when_nobody_answers(virtual_cloud: Cloud, start: Start) -> None:
    cloud = virtual_cloud
    env = start([rule(cloud, ["Alex Wilber"], ring_timeout_seconds=5, fallback=Fallback(action="hangup"))])
    key = env.answered()
    server_call_id = env.call(key)["call"]["serverCallId"]

    wait_toast(cloud, ALEX)
    assert [p["state"] for p in phone_calls(cloud, server_call_id)] == ["connected"]
    cloud.advance(5)
    detail = env.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end")

    assert settle(lambda: [p["state"] for p in phone_calls(cloud, server_call_id)] == ["ended"], "the phone to hang up")
    assert emulator_call(cloud, server_call_id) is None
    assert explanations(detail) == ["Alex Wilber did not answer in time (487/10004)"]
    assert in_order(summaries(detail), ["nobody answered: hanging up", "CallDisconnected (200/7000)"])
    assert env.calls() == [], "an ended call is no longer listed as active"


def test_fallback_transfer_hands_the_caller_to_an_outside_number(virtual_cloud: Cloud, start: Start) -> None:
    cloud = virtual_cloud
    fallback = Fallback(action="transfer", number=OUTSIDE_NUMBER)
    env = start([rule(cloud, ["Megan Bowen", "Alex Wilber"], ring_timeout_seconds=5, fallback=fallback)])
    key = env.answered()
    server_call_id = env.call(key)["call"]["serverCallId"]

    wait_toast(cloud, MEGAN)
    cloud.advance(1)
    wait_toast(cloud, ALEX)
    cloud.advance(5)
    detail = env.wait_for(key, lambda d: d["call"]["state"] == "transferred", "the fallback transfer")

    call = settle(
        lambda: c if (c := emulator_call(cloud, server_call_id)) and not c["connections"] else None,
        "the app to leave the transferred call",
    )
    assert sorted(raw_ids(call)) == sorted([f"4:{CALLER}", f"4:{OUTSIDE_NUMBER}"])
    phones = {p["phone"]: p["state"] for p in phone_calls(cloud, server_call_id)}
    assert phones == {CALLER: "connected", OUTSIDE_NUMBER: "connected"}
    assert explanations(detail) == [
        "Megan Bowen declined (603)",
        "Alex Wilber did not answer in time (487/10004)",
        f"transferred to {OUTSIDE_NUMBER}",
    ]
    assert f"nobody answered: transferring to {OUTSIDE_NUMBER}" in summaries(detail)


def _new_user(cloud: Cloud, name: str, after_seconds: float) -> str:
    return str(
        teams_user(cloud, {"displayName": name, "answer": {"action": "accept", "afterSeconds": after_seconds}})["id"]
    )


def test_simultaneous_ring_keeps_the_first_to_accept_and_withdraws_the_other_toasts(
    virtual_cloud: Cloud, start: Start
) -> None:
    cloud = virtual_cloud
    lidia = _new_user(cloud, "Lidia Holloway", 0.5)
    miriam = _new_user(cloud, "Miriam Graham", 1)
    targets = [ART, "Lidia Holloway", UPN.format("miriamgraham")]  # an object id, a name and a UPN
    env = start([rule(cloud, targets, strategy="simultaneous")])
    key = env.answered()

    for user in (ART, lidia, miriam):
        assert wait_toast(cloud, user)["sourceDisplayName"] == SOURCE_NAME
    assert sorted(ringing(env, key)) == ["Art Anderson", "Lidia Holloway", "Miriam Graham"]
    cloud.advance(0.5)  # Lidia accepts first
    detail = env.wait_for(key, lambda d: env.people(key) == [CALLER, "Lidia Holloway"], "Lidia in the call")
    settle(lambda: toasts(cloud, ART) == [] and toasts(cloud, miriam) == [], "the other toasts to be withdrawn")
    cloud.advance(2)  # when Art and Miriam would have accepted
    holds_once_idle(cloud, lambda: env.people(key) == [CALLER, "Lidia Holloway"], what="Lidia alone with the caller")

    server_call = emulator_call(cloud, detail["call"]["serverCallId"])
    assert server_call is not None and server_call["teamsUsers"] == [lidia]
    assert server_call["invitations"] == []
    for user in (ART, miriam):
        client = cloud.teams_client(user)
        assert client["incomingCalls"] == [] and client["activeCall"] is None, client
    detail = env.wait_for(key, lambda d: ringing(env, key) == [], "nobody left ringing")
    assert detail["call"]["routing"]["answeredBy"] == "Lidia Holloway"
    lines = summaries(detail)
    assert "AddParticipantSucceeded: Lidia Holloway joined" in lines
    assert not any("Art Anderson joined" in line or "Miriam Graham joined" in line for line in lines)
    stopped = sorted(o["explanation"] for o in detail["call"]["outcomes"] if o["operation"] == "cancel")
    assert stopped == ["stopped ringing Art Anderson", "stopped ringing Miriam Graham"]


def test_simultaneous_acceptances_at_the_same_moment_leave_exactly_one_teams_user(
    virtual_cloud: Cloud, start: Start
) -> None:
    cloud = virtual_cloud
    users = {ART: "Art Anderson"}
    for name in ("Lidia Holloway", "Miriam Graham", "Johanna Lorenz"):
        users[_new_user(cloud, name, 1)] = name
    env = start([rule(cloud, list(users.values()), strategy="simultaneous")])
    key = env.answered()
    server_call_id = env.call(key)["call"]["serverCallId"]

    for user in users:
        wait_toast(cloud, user)
    cloud.advance(1)  # all four click Accept at the same instant

    def settled() -> bool:
        call = emulator_call(cloud, server_call_id)
        return call is not None and len(call["teamsUsers"]) == 1 and not call["invitations"]

    settle(settled, "exactly one Teams user left in the call")
    holds_once_idle(cloud, settled, "exactly one Teams user in the call")
    call = emulator_call(cloud, server_call_id)
    assert call is not None
    (winner,) = call["teamsUsers"]
    detail = env.wait_for(key, lambda d: env.people(key) == [CALLER, users[winner]], "the winner in the call")
    assert detail["call"]["routing"]["answeredBy"] == users[winner]
    for user in users:
        client = cloud.teams_client(user)
        assert client["incomingCalls"] == [], client
        if user != winner:
            assert client["activeCall"] is None, f"{users[user]} is still in a call: {client}"
    assert cloud.teams_client(winner)["activeCall"]["serverCallId"] == server_call_id
    late = sorted(line for line in summaries(detail) if line.endswith("(answered too late)"))
    assert late == sorted(f"removing {name} (answered too late)" for user, name in users.items() if user != winner)


def test_strategy_none_answers_rings_nobody_and_lets_the_operator_add(virtual_cloud: Cloud, start: Start) -> None:
    cloud = virtual_cloud
    env = start([rule(cloud, ["Art Anderson", "Megan Bowen"], strategy="none")])
    key = env.answered()

    holds_once_idle(cloud, lambda: toasts_shown(cloud) == [] and ringing(env, key) == [], what="nobody ringing")
    assert requests_named(cloud, "AddParticipant") == []
    lines = summaries(env.call(key))
    assert lines[0] == f"IncomingCall from {CALLER} to {cloud.number}"
    assert {"answered (none)", "call connected"} <= set(lines) and not any("skipped" in line for line in lines)
    added = cloud.ok(env.api.post(f"/calls/{key}/participants", json={"user": "Art Anderson"})).json()
    assert added["pending"] is True and added["target"] == "Art Anderson"
    detail = art_joins(cloud, env, key)

    assert toasts_shown(cloud) == [ART]
    assert explanations(detail) == ["Art Anderson joined"]
    assert detail["call"]["outcomes"][0]["operationContext"] == added["operationContext"]
