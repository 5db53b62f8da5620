"""How each Call Automation event changes a call record, and what it makes routing do next (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callbridge.identifiers import from_raw_id
from callbridge.service import routing
from callbridge.service.events import Event
from callbridge.service.explain import explain
from callbridge.service.models import CallRecord, CallState, Invitation, Outcome, Person, Target, now
from callbridge.service.routing import Action

TRANSFERRED_AWAY = 7015  # the app's leg ends this way after a 1:1 transfer
OUTCOME_KINDS = {
    "AddParticipantSucceeded": ("add", True),
    "AddParticipantFailed": ("add", False),
    "RemoveParticipantSucceeded": ("remove", True),
    "RemoveParticipantFailed": ("remove", False),
    "CallTransferAccepted": ("transfer", True),
    "CallTransferFailed": ("transfer", False),
    "CancelAddParticipantSucceeded": ("cancel", True),
    "CancelAddParticipantFailed": ("cancel", False),
}


@dataclass
class Applied:
    """What an event did: the actions to take next, the outcome it settles, and a line for the timeline."""

    summary: str
    actions: list[Action] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    also_settles: list[Outcome] = field(default_factory=list)

    @property
    def announced(self) -> list[Outcome]:
        """Everything an operator may be waiting on: the outcomes, and operations they end as a side effect."""
        return self.outcomes + self.also_settles


def display_name(record: CallRecord, raw_id: str) -> str:
    """The best name the service knows for a participant."""
    if raw_id in record.names:
        return record.names[raw_id]
    if raw_id.startswith("4:"):
        return raw_id[2:]
    return raw_id


def apply(record: CallRecord, event: Event, targets: list[Target] | None, resource_id: str | None) -> Applied:
    """Update ``record`` for ``event``; pure, so it can run inside the store's atomic update."""
    data = event.data
    record.call_connection_id = record.call_connection_id or data.get("callConnectionId")
    record.server_call_id = record.server_call_id or data.get("serverCallId")
    record.correlation_id = record.correlation_id or data.get("correlationId")
    kind = event.short_type
    if kind in OUTCOME_KINDS:
        return _outcome(record, kind, data, resource_id)
    if kind == "CallConnected":
        record.state = CallState.CONNECTED
        actions = routing.start(record, targets) if targets is not None else []
        return Applied("call connected" + _routing_note(record), actions)
    if kind == "ParticipantsUpdated":
        return _participants(record, data)
    if kind in ("CallDisconnected", "AnswerFailed", "CreateCallFailed", "ConnectFailed"):
        transferred = (data.get("resultInformation") or {}).get("subCode") == TRANSFERRED_AWAY
        record.state = CallState.TRANSFERRED if transferred else CallState.ENDED
        record.ended_at = now()
        record.invitations.clear()
        return Applied(f"{kind} ({_code(data)})")
    return Applied(kind)


def _routing_note(record: CallRecord) -> str:
    skipped = [f"{t.display_name or t.query} ({t.skipped})" for t in record.routing.targets if t.skipped]
    return f"; skipped {', '.join(skipped)}" if skipped else ""


def _code(data: dict[str, Any]) -> str:
    info = data.get("resultInformation") or {}
    return f"{info.get('code')}/{info.get('subCode')}"


def _participants(record: CallRecord, data: dict[str, Any]) -> Applied:
    sequence = data.get("sequenceNumber")
    if isinstance(sequence, int) and sequence <= record.sequence_number:
        return Applied(f"ParticipantsUpdated #{sequence} (older than #{record.sequence_number}, ignored)")
    if isinstance(sequence, int):
        record.sequence_number = sequence
    people = []
    for item in data.get("participants") or []:
        identifier = item.get("identifier") or {}
        raw_id = str(identifier.get("rawId", ""))
        people.append(
            Person(
                raw_id=raw_id,
                kind=str(identifier.get("kind", "unknown")),
                display_name=display_name(record, raw_id),
                is_muted=bool(item.get("isMuted")),
                is_on_hold=bool(item.get("isOnHold")),
                is_app=raw_id == record.app_raw_id,
            )
        )
    record.participants = people
    return Applied("participants: " + ", ".join(p.display_name for p in people if not p.is_app))


def _outcome(record: CallRecord, kind: str, data: dict[str, Any], resource_id: str | None) -> Applied:
    operation, succeeded = OUTCOME_KINDS[kind]
    context = data.get("operationContext")
    info = data.get("resultInformation") or {}
    code, sub_code = info.get("code"), info.get("subCode")
    target_raw = _target_raw_id(data)
    if operation == "cancel":
        invitation = _by_invitation_id(record, data.get("invitationId"))
    else:
        invitation = record.invitations.get(context) if isinstance(context, str) else None
    name = invitation.display_name if invitation else display_name(record, target_raw or "")
    upn = invitation.user_principal_name if invitation else None
    actions: list[Action] = []
    settled: list[Outcome] = []
    ended_add: Outcome | None = None
    if succeeded and target_raw:
        _roster_follows(record, operation, target_raw, name)
    if operation == "add" and invitation is not None:
        del record.invitations[invitation.operation_context]
        actions = routing.ring_answered(record, invitation) if succeeded else routing.ring_failed(record, invitation)
    elif operation == "cancel" and succeeded and invitation is not None:
        del record.invitations[invitation.operation_context]
        ended_add = _outcome_of(
            invitation.operation_context, "add", name, False, code, sub_code, f"stopped ringing {name}"
        )
    if succeeded:
        text = {"add": f"{name} joined", "remove": f"{name} was removed", "transfer": f"transferred to {name}",
                "cancel": f"stopped ringing {name}"}[operation]  # fmt: skip
    else:
        text = explain(code, sub_code, name, upn, resource_id)
    if isinstance(context, str):
        settled.insert(0, _outcome_of(context, operation, name, succeeded, code, sub_code, text))
    record.outcomes.extend(settled)
    return Applied(f"{kind}: {text}", actions, settled, [ended_add] if ended_add else [])


def _outcome_of(
    context: str, operation: str, name: str, succeeded: bool, code: int | None, sub_code: int | None, text: str
) -> Outcome:
    return Outcome(
        operation_context=context,
        operation=operation,
        target=name,
        succeeded=succeeded,
        code=code,
        sub_code=sub_code,
        explanation=text,
    )


def _target_raw_id(data: dict[str, Any]) -> str | None:
    for key in ("participant", "transferTarget"):
        value = data.get(key)
        if isinstance(value, dict) and isinstance(value.get("rawId"), str):
            return str(value["rawId"])
    return None


def _roster_follows(record: CallRecord, operation: str, raw_id: str, name: str) -> None:
    """Reflect a join or removal at once; the next ParticipantsUpdated confirms it."""
    present = [p for p in record.participants if p.raw_id.lower() != raw_id.lower()]
    if operation == "add":
        present.append(Person(raw_id=raw_id, kind=from_raw_id(raw_id).kind.value, display_name=name))
    if operation in ("add", "remove"):
        record.participants = present


def _by_invitation_id(record: CallRecord, invitation_id: object) -> Invitation | None:
    return next((i for i in record.invitations.values() if i.invitation_id == invitation_id), None)
