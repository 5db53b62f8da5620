"""How each Call Automation event changes the service's record of a call, as plain function calls: the record
after the event, the outcome an operator reads, the line on the call's timeline, and what the service does next."""

from __future__ import annotations

import pytest

from callbridge.service.handling import apply
from callbridge.service.models import CallRecord, CallState, Person
from tests.service.records import (
    CALLER,
    CONNECTION,
    CORRELATION,
    NUMBER,
    OUTSIDE_NUMBER,
    PEOPLE,
    RESOURCE,
    SERVER_CALL,
    added,
    answering,
    cancelled,
    connected,
    event,
    phone,
    ringing,
    roster,
    teams,
    upn,
)

APP = phone(NUMBER)
CALLER_ID = phone(CALLER)


def people(record: CallRecord) -> list[str]:
    return [p.display_name for p in record.participants if not p.is_app]


# ---------------------------------------------------------------------------------------------- connecting


def test_call_connected_marks_the_call_connected_and_learns_its_connection_id() -> None:
    record = answering()
    record.server_call_id = record.correlation_id = None

    applied = apply(record, event("CallConnected", operationContext="callbridge:answer:1"), None, RESOURCE)

    assert record.state is CallState.CONNECTED
    assert (record.call_connection_id, record.server_call_id, record.correlation_id) == (
        CONNECTION,
        SERVER_CALL,
        CORRELATION,
    )
    assert (applied.summary, applied.actions, applied.outcomes) == ("call connected", [], [])


def test_ids_the_service_already_knows_are_kept() -> None:
    record = answering()
    record.call_connection_id, record.server_call_id, record.correlation_id = "from-the-answer", "ours", None

    apply(record, event("ParticipantsUpdated", participants=[]), None, RESOURCE)

    assert (record.call_connection_id, record.server_call_id, record.correlation_id) == (
        "from-the-answer",
        "ours",
        CORRELATION,
    )


@pytest.mark.parametrize(
    ("kind", "result", "state", "summary"),
    [
        ("CallDisconnected", (200, 7000), CallState.ENDED, "CallDisconnected (200/7000)"),
        ("CallDisconnected", (200, 7015), CallState.TRANSFERRED, "CallDisconnected (200/7015)"),
        ("CallDisconnected", None, CallState.ENDED, "CallDisconnected (None/None)"),
        ("AnswerFailed", (400, 8528), CallState.ENDED, "AnswerFailed (400/8528)"),
        ("CreateCallFailed", (487, 10004), CallState.ENDED, "CreateCallFailed (487/10004)"),
        ("ConnectFailed", (404, 8522), CallState.ENDED, "ConnectFailed (404/8522)"),
    ],
    ids=["hung-up", "transferred-away", "no-result", "answer-failed", "create-failed", "connect-failed"],
)
def test_the_end_of_the_apps_leg_ends_the_call_and_forgets_who_was_ringing(
    kind: str, result: tuple[int, int] | None, state: CallState, summary: str
) -> None:
    record = connected()
    ringing(record, "Alex Wilber")

    applied = apply(record, event(kind, result), None, RESOURCE)

    assert record.state is state and not record.active
    assert record.ended_at is not None
    assert record.invitations == {}
    assert (applied.summary, applied.actions, applied.outcomes) == (summary, [], [])


def test_an_event_the_service_does_not_act_on_changes_nothing_but_the_timeline() -> None:
    record = connected()
    before = record.model_copy(deep=True)

    applied = apply(record, event("PlayCompleted", operationContext="someone-else"), None, RESOURCE)

    assert applied.summary == "PlayCompleted" and applied.announced == []
    assert record == before


# ---------------------------------------------------------------------------------------------- the roster


def test_participants_updated_is_the_roster_with_the_names_the_service_knows() -> None:
    record = connected()
    record.names["8:orgid:" + PEOPLE["Art Anderson"]] = "Art Anderson"

    applied = apply(record, roster(3, APP, CALLER_ID, teams("Art Anderson"), muted=(CALLER_ID["rawId"],)), None, None)

    assert record.participants == [
        Person(raw_id=f"4:{NUMBER}", kind="phoneNumber", display_name=NUMBER, is_app=True),
        Person(raw_id=f"4:{CALLER}", kind="phoneNumber", display_name=CALLER, is_muted=True),
        Person(raw_id=teams("Art Anderson")["rawId"], kind="microsoftTeamsUser", display_name="Art Anderson"),
    ]
    assert record.sequence_number == 3
    assert applied.summary == f"participants: {CALLER}, Art Anderson"


def test_someone_the_service_never_named_shows_as_their_number_or_raw_id() -> None:
    record = connected()
    record.names.clear()
    stranger = teams("Megan Bowen")

    apply(record, roster(1, APP, phone(OUTSIDE_NUMBER), stranger), None, None)

    assert people(record) == [OUTSIDE_NUMBER, stranger["rawId"]]


@pytest.mark.parametrize(("late", "kept"), [(4, True), (5, True), (6, False)], ids=["older", "same", "newer"])
def test_a_roster_older_than_the_one_applied_is_ignored(late: int, kept: bool) -> None:
    record = connected()
    apply(record, roster(5, APP, CALLER_ID, teams("Art Anderson")), None, None)

    applied = apply(record, roster(late, APP, CALLER_ID), None, None)

    assert (people(record) == [CALLER, "8:orgid:" + PEOPLE["Art Anderson"]]) is kept
    assert record.sequence_number == (5 if kept else 6)
    if kept:
        assert applied.summary == f"ParticipantsUpdated #{late} (older than #5, ignored)"


def test_a_roster_without_a_sequence_number_is_applied() -> None:
    record = connected()
    apply(record, roster(5, APP, CALLER_ID, teams("Art Anderson")), None, None)

    apply(record, roster(None, APP, CALLER_ID), None, None)

    assert people(record) == [CALLER] and record.sequence_number == 5


# ---------------------------------------------------------------------------------------------- adding


def test_add_succeeded_settles_the_add_and_puts_the_user_on_the_roster_at_once() -> None:
    record = connected()
    apply(record, roster(1, APP, CALLER_ID), None, None)
    art = ringing(record, "Art Anderson")

    applied = apply(record, added(art), None, RESOURCE)

    assert people(record) == [CALLER, "Art Anderson"]
    assert record.invitations == {}
    (outcome,) = applied.outcomes
    assert (outcome.operation_context, outcome.operation, outcome.target, outcome.succeeded) == (
        art.operation_context,
        "add",
        "Art Anderson",
        True,
    )
    assert (outcome.code, outcome.sub_code, outcome.explanation) == (200, 0, "Art Anderson joined")
    assert record.outcomes == [outcome] and applied.announced == [outcome]
    assert applied.summary == "AddParticipantSucceeded: Art Anderson joined"
    assert applied.actions == [], "an operator's add asks nothing more of routing"


FAILED_ADDS = {
    "declined": ((603, 0), "Megan Bowen declined (603)"),
    "no-answer": ((487, 10004), "Megan Bowen did not answer in time (487/10004)"),
    "busy": ((486, 8539), "Megan Bowen is busy (486/8539)"),
    "offline": (
        (480, 10037),
        "Megan Bowen's Teams client is offline or signed out (or the id is not a Teams user) (480/10037)",
    ),
    "tenant-blocks-the-resource": (
        (403, 10124),
        "the Teams tenant does not allow this ACS resource (403/10124): run `Set-CsTeamsAcsFederationConfiguration "
        f"-EnableAcsUsers $true -AllowedAcsResources {RESOURCE}`",
    ),
    "policy-blocks": (
        (403, 7604),
        "Megan Bowen's external access policy blocks calls from ACS (403/7604): grant a policy with "
        f"`-EnableAcsFederationAccess $true` (`Grant-CsExternalAccessPolicy -Identity {upn('Megan Bowen')} "
        "-PolicyName <policy>`) or run `Set-CsExternalAccessPolicy -Identity Global -EnableAcsFederationAccess $true`",
    ),
    "unknown-code": ((500, 9999), "Megan Bowen: the call could not be completed (500/9999)"),
}


@pytest.mark.parametrize(("result", "explanation"), FAILED_ADDS.values(), ids=FAILED_ADDS.keys())
def test_add_failed_settles_the_add_with_an_explanation_and_leaves_the_roster(
    result: tuple[int, int], explanation: str
) -> None:
    record = connected()
    apply(record, roster(1, APP, CALLER_ID), None, None)
    megan = ringing(record, "Megan Bowen")

    applied = apply(record, added(megan, result), None, RESOURCE)

    assert people(record) == [CALLER]
    assert record.invitations == {}
    (outcome,) = applied.outcomes
    assert (outcome.operation, outcome.succeeded, outcome.code, outcome.sub_code) == ("add", False, *result)
    assert outcome.explanation == explanation
    assert applied.summary == f"AddParticipantFailed: {explanation}"


def test_an_outcome_for_an_operation_the_service_does_not_track_is_still_recorded_under_its_context() -> None:
    record = connected()

    applied = apply(
        record,
        event("AddParticipantSucceeded", operationContext="from-elsewhere", participant=phone(OUTSIDE_NUMBER)),
        None,
        None,
    )

    assert [(o.operation_context, o.explanation) for o in applied.outcomes] == [
        ("from-elsewhere", f"{OUTSIDE_NUMBER} joined")
    ]
    assert people(record) == [OUTSIDE_NUMBER]


def test_an_outcome_without_an_operation_context_settles_nothing() -> None:
    record = connected()

    applied = apply(record, event("AddParticipantFailed", (603, 0), participant=teams("Megan Bowen")), None, None)

    assert applied.outcomes == [] and record.outcomes == []
    assert applied.summary.startswith("AddParticipantFailed: ")


# ---------------------------------------------------------------------------------------------- cancelling


def test_cancel_succeeded_stops_the_ringing_and_settles_the_add_it_ended() -> None:
    record = connected()
    alex = ringing(record, "Alex Wilber")

    applied = apply(record, cancelled(alex, "callbridge:cancel:1"), None, None)

    assert record.invitations == {}
    (cancel,) = applied.outcomes
    assert (cancel.operation_context, cancel.operation, cancel.target, cancel.succeeded) == (
        "callbridge:cancel:1",
        "cancel",
        "Alex Wilber",
        True,
    )
    assert cancel.explanation == "stopped ringing Alex Wilber"
    (add,) = applied.also_settles
    assert (add.operation_context, add.operation, add.succeeded, add.explanation) == (
        alex.operation_context,
        "add",
        False,
        "stopped ringing Alex Wilber",
    )
    assert applied.announced == [cancel, add], "whoever waits on the add hears that it ended"
    assert record.outcomes == [cancel], "the call's outcomes list the cancel once, not a failed add too"


def test_cancel_failed_leaves_the_invitation_ringing() -> None:
    record = connected()
    alex = ringing(record, "Alex Wilber")

    applied = apply(record, cancelled(alex, "callbridge:cancel:1", (400, 8585)), None, None)

    assert list(record.invitations.values()) == [alex]
    (outcome,) = applied.outcomes
    assert (outcome.operation, outcome.succeeded, outcome.target) == ("cancel", False, "Alex Wilber")
    assert outcome.explanation == "Alex Wilber: the call could not be completed (400/8585)"
    assert applied.also_settles == []


def test_cancel_of_an_invitation_the_service_does_not_know_touches_no_other_invitation() -> None:
    record = connected()
    alex = ringing(record, "Alex Wilber")
    stranger = ringing(connected(), "Megan Bowen")

    applied = apply(record, cancelled(stranger, "callbridge:cancel:1"), None, None)

    assert list(record.invitations.values()) == [alex]
    assert applied.also_settles == []


# ---------------------------------------------------------------------------------------------- removing


def test_remove_succeeded_takes_the_user_off_the_roster_at_once() -> None:
    record = connected()
    record.names[teams("Art Anderson")["rawId"]] = "Art Anderson"
    apply(record, roster(1, APP, CALLER_ID, teams("Art Anderson")), None, None)
    removal = event(
        "RemoveParticipantSucceeded", operationContext="callbridge:remove:1", participant=teams("Art Anderson")
    )

    applied = apply(record, removal, None, None)

    assert people(record) == [CALLER]
    assert [(o.operation, o.succeeded, o.explanation) for o in applied.outcomes] == [
        ("remove", True, "Art Anderson was removed")
    ]


def test_remove_failed_keeps_the_roster() -> None:
    record = connected()
    record.names[teams("Art Anderson")["rawId"]] = "Art Anderson"
    apply(record, roster(1, APP, CALLER_ID, teams("Art Anderson")), None, None)
    failure = event(
        "RemoveParticipantFailed",
        (404, 8522),
        operationContext="callbridge:remove:1",
        participant=teams("Art Anderson"),
    )

    applied = apply(record, failure, None, None)

    assert people(record) == [CALLER, "Art Anderson"]
    assert [(o.succeeded, o.explanation) for o in applied.outcomes] == [
        (False, "Art Anderson: the call could not be completed (404/8522)")
    ]


# ---------------------------------------------------------------------------------------------- transferring


def test_transfer_accepted_settles_the_transfer_and_the_call_waits_for_its_disconnect() -> None:
    record = connected()
    accepted = event(
        "CallTransferAccepted",
        operationContext="callbridge:transfer:1",
        transferTarget=phone(OUTSIDE_NUMBER),
        transferee=CALLER_ID,
    )

    applied = apply(record, accepted, None, None)

    assert [(o.operation, o.succeeded, o.target, o.explanation) for o in applied.outcomes] == [
        ("transfer", True, OUTSIDE_NUMBER, f"transferred to {OUTSIDE_NUMBER}")
    ]
    assert record.state is CallState.CONNECTED
    assert people(record) == [], "a transfer does not change the roster the service shows"
    apply(record, event("CallDisconnected", (200, 7015)), None, None)
    assert record.state is CallState.TRANSFERRED


def test_transfer_failed_settles_the_transfer_as_failed() -> None:
    record = connected()

    applied = apply(record, event("CallTransferFailed", (603, 0), operationContext="callbridge:transfer:1"), None, None)

    (outcome,) = applied.outcomes
    assert (outcome.operation, outcome.succeeded, outcome.code) == ("transfer", False, 603)
    assert record.state is CallState.CONNECTED
