"""The call engine driven directly: no HTTP, no sockets, time from a virtual clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from callbridge.emulator.acs import errors, results
from callbridge.emulator.acs.calls import CallConnection, IncomingCallOffer, Invitation, Participant, ServerCall
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.resource import AcsResource, IdFactory
from callbridge.emulator.acs.results import Result
from callbridge.emulator.acs.timings import Timings
from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.journal import Journal
from callbridge.identifiers import Identifier, PhoneNumber, TeamsUser

NUMBER = "+18005550100"
CALLER = PhoneNumber("+14255550123")
ART = TeamsUser("fc4ccb5f-8046-4812-803f-6c344a5d1560")


@dataclass
class Scripted:
    """Endpoints that ring and do nothing until the test answers for them; a sink that keeps events."""

    ringing: list[Invitation] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    offers: list[IncomingCallOffer] = field(default_factory=list)

    def ring(self, invitation: Invitation) -> None:
        self.ringing.append(invitation)

    def stop_ringing(self, invitation: Invitation) -> None:
        if invitation in self.ringing:
            self.ringing.remove(invitation)

    def call_changed(self, call: ServerCall) -> None:
        pass

    def display_name(self, identifier: Identifier) -> str:
        return identifier.raw_id

    def callback(self, connection: CallConnection, uri: str, event_type: str, data: dict[str, Any]) -> None:
        self.events.append((event_type.removeprefix("Microsoft.Communication."), data))

    def incoming_call(self, offer: IncomingCallOffer, data: dict[str, Any]) -> None:
        self.offers.append(offer)

    def types(self) -> list[str]:
        return [t for t, _ in self.events]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_800_000_000.0)


@pytest.fixture
def world(clock: VirtualClock) -> tuple[CallEngine, Scripted]:
    ids = IdFactory(seed=7)
    resource = AcsResource.create(ids)
    resource.phone_numbers.append(NUMBER)
    scripted = Scripted()
    engine = CallEngine(clock, resource, Journal(clock), Timings(), scripted, scripted, ids)
    return engine, scripted


def _connected(engine: CallEngine, scripted: Scripted, clock: VirtualClock) -> CallConnection:
    call = engine.start_call(Participant(CALLER, CALLER.value))
    offer = engine.offer(call, PhoneNumber(NUMBER), CALLER)
    connection = engine.answer(offer.context, "https://app/cb", "2026-03-12")
    clock.run_due()
    return connection


def test_a_180_second_ring_timeout_resolves_in_milliseconds(
    world: tuple[CallEngine, Scripted], clock: VirtualClock
) -> None:
    engine, scripted = world
    connection = _connected(engine, scripted, clock)
    engine.add_participant(connection.call_connection_id, ART, timeout_seconds=180)

    started = time.perf_counter()
    clock.advance(179.999)
    assert "AddParticipantFailed" not in scripted.types()
    clock.advance(0.001)
    elapsed = time.perf_counter() - started

    failed = [d for t, d in scripted.events if t == "AddParticipantFailed"]
    assert failed and failed[0]["resultInformation"]["subCode"] == 10004
    assert elapsed < 1.0
    assert scripted.ringing == []


def test_answer_connects_on_the_next_tick_and_reports_participants(
    world: tuple[CallEngine, Scripted], clock: VirtualClock
) -> None:
    engine, scripted = world
    connection = _connected(engine, scripted, clock)

    assert scripted.types() == ["CallConnected", "ParticipantsUpdated"]
    assert connection.state.value == "connected"
    participants = scripted.events[1][1]["participants"]
    assert [p["identifier"]["rawId"] for p in participants] == [CALLER.raw_id, f"4:{NUMBER}"]


def test_accept_then_remove_then_caller_hangs_up(world: tuple[CallEngine, Scripted], clock: VirtualClock) -> None:
    engine, scripted = world
    connection = _connected(engine, scripted, clock)
    invitation = engine.add_participant(connection.call_connection_id, ART, operation_context="ctx")

    engine.invitation_answered(invitation.invitation_id)
    engine.remove_participant(connection.call_connection_id, ART)
    clock.run_due()
    engine.participant_left(connection.call.server_call_id, CALLER)

    assert scripted.types()[2:] == [
        "AddParticipantSucceeded",
        "ParticipantsUpdated",
        "RemoveParticipantSucceeded",
        "ParticipantsUpdated",
        "CallDisconnected",
    ]
    numbers = [d["sequenceNumber"] for t, d in scripted.events if t == "ParticipantsUpdated"]
    assert numbers == sorted(numbers)
    with pytest.raises(errors.EngineError) as gone:
        engine.add_participant(connection.call_connection_id, ART)
    refused = errors.to_acs_error(gone.value)
    assert (refused.status, refused.code) == (400, "8528")


def test_decline_reports_the_result_the_endpoint_gave(world: tuple[CallEngine, Scripted], clock: VirtualClock) -> None:
    engine, scripted = world
    connection = _connected(engine, scripted, clock)
    invitation = engine.add_participant(connection.call_connection_id, ART)
    declined: Result = results.DECLINED

    engine.invitation_failed(invitation.invitation_id, declined)
    engine.invitation_failed(invitation.invitation_id, results.BUSY)

    failures = [d["resultInformation"] for t, d in scripted.events if t == "AddParticipantFailed"]
    assert failures == [declined.as_json()]


def test_an_unanswered_offer_expires_and_ends_the_callers_call(
    world: tuple[CallEngine, Scripted], clock: VirtualClock
) -> None:
    engine, _ = world
    call = engine.start_call(Participant(CALLER, CALLER.value))
    offer = engine.offer(call, PhoneNumber(NUMBER), CALLER)

    clock.advance(30)

    assert call.ended
    with pytest.raises(errors.OfferExpired) as late:
        engine.answer(offer.context, "https://app/cb", "2026-03-12")
    assert errors.to_acs_error(late.value).code == "8587"
