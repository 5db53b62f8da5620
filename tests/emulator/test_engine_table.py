"""The call engine's transition table, driven directly: every row, every refusal and its ACS error."""

from __future__ import annotations

import itertools

import pytest

from callbridge.emulator.acs import errors, results
from callbridge.emulator.acs.calls import (
    CallConnection,
    ConnectionState,
    Invitation,
    InvitationState,
    Participant,
    Purpose,
    ServerCall,
)
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.resource import AcsResource, IdFactory
from callbridge.emulator.acs.states import (
    CONNECTION_TRANSITIONS,
    INVITATION_TRANSITIONS,
    ConnectionInput,
    InvitationInput,
    settle,
    step,
)
from callbridge.emulator.acs.timings import Timings
from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.journal import Journal
from callbridge.identifiers import CommunicationUser, PhoneNumber, TeamsUser
from tests.emulator.test_engine import ART, CALLER, NUMBER, Scripted

APP = CommunicationUser("8:acs:app")
ROWS = [(state, command) for state, row in CONNECTION_TRANSITIONS.items() for command in row]
HOLES = [
    (state, command)
    for state, command in itertools.product(ConnectionState, ConnectionInput)
    if command not in CONNECTION_TRANSITIONS[state]
]
REFUSED_WITH = {
    ConnectionState.CONNECTING: (400, "8501"),
    ConnectionState.TRANSFERRING: (409, "8519"),
    ConnectionState.CONNECTED: (400, "8585"),
    ConnectionState.TRANSFER_ACCEPTED: (400, "8528"),
    ConnectionState.DISCONNECTING: (400, "8528"),
    ConnectionState.DISCONNECTED: (400, "8528"),
}


def _connection(state: ConnectionState) -> CallConnection:
    call = ServerCall("server-call", "correlation", 0.0)
    return CallConnection("connection", call, APP, "https://app/cb", "2026-03-12", state=state)


def _invitation(state: InvitationState) -> Invitation:
    call = ServerCall("server-call", "correlation", 0.0)
    return Invitation("invitation", Purpose.ADD, call, ART, CALLER, state=state)


@pytest.mark.parametrize(("state", "command"), ROWS)
def test_every_connection_row_leads_to_its_next_state(state: ConnectionState, command: ConnectionInput) -> None:
    connection = _connection(state)

    rule = step(connection, command)

    assert connection.state is CONNECTION_TRANSITIONS[state][command].next is rule.next


@pytest.mark.parametrize(("state", "command"), HOLES)
def test_an_input_without_a_row_is_refused_with_the_acs_error_of_the_state(
    state: ConnectionState, command: ConnectionInput
) -> None:
    connection = _connection(state)

    with pytest.raises(errors.NotAllowedInState) as refused:
        step(connection, command)

    assert connection.state is state
    answer = errors.to_acs_error(refused.value)
    assert (answer.status, answer.code) == REFUSED_WITH[state]


def test_disconnecting_is_the_only_way_to_disconnected_after_a_call_was_up() -> None:
    into_disconnected = [
        s for s, row in CONNECTION_TRANSITIONS.items() for r in row.values() if r.next is ConnectionState.DISCONNECTED
    ]
    assert sorted(into_disconnected) == sorted([ConnectionState.CONNECTING, ConnectionState.DISCONNECTING])


@pytest.mark.parametrize(
    ("state", "command"),
    [(s, c) for s, c in itertools.product(InvitationState, InvitationInput)],
)
def test_invitations_settle_once_from_ringing(state: InvitationState, command: InvitationInput) -> None:
    invitation = _invitation(state)
    row = INVITATION_TRANSITIONS[state].get(command)

    if row is None:
        with pytest.raises(errors.NotAllowedInState) as refused:
            settle(invitation, command)
        assert errors.to_acs_error(refused.value).code == "8585"
        assert invitation.state is state
    else:
        settle(invitation, command)
        assert state is InvitationState.RINGING and invitation.state is row.next


@pytest.fixture
def world() -> tuple[CallEngine, Scripted, VirtualClock]:
    clock = VirtualClock(start=1_800_000_000.0)
    ids = IdFactory(seed=11)
    resource = AcsResource.create(ids)
    resource.phone_numbers.append(NUMBER)
    scripted = Scripted()
    return CallEngine(clock, resource, Journal(clock), Timings(), scripted, scripted, ids), scripted, clock


def _answered(engine: CallEngine, clock: VirtualClock) -> CallConnection:
    call = engine.start_call(Participant(CALLER, CALLER.value))
    offer = engine.offer(call, PhoneNumber(NUMBER), CALLER)
    connection = engine.answer(offer.context, "https://app/cb", "2026-03-12")
    clock.run_due()
    return connection


def test_a_one_to_one_transfer_goes_through_accepted_and_disconnecting(
    world: tuple[CallEngine, Scripted, VirtualClock],
) -> None:
    engine, scripted, clock = world
    connection = _answered(engine, clock)
    engine.transfer(connection.call_connection_id, ART)
    assert connection.state is ConnectionState.TRANSFERRING

    engine.invitation_answered(scripted.ringing[0].invitation_id)

    assert scripted.types()[2:] == ["CallTransferAccepted", "CallDisconnected"]
    assert connection.state is ConnectionState.DISCONNECTED


def test_a_failed_transfer_returns_the_connection_to_connected(
    world: tuple[CallEngine, Scripted, VirtualClock],
) -> None:
    engine, scripted, clock = world
    connection = _answered(engine, clock)
    engine.transfer(connection.call_connection_id, ART)
    with pytest.raises(errors.NotAllowedInState) as busy:
        engine.add_participant(connection.call_connection_id, TeamsUser("0b1f1a07-2fa4-4f0e-9a39-3a2b5f0b7c11"))
    assert errors.to_acs_error(busy.value).code == "8519"

    engine.invitation_failed(scripted.ringing[0].invitation_id, results.DECLINED)

    assert scripted.types()[2:] == ["CallTransferFailed"]
    assert connection.state is ConnectionState.CONNECTED


def test_an_action_before_call_connected_is_refused_as_not_established(
    world: tuple[CallEngine, Scripted, VirtualClock],
) -> None:
    engine, _, _ = world
    call = engine.start_call(Participant(CALLER, CALLER.value))
    offer = engine.offer(call, PhoneNumber(NUMBER), CALLER)
    connection = engine.answer(offer.context, "https://app/cb", "2026-03-12")

    with pytest.raises(errors.NotAllowedInState) as early:
        engine.add_participant(connection.call_connection_id, ART)

    answer = errors.to_acs_error(early.value)
    assert (answer.status, answer.code) == (400, "8501")


def test_connect_to_an_unknown_call_fails_then_drops_the_leg(
    world: tuple[CallEngine, Scripted, VirtualClock],
) -> None:
    engine, scripted, clock = world
    connection = engine.connect("serverCallLocator", "no-such-call", "https://app/cb", "2026-03-12")

    clock.run_due()

    assert scripted.types() == ["ConnectFailed"]
    assert connection.state is ConnectionState.DISCONNECTED
    with pytest.raises(errors.CallNotFound):
        engine.readable_connection(connection.call_connection_id)
