"""What to do with a call, decided from its record alone: who to ring next, what to cancel, when to give up.

These functions change the CallRecord and return the actions to take; they do no I/O, so the store can
apply them atomically and tests can drive them directly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from callbridge.identifiers import TeamsUser
from callbridge.service.models import CallRecord, Invitation, Target


@dataclass(frozen=True)
class Ring:
    """Invite a Teams user (on behalf of routing or an operator)."""

    invitation: Invitation
    user_id: str
    source_display_name: str | None
    timeout_seconds: int


@dataclass(frozen=True)
class CancelRing:
    """Withdraw a pending invitation."""

    operation_context: str


@dataclass(frozen=True)
class Remove:
    """Take someone out of the call (a late acceptance in a simultaneous ring)."""

    raw_id: str
    display_name: str


@dataclass(frozen=True)
class TransferTo:
    """Hand the caller to a phone number (the fallback)."""

    number: str


@dataclass(frozen=True)
class HangUp:
    """End the call for everyone (the fallback)."""


Action = Ring | CancelRing | Remove | TransferTo | HangUp


def new_operation_context(purpose: str) -> str:
    return f"callbridge:{purpose}:{uuid.uuid4().hex}"


def teams_raw_id(user_id: str) -> str:
    return TeamsUser(user_id).raw_id


def _ring(record: CallRecord, target: Target) -> Ring:
    assert target.user_id is not None
    rule = record.rule
    invitation = Invitation(
        operation_context=new_operation_context("route"),
        purpose="add",
        target_raw_id=teams_raw_id(target.user_id),
        display_name=target.display_name or target.query,
        user_principal_name=target.user_principal_name,
        by_routing=True,
    )
    remember(record, invitation)
    return Ring(
        invitation,
        target.user_id,
        rule.source_display_name if rule else None,
        rule.ring_timeout_seconds if rule else 30,
    )


def remember(record: CallRecord, invitation: Invitation) -> None:
    """Track an invitation before its request goes out (its events may arrive before the response)."""
    record.invitations[invitation.operation_context] = invitation
    record.names[invitation.target_raw_id] = invitation.display_name


def start(record: CallRecord, targets: list[Target]) -> list[Action]:
    """The call is connected: begin ringing per the rule's strategy (targets already resolved)."""
    rule = record.rule
    if rule is None or rule.strategy == "none" or record.routing.phase != "waiting":
        return []
    record.routing.strategy = rule.strategy
    record.routing.targets = targets
    record.routing.phase = "ringing"
    ringable = [t for t in targets if t.user_id and not t.skipped]
    if not ringable:
        return _fallback(record)
    if rule.strategy == "simultaneous":
        return [_ring(record, t) for t in ringable]
    return _ring_next(record)


def _ring_next(record: CallRecord) -> list[Action]:
    targets = record.routing.targets
    while record.routing.next_index < len(targets):
        target = targets[record.routing.next_index]
        record.routing.next_index += 1
        if target.user_id and not target.skipped:
            return [_ring(record, target)]
    return _fallback(record)


def _fallback(record: CallRecord) -> list[Action]:
    record.routing.phase = "fallback"
    fallback = record.rule.fallback if record.rule else None
    if fallback is not None and fallback.action == "transfer" and fallback.number:
        return [TransferTo(fallback.number)]
    return [HangUp()]


def ring_answered(record: CallRecord, invitation: Invitation) -> list[Action]:
    """Someone routing rang accepted: in a simultaneous ring, withdraw or undo the others."""
    if not invitation.by_routing:
        return []
    if record.routing.phase != "ringing":
        return [Remove(invitation.target_raw_id, invitation.display_name)]
    record.routing.phase = "answered"
    record.routing.answered_by = invitation.display_name
    return [CancelRing(other.operation_context) for other in record.invitations.values() if other.by_routing]


def ring_failed(record: CallRecord, invitation: Invitation) -> list[Action]:
    """Someone routing rang did not come: ring the next, or, once nobody is left ringing, fall back."""
    if not invitation.by_routing or record.routing.phase != "ringing":
        return []
    if record.routing.strategy == "simultaneous":
        if any(i.by_routing for i in record.invitations.values()):
            return []
        return _fallback(record)
    return _ring_next(record)
