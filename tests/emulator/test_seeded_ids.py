"""The same scenario, run twice on the virtual clock with the same ``--seed-ids``, makes the same ids."""

from __future__ import annotations

from callbridge.emulator.acs.calls import Participant
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.media import CallMedia
from callbridge.emulator.acs.resource import AcsResource, IdFactory
from callbridge.emulator.acs.timings import Timings
from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.journal import Journal
from callbridge.identifiers import PhoneNumber
from tests.emulator.test_engine import ART, CALLER, NUMBER, Scripted


def _ids_of_a_scenario(seed: int | None) -> list[str]:
    """Answer a call, add a Teams user, record, transfer to a number, and list every id that appeared."""
    clock = VirtualClock(start=1_800_000_000.0)
    ids = IdFactory(seed)
    resource = AcsResource.create(ids)
    resource.phone_numbers.append(NUMBER)
    scripted = Scripted()
    engine = CallEngine(clock, resource, Journal(clock), Timings(), scripted, scripted, ids)
    media = CallMedia(engine)
    call = engine.start_call(Participant(CALLER, CALLER.value))
    offer = engine.offer(call, PhoneNumber(NUMBER), CALLER)
    connection = engine.answer(offer.context, "https://app/cb", "2026-03-12")
    clock.run_due()
    invitation = engine.add_participant(connection.call_connection_id, ART)
    engine.invitation_answered(invitation.invitation_id)
    recording = media.start_recording(None, connection.call_connection_id, None, False)
    clock.run_due()
    created = engine.create_call([ART], "https://app/cb", "2026-03-12")
    clock.run_due()
    seen = [resource.immutable_id, resource.app_user_id, offer.context, invitation.invitation_id]
    seen += [recording.recording_id, created.call_connection_id, created.call.server_call_id]
    seen += [i.invitation_id for i in scripted.ringing]
    for _, data in scripted.events:
        seen += [data["callConnectionId"], data["serverCallId"], data["correlationId"]]
    return seen


def test_the_same_seed_makes_the_same_ids() -> None:
    first, second = _ids_of_a_scenario(42), _ids_of_a_scenario(42)

    assert first == second
    assert len(set(first)) > 8


def test_another_seed_or_none_makes_other_ids() -> None:
    seeded = _ids_of_a_scenario(42)

    assert _ids_of_a_scenario(43)[:2] != seeded[:2]
    assert _ids_of_a_scenario(None)[:2] != seeded[:2]
