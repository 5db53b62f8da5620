"""Call records and Call Automation callback events built in a test, shaped as ACS sends them (no servers)."""

from __future__ import annotations

import uuid
from typing import Any

from callbridge.service.events import EVENT_PREFIX, Event
from callbridge.service.models import CallRecord, CallState, Invitation, Target
from callbridge.service.routing import Ring
from callbridge.service.settings import Fallback, RoutingRule

NUMBER = "+18005550100"
CALLER = "+14255550123"
OUTSIDE_NUMBER = "+14255550199"
CONNECTION = "c1a2b3c4-0000-4000-8000-000000000001"
SERVER_CALL = "aHR0cHM6Ly9zZXJ2ZXItY2FsbA"
CORRELATION = "c0ffee00-0000-4000-8000-000000000002"
RESOURCE = "11111111-2222-4333-8444-555555555555"
SOURCE_NAME = "Jack (Contoso Tech Support)"
PEOPLE = {
    "Megan Bowen": "2b7e8f4c-6d1a-4c3e-9f0b-5a8d7c6e1f20",
    "Alex Wilber": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    "Art Anderson": "fc4ccb5f-8046-4812-803f-6c344a5d1560",
    "Lidia Holloway": "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
    "Isaiah Langer": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
}
SUCCESS = (200, 0)


def upn(name: str) -> str:
    return name.replace(" ", "").lower() + "@contoso.onmicrosoft.com"


def target(name: str, skipped: str | None = None) -> Target:
    """A rule target resolved to a Teams user (``skipped`` as presence or the directory would set it)."""
    return Target(query=name, user_id=PEOPLE[name], display_name=name, user_principal_name=upn(name), skipped=skipped)


def unresolved(query: str, why: str) -> Target:
    """A rule target the directory could not find."""
    return Target(query=query, skipped=why)


def rule(
    strategy: str = "first-available", fallback: Fallback | None = None, ring_timeout_seconds: int = 20
) -> RoutingRule:
    return RoutingRule.model_validate(
        {
            "number": NUMBER,
            "strategy": strategy,
            "source_display_name": SOURCE_NAME,
            "ring_timeout_seconds": ring_timeout_seconds,
            "fallback": fallback or Fallback(action="hangup"),
        }
    )


def answering(call_rule: RoutingRule | None = None) -> CallRecord:
    """A call as the service records it on IncomingCall, before ACS connects it."""
    record = CallRecord(
        call_key=uuid.uuid4().hex,
        secret="secret",
        caller=CALLER,
        called=NUMBER,
        app_raw_id=f"4:{NUMBER}",
        server_call_id=SERVER_CALL,
        correlation_id=CORRELATION,
        rule=call_rule or rule(strategy="none"),
    )
    record.names[f"4:{CALLER}"] = CALLER
    return record


def connected(call_rule: RoutingRule | None = None) -> CallRecord:
    """A connected call that routing has not touched (the rule rings nobody unless given)."""
    record = answering(call_rule)
    record.state = CallState.CONNECTED
    record.call_connection_id = CONNECTION
    return record


def ringing(record: CallRecord, name: str, invitation_id: str | None = None, by_routing: bool = False) -> Invitation:
    """An invitation the service sent (as an operator's add does), with the id ACS answered."""
    invitation = Invitation(
        operation_context=f"callbridge:add:{uuid.uuid4().hex}",
        purpose="add",
        target_raw_id=teams(name)["rawId"],
        display_name=name,
        user_principal_name=upn(name),
        invitation_id=invitation_id or str(uuid.uuid4()),
        by_routing=by_routing,
    )
    record.invitations[invitation.operation_context] = invitation
    record.names[invitation.target_raw_id] = name
    return invitation


# ---------------------------------------------------------------------------------------------- identifiers


def teams(name: str) -> dict[str, Any]:
    user_id = PEOPLE[name]
    return {
        "rawId": f"8:orgid:{user_id}",
        "kind": "microsoftTeamsUser",
        "microsoftTeamsUser": {"userId": user_id, "isAnonymous": False, "cloud": "public"},
    }


def phone(number: str) -> dict[str, Any]:
    return {"rawId": f"4:{number}", "kind": "phoneNumber", "phoneNumber": {"value": number}}


# ---------------------------------------------------------------------------------------------- events


def event(kind: str, result: tuple[int, int] | None = SUCCESS, **data: Any) -> Event:
    """A callback event as ``events.parse_batch`` yields it: the common fields, then the event's own."""
    common: dict[str, Any] = {
        "callConnectionId": CONNECTION,
        "serverCallId": SERVER_CALL,
        "correlationId": CORRELATION,
        "version": "2026-03-12",
        "publicEventType": EVENT_PREFIX + kind,
    }
    if result is not None:
        common["resultInformation"] = {"code": result[0], "subCode": result[1], "message": ""}
    return Event(str(uuid.uuid4()), EVENT_PREFIX + kind, common | data)


def roster(sequence: int | None, *identifiers: dict[str, Any], muted: tuple[str, ...] = ()) -> Event:
    """ParticipantsUpdated with these identifiers (the app's own leg included as ACS includes it)."""
    participants = [
        {"identifier": identifier, "isMuted": identifier["rawId"] in muted, "isOnHold": False}
        for identifier in identifiers
    ]
    data: dict[str, Any] = {"participants": participants}
    if sequence is not None:
        data["sequenceNumber"] = sequence
    return event("ParticipantsUpdated", **data)


def added(invitation: Invitation, result: tuple[int, int] = SUCCESS) -> Event:
    """AddParticipantSucceeded, or AddParticipantFailed with ``result`` (e.g. 603/0 declined)."""
    kind = "AddParticipantSucceeded" if result == SUCCESS else "AddParticipantFailed"
    return event(
        kind, result, operationContext=invitation.operation_context, participant=teams(invitation.display_name)
    )


def rang(ring: Ring, result: tuple[int, int] = SUCCESS) -> Event:
    """How a ring that routing sent ended."""
    return added(ring.invitation, result)


def cancelled(invitation: Invitation, context: str, result: tuple[int, int] = SUCCESS) -> Event:
    """CancelAddParticipantSucceeded (or Failed, with ``result``) for an invitation."""
    kind = "CancelAddParticipantSucceeded" if result == SUCCESS else "CancelAddParticipantFailed"
    return event(kind, result, operationContext=context, invitationId=invitation.invitation_id)
