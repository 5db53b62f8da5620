"""The routing rules as a table of cases, driven through ``handling.apply`` and ``routing`` with no servers: who is
rung and in which order, who wins a simultaneous ring, and what happens to the caller when nobody comes.

Each case connects a call whose rule has resolved targets, then answers for every ring the way ACS would
(AddParticipantSucceeded/Failed, CancelAddParticipantSucceeded/Failed) and reads the actions routing asks for."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from callbridge.service import routing
from callbridge.service.handling import apply
from callbridge.service.models import CallRecord, Target
from callbridge.service.routing import Action, CancelRing, HangUp, Remove, Ring, TransferTo
from callbridge.service.settings import Fallback
from tests.service.records import (
    OUTSIDE_NUMBER,
    PEOPLE,
    RESOURCE,
    SOURCE_NAME,
    SUCCESS,
    added,
    answering,
    cancelled,
    connected,
    event,
    rang,
    ringing,
    rule,
    target,
    teams,
    unresolved,
)

DECLINED = (603, 0)
NO_ANSWER = (487, 10004)
BUSY = (486, 8539)
TENANT_BLOCKS = (403, 10124)
TRANSFER = Fallback(action="transfer", number=OUTSIDE_NUMBER)
MEGAN, ALEX, ART, LIDIA = "Megan Bowen", "Alex Wilber", "Art Anderson", "Lidia Holloway"


def call(strategy: str, fallback: Fallback | None = None) -> CallRecord:
    """A call answered for a rule that rings with ``strategy`` (and hangs up when nobody comes, unless told)."""
    return answering(rule(strategy, fallback))


def connect(record: CallRecord, targets: list[Target]) -> list[Action]:
    """CallConnected with the rule's targets resolved; ACS's answers to each ring carry its invitation id."""
    actions = apply(record, event("CallConnected"), targets, RESOURCE).actions
    for ring in rings(actions):
        record.invitations[ring.invitation.operation_context].invitation_id = f"invitation-{ring.user_id}"
    return actions


def rings(actions: list[Action]) -> list[Ring]:
    return [a for a in actions if isinstance(a, Ring)]


def names(actions: list[Action]) -> list[str]:
    return [r.invitation.display_name for r in rings(actions)]


def reply(record: CallRecord, ring: Ring, result: tuple[int, int]) -> list[Action]:
    """How one ring ended (accepted, or failed with ``result``); the actions routing takes next."""
    actions = apply(record, rang(ring, result), None, RESOURCE).actions
    for following in rings(actions):
        record.invitations[following.invitation.operation_context].invitation_id = f"invitation-{following.user_id}"
    return actions


def withdraw(record: CallRecord, cancel: CancelRing, result: tuple[int, int] = SUCCESS) -> list[Action]:
    """ACS's answer to a cancel routing asked for."""
    invitation = record.invitations[cancel.operation_context]
    return apply(
        record, cancelled(invitation, f"callbridge:cancel:{invitation.display_name}", result), None, None
    ).actions


# ---------------------------------------------------------------------------------------------- first-available


@dataclass(frozen=True)
class FirstAvailable:
    """Targets in the rule's order, how each ring ends in turn, who was rung, and what routing does last."""

    targets: list[Target]
    replies: list[tuple[int, int]]
    rung: list[str]
    then: list[Action]
    answered_by: str | None = None
    fallback: Fallback | None = None


FIRST_AVAILABLE = {
    "the first target answers": FirstAvailable(
        [target(MEGAN), target(ALEX), target(ART)], [SUCCESS], [MEGAN], [], MEGAN
    ),
    "a decline and a timeout move on until Art answers": FirstAvailable(
        [target(MEGAN), target(ALEX), target(ART)], [DECLINED, NO_ANSWER, SUCCESS], [MEGAN, ALEX, ART], [], ART
    ),
    "busy moves on": FirstAvailable([target(MEGAN), target(ART)], [BUSY, SUCCESS], [MEGAN, ART], [], ART),
    "presence skips a target without ringing her": FirstAvailable(
        [target(MEGAN, skipped="presence DoNotDisturb"), target(ART)], [SUCCESS], [ART], [], ART
    ),
    "a target the directory cannot find is skipped": FirstAvailable(
        [unresolved("Nobody Atall", "no Teams user matches 'Nobody Atall'"), target(ART)], [SUCCESS], [ART], [], ART
    ),
    "nobody answers: hang up": FirstAvailable([target(ALEX)], [NO_ANSWER], [ALEX], [HangUp()]),
    "nobody answers: transfer to the fallback number": FirstAvailable(
        [target(MEGAN), target(ALEX)],
        [DECLINED, NO_ANSWER],
        [MEGAN, ALEX],
        [TransferTo(OUTSIDE_NUMBER)],
        fallback=TRANSFER,
    ),
    "a tenant gate fails every target: hang up": FirstAvailable(
        [target(MEGAN), target(ART)], [TENANT_BLOCKS, TENANT_BLOCKS], [MEGAN, ART], [HangUp()]
    ),
    "everyone skipped: straight to the fallback": FirstAvailable(
        [target(MEGAN, skipped="presence Busy"), target(ALEX, skipped="presence Offline")],
        [],
        [],
        [TransferTo(OUTSIDE_NUMBER)],
        fallback=TRANSFER,
    ),
    "no targets: straight to the fallback": FirstAvailable([], [], [], [HangUp()]),
}


@pytest.mark.parametrize("case", FIRST_AVAILABLE.values(), ids=FIRST_AVAILABLE.keys())
def test_first_available(case: FirstAvailable) -> None:
    record = call("first-available", case.fallback)
    actions = connect(record, case.targets)
    rung = []
    for result in case.replies:
        (ring,) = actions  # one target at a time
        assert isinstance(ring, Ring)
        rung.append(ring.invitation.display_name)
        actions = reply(record, ring, result)

    assert rung == case.rung
    assert actions == case.then
    assert record.routing.answered_by == case.answered_by
    assert record.routing.phase == ("answered" if case.answered_by else "fallback")
    assert record.invitations == {}


def test_a_ring_carries_the_rules_caller_name_and_timeout() -> None:
    record = connected(rule("first-available", ring_timeout_seconds=25))
    (ring,) = connect(record, [target(ART)])

    assert isinstance(ring, Ring)
    assert (ring.user_id, ring.source_display_name, ring.timeout_seconds) == (PEOPLE[ART], SOURCE_NAME, 25)
    assert ring.invitation.target_raw_id == teams(ART)["rawId"] and ring.invitation.by_routing
    assert ring.invitation.operation_context.startswith("callbridge:route:")
    assert record.invitations == {ring.invitation.operation_context: ring.invitation}
    assert record.names[teams(ART)["rawId"]] == ART, "the roster will show the name routing rang"
    assert record.routing.phase == "ringing"


def test_skipped_targets_are_named_on_the_timeline() -> None:
    record = call("first-available")
    targets = [target(MEGAN, skipped="presence DoNotDisturb"), unresolved("Nobody", "not found"), target(ART)]

    applied = apply(record, event("CallConnected"), targets, RESOURCE)

    assert applied.summary == "call connected; skipped Megan Bowen (presence DoNotDisturb), Nobody (not found)"


def test_a_ring_acs_refuses_outright_moves_on_like_a_failed_one() -> None:
    """What the service does when AddParticipant itself is refused: forget the ring, let routing move on."""
    record = call("first-available")
    (ring,) = connect(record, [target(MEGAN), target(ART)])
    assert isinstance(ring, Ring)

    record.invitations.pop(ring.invitation.operation_context)
    assert names(routing.ring_failed(record, ring.invitation)) == [ART]


def test_connected_again_does_not_route_twice() -> None:
    record = call("first-available")
    connect(record, [target(ART)])

    assert apply(record, event("CallConnected"), [target(ART)], RESOURCE).actions == []
    assert len(record.invitations) == 1


def test_a_ring_ending_after_the_call_ended_rings_nobody_else() -> None:
    record = call("first-available")
    (ring,) = connect(record, [target(MEGAN), target(ART)])
    assert isinstance(ring, Ring)
    apply(record, event("CallDisconnected", (200, 7000)), None, None)

    assert reply(record, ring, NO_ANSWER) == []


def test_an_operators_add_does_not_move_routing() -> None:
    record = call("first-available")
    connect(record, [target(MEGAN), target(ART)])
    alex = ringing(record, ALEX)

    assert apply(record, added(alex, DECLINED), None, None).actions == []
    assert apply(record, added(ringing(record, LIDIA), SUCCESS), None, None).actions == []
    assert record.routing.phase == "ringing" and record.routing.answered_by is None


# ---------------------------------------------------------------------------------------------- simultaneous


def test_simultaneous_rings_every_reachable_target_at_once() -> None:
    record = call("simultaneous")

    actions = connect(record, [target(ART), target(MEGAN, skipped="presence Busy"), target(LIDIA), target(ALEX)])

    assert names(actions) == [ART, LIDIA, ALEX]
    assert len({r.invitation.operation_context for r in rings(actions)}) == 3
    assert record.routing.phase == "ringing"


def test_simultaneous_the_first_to_accept_wins_and_the_others_are_withdrawn() -> None:
    record = call("simultaneous")
    art, lidia, alex = rings(connect(record, [target(ART), target(LIDIA), target(ALEX)]))

    withdrawals = reply(record, lidia, SUCCESS)

    assert withdrawals == [CancelRing(art.invitation.operation_context), CancelRing(alex.invitation.operation_context)]
    assert (record.routing.phase, record.routing.answered_by) == ("answered", LIDIA)
    for cancel in withdrawals:
        assert isinstance(cancel, CancelRing)
        assert withdraw(record, cancel) == []
    assert record.invitations == {}
    assert [o.explanation for o in record.outcomes] == [
        "Lidia Holloway joined",
        "stopped ringing Art Anderson",
        "stopped ringing Alex Wilber",
    ]


def test_simultaneous_an_acceptance_that_beats_its_cancel_is_removed() -> None:
    record = call("simultaneous")
    art, lidia = rings(connect(record, [target(ART), target(LIDIA)]))
    (cancel,) = reply(record, lidia, SUCCESS)
    assert isinstance(cancel, CancelRing)

    assert reply(record, art, SUCCESS) == [Remove(teams(ART)["rawId"], ART)]
    assert record.routing.answered_by == LIDIA


def test_simultaneous_a_cancel_that_comes_too_late_asks_for_nothing_more() -> None:
    record = call("simultaneous")
    art, lidia = rings(connect(record, [target(ART), target(LIDIA)]))
    (cancel,) = reply(record, lidia, SUCCESS)
    assert isinstance(cancel, CancelRing)

    assert withdraw(record, cancel, (400, 8585)) == []
    assert reply(record, art, SUCCESS) == [Remove(teams(ART)["rawId"], ART)]


@pytest.mark.parametrize("order", list(itertools.permutations([ART, LIDIA, ALEX])), ids="-then-".join)
def test_simultaneous_acceptances_at_the_same_moment_leave_exactly_one_winner(order: tuple[str, ...]) -> None:
    record = call("simultaneous")
    by_name = {r.invitation.display_name: r for r in rings(connect(record, [target(ART), target(LIDIA), target(ALEX)]))}

    first, *late = order
    cancels = reply(record, by_name[first], SUCCESS)
    removals = [action for name in late for action in reply(record, by_name[name], SUCCESS)]

    assert record.routing.answered_by == first
    assert [type(c) for c in cancels] == [CancelRing, CancelRing]
    assert removals == [Remove(teams(name)["rawId"], name) for name in late]


def test_simultaneous_declines_wait_for_the_last_ring_before_the_fallback() -> None:
    record = call("simultaneous", TRANSFER)
    art, lidia, alex = rings(connect(record, [target(ART), target(LIDIA), target(ALEX)]))

    assert reply(record, art, DECLINED) == []
    assert reply(record, alex, NO_ANSWER) == []
    assert record.routing.phase == "ringing"
    assert reply(record, lidia, BUSY) == [TransferTo(OUTSIDE_NUMBER)]
    assert record.routing.phase == "fallback"


def test_simultaneous_a_decline_then_an_acceptance_withdraws_only_who_still_rings() -> None:
    record = call("simultaneous")
    art, lidia, alex = rings(connect(record, [target(ART), target(LIDIA), target(ALEX)]))

    assert reply(record, art, DECLINED) == []
    assert reply(record, lidia, SUCCESS) == [CancelRing(alex.invitation.operation_context)]
    assert reply(record, alex, NO_ANSWER) == [], "a failure after someone answered changes nothing"


def test_simultaneous_with_everyone_skipped_falls_back_at_once() -> None:
    record = call("simultaneous")

    assert connect(record, [target(ART, skipped="presence Offline")]) == [HangUp()]


# ---------------------------------------------------------------------------------------------- none


def test_strategy_none_rings_nobody() -> None:
    record = call("none")

    applied = apply(record, event("CallConnected"), None, RESOURCE)

    assert (applied.summary, applied.actions) == ("call connected", [])
    assert record.routing.phase == "waiting" and record.routing.targets == []
    assert routing.start(record, [target(ART)]) == [], "even with targets at hand"
