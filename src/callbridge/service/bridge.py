"""The service's core: incoming calls are answered and routed, callbacks drive the calls on, operators act.

Every event is claimed in the store before it is handled, so a redelivery, or a second replica receiving
the same event, changes nothing; every call change is an atomic update of the call's record.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from callbridge.service import routing
from callbridge.service.calls import CallControl, CallControlError
from callbridge.service.directory import (
    AmbiguousUser,
    Directory,
    DirectoryError,
    DirectoryUser,
    PresenceInfo,
    Throttled,
    UserNotFound,
    is_object_id,
)
from callbridge.service.events import INCOMING_CALL, Event, Unverified
from callbridge.service.handling import Applied, apply
from callbridge.service.models import AuditEntry, CallRecord, CallState, Invitation, Outcome, Target, TimelineEntry
from callbridge.service.routing import Action, CancelRing, HangUp, Remove, Ring, TransferTo
from callbridge.service.settings import E164, ServiceSettings
from callbridge.service.store import Store

log = logging.getLogger(__name__)
DEFAULT_WAIT_SECONDS = 60.0
CHANGES = "changes"
CALL_TERMINATED = "8528"  # ACS's code for an action on a call connection it has ended


class OperatorError(Exception):
    """An operator request that cannot be carried out; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class OperationResult:
    """What an operator action started, and how it ended when the caller chose to wait."""

    operation_context: str
    target: str
    invitation_id: str | None = None
    outcome: Outcome | None = None


class CallBridge:
    """Answers, routes and controls calls; one per service process, any number per store."""

    def __init__(
        self, settings: ServiceSettings, store: Store, control: CallControl, directory: Directory | None
    ) -> None:
        self.settings = settings
        self.store = store
        self.control = control
        self.directory = directory

    # ------------------------------------------------------------------ inbound

    async def incoming_calls(self, events: list[Event]) -> None:
        """Handle every IncomingCall of an Event Grid batch; duplicates (same event or same call) are dropped."""
        for event in events:
            if event.type == INCOMING_CALL:
                await self._incoming_call(event)

    async def _incoming_call(self, event: Event) -> None:
        data = event.data
        context = data.get("incomingCallContext")
        if not isinstance(context, str) or not context:
            return
        if event.id and not await self.store.claim(f"eventgrid:{event.id}"):
            return
        if not await self.store.claim("incoming:" + hashlib.sha256(context.encode()).hexdigest()):
            return
        called = _number_or_raw(data.get("to"))
        rule = self.settings.rule_for(called)
        if rule is None:
            log.info("no routing rule for %s; leaving the call for another app", called)
            return
        caller = _number_or_raw(data.get("from"))
        record = CallRecord(
            call_key=uuid.uuid4().hex,
            secret=secrets.token_urlsafe(24),
            caller=caller,
            called=called,
            app_raw_id=_raw(data.get("to")),
            server_call_id=data.get("serverCallId"),
            correlation_id=data.get("correlationId"),
            rule=rule,
        )
        record.names[_raw(data.get("from")) or caller] = str(data.get("callerDisplayName") or caller)
        await self.store.create_call(record)
        await self._note(record.call_key, "event", f"IncomingCall from {caller} to {called}", data)
        try:
            answered = await self.control.answer(
                context, self.callback_url(record), routing.new_operation_context("answer")
            )
        except CallControlError as exc:
            await self._ended(record.call_key, f"could not answer: {exc}")
            return

        def learn(current: CallRecord) -> None:
            current.call_connection_id = current.call_connection_id or answered.call_connection_id
            current.server_call_id = current.server_call_id or answered.server_call_id

        await self.store.update_call(record.call_key, learn)
        await self._note(record.call_key, "action", f"answered ({rule.strategy})")

    def callback_url(self, record: CallRecord) -> str:
        """Where ACS posts this call's events: a per-call path with a per-call secret."""
        return f"{self.settings.public_base_url or ''}/callbacks/{record.call_key}/{record.secret}"

    async def callbacks(self, call_key: str, secret: str, events: list[Event]) -> None:
        """Handle every event of a verified callback; Unverified when the path's secret is wrong."""
        record = await self.store.get_call(call_key)
        if record is None or not secrets.compare_digest(secret.encode(), record.secret.encode()):
            raise Unverified("unknown call or wrong secret in the callback path")
        for event in events:
            await self._callback(record, event)

    async def _callback(self, verified: CallRecord, event: Event) -> None:
        call_key = verified.call_key
        if event.id and not await self.store.claim(f"callback:{event.id}"):
            return
        targets = await self._targets_for(verified) if event.short_type == "CallConnected" else None
        resource = self.settings.acs_immutable_resource_id
        record, applied = await self.store.update_call(call_key, lambda r: apply(r, event, targets, resource))
        await self._note(call_key, "event", applied.summary, event.data)
        for outcome in applied.announced:
            await self._announce(outcome)
        await self._execute(record, applied.actions)

    async def _announce(self, outcome: Outcome) -> None:
        """Tell whichever replica waits for this operation how it ended."""
        await self.store.publish(f"outcome:{outcome.operation_context}", outcome.model_dump(mode="json"))

    async def _targets_for(self, record: CallRecord) -> list[Target] | None:
        """Resolve the rule's targets to Teams users with their presence, before routing starts.

        ``routing.start`` checks the phase again inside the atomic update, so a record read a moment ago will do."""
        rule = record.rule
        if rule is None or rule.strategy == "none" or record.routing.phase != "waiting":
            return None
        targets: list[Target] = []
        for query in rule.targets:
            target = Target(query=query)
            try:
                user = await self._find(query)
            except (DirectoryError, OperatorError) as exc:
                target.skipped = str(exc)
            else:
                target.user_id, target.display_name = user.id, user.display_name
                target.user_principal_name = user.user_principal_name
            targets.append(target)
        await self._check_presence([t for t in targets if t.user_id and not t.skipped])
        return targets

    async def _check_presence(self, targets: list[Target]) -> None:
        if self.directory is None or not targets:
            return
        try:
            presence = await self.directory.presence([t.user_id for t in targets if t.user_id])
        except DirectoryError as exc:
            log.warning("presence unavailable, ringing without it: %s", exc)
            return
        for target in targets:
            info = presence.get(target.user_id or "")
            if info is not None:
                target.availability = info.availability
                if not info.reachable:
                    target.skipped = f"presence {info.availability}"

    # ------------------------------------------------------------------ actions

    async def _execute(self, record: CallRecord, actions: list[Action]) -> None:
        for action in actions:
            try:
                await self._perform(record, action)
            except CallControlError as exc:
                await self._action_failed(record.call_key, action, exc)

    async def _perform(self, record: CallRecord, action: Action) -> None:
        connection = record.call_connection_id
        if connection is None:
            raise CallControlError("the call has no connection yet")
        match action:
            case Ring():
                invitation_id = await self.control.add_teams_user(
                    connection, action.user_id, action.source_display_name, action.timeout_seconds,
                    action.invitation.operation_context,
                )  # fmt: skip
                await self._note(record.call_key, "action", f"ringing {action.invitation.display_name}")
                await self._learn_invitation(record.call_key, action.invitation.operation_context, invitation_id)
            case CancelRing():
                await self._cancel(record.call_key, action.operation_context)
            case Remove():
                await self.control.remove(connection, action.raw_id, routing.new_operation_context("remove"))
                await self._note(record.call_key, "action", f"removing {action.display_name} (answered too late)")
            case TransferTo():
                await self.control.transfer(
                    connection, f"4:{action.number}", routing.new_operation_context("fallback"),
                    source_caller_id=record.called if record.called.startswith("+") else None,
                )  # fmt: skip
                await self._note(record.call_key, "action", f"nobody answered: transferring to {action.number}")
            case HangUp():
                await self.control.hang_up(connection, for_everyone=True)
                await self._note(record.call_key, "action", "nobody answered: hanging up")

    async def _learn_invitation(self, call_key: str, context: str, invitation_id: str) -> None:
        """Remember the invitation id; if it was cancelled meanwhile (simultaneous ring), cancel it now."""

        def learn(record: CallRecord) -> bool:
            invitation = record.invitations.get(context)
            if invitation is None:
                return False
            invitation.invitation_id = invitation_id
            return invitation.cancel_requested

        _, cancel_now = await self.store.update_call(call_key, learn)
        if cancel_now:
            await self._cancel(call_key, context)

    async def _cancel(self, call_key: str, context: str) -> None:
        def request(record: CallRecord) -> tuple[str | None, str | None]:
            invitation = record.invitations.get(context)
            if invitation is None:
                return None, None
            invitation.cancel_requested = True
            return invitation.invitation_id, record.call_connection_id

        _, (invitation_id, connection) = await self.store.update_call(call_key, request)
        if invitation_id is None or connection is None:
            return
        await self.control.cancel_add(connection, invitation_id, routing.new_operation_context("cancel"))

    async def _action_failed(self, call_key: str, action: Action, exc: CallControlError) -> None:
        """A request ACS refused outright: record it, and for a ring let routing move on."""
        if not isinstance(action, Ring):
            await self._note(call_key, "action", f"{type(action).__name__} failed: {exc}")
            return
        invitation = action.invitation

        def fail(record: CallRecord) -> Applied:
            record.invitations.pop(invitation.operation_context, None)
            outcome = Outcome(
                operation_context=invitation.operation_context, operation="add", target=invitation.display_name,
                succeeded=False, explanation=f"could not ring {invitation.display_name}: {exc}",
            )  # fmt: skip
            record.outcomes.append(outcome)
            return Applied(outcome.explanation, routing.ring_failed(record, invitation), [outcome])

        record, applied = await self.store.update_call(call_key, fail)
        await self._note(call_key, "action", applied.summary)
        for outcome in applied.announced:
            await self._announce(outcome)
        await self._execute(record, applied.actions)

    # ------------------------------------------------------------------ operator actions

    async def add(
        self,
        call: str,
        user: str,
        actor: str,
        source_display_name: str | None = None,
        timeout_seconds: int = 30,
        wait: bool = False,
    ) -> OperationResult:
        """Ring a Teams user (by name, UPN, mail or object id) into a call; optionally wait for the outcome."""
        record = await self._connected(call)
        call_key = record.call_key
        found = await self._find(user)
        raw_id = routing.teams_raw_id(found.id)
        if any(p.raw_id.lower() == raw_id.lower() for p in record.participants):
            raise OperatorError(409, f"{found.display_name} is already in the call")
        invitation = Invitation(
            operation_context=routing.new_operation_context("add"),
            purpose="add",
            target_raw_id=raw_id,
            display_name=found.display_name,
            user_principal_name=found.user_principal_name,
        )
        await self.store.update_call(call_key, lambda r: routing.remember(r, invitation))
        connection = str(record.call_connection_id)
        name = source_display_name or (record.rule.source_display_name if record.rule else None)

        async def send() -> str:
            invitation_id = await self.control.add_teams_user(
                connection, found.id, name, timeout_seconds, invitation.operation_context
            )
            await self._learn_invitation(call_key, invitation.operation_context, invitation_id)
            return invitation_id

        outcome, invitation_id = await self._run(invitation.operation_context, send, wait, call_key)
        await self._audit(actor, "add", call_key, found.display_name, outcome)
        return OperationResult(invitation.operation_context, found.display_name, invitation_id, outcome)

    async def remove(self, call: str, user: str, actor: str, wait: bool = False) -> OperationResult:
        """Take someone out of the call (by name, UPN, mail, object id or raw id)."""
        record = await self._connected(call)
        call_key = record.call_key
        participant = await self._participant(record, user)
        context = routing.new_operation_context("remove")
        connection = str(record.call_connection_id)
        outcome, _ = await self._run(
            context, lambda: self.control.remove(connection, participant[0], context), wait, call_key
        )
        await self._audit(actor, "remove", call_key, participant[1], outcome)
        return OperationResult(context, participant[1], outcome=outcome)

    async def transfer(
        self, call: str, user: str, actor: str, transferee: str | None = None, wait: bool = False
    ) -> OperationResult:
        """Transfer the call to a Teams user or a phone number; with a transferee, swap that participant."""
        record = await self._connected(call)
        call_key = record.call_key
        if user.startswith("+"):
            if not E164.match(user):
                raise OperatorError(400, f"{user!r} is not an E.164 phone number such as +14255550123")
            raw_id, name = f"4:{user}", user
        else:
            found = await self._find(user)
            raw_id, name = routing.teams_raw_id(found.id), found.display_name
            await self.store.update_call(call_key, lambda r: r.names.__setitem__(raw_id, name))
        transferee_raw = (await self._participant(record, transferee))[0] if transferee else None
        context = routing.new_operation_context("transfer")
        source = record.called if raw_id.startswith("4:") and record.called.startswith("+") else None
        connection = str(record.call_connection_id)
        outcome, _ = await self._run(
            context,
            lambda: self.control.transfer(connection, raw_id, context, transferee_raw, source),
            wait,
            call_key,
        )
        await self._audit(actor, "transfer", call_key, name, outcome)
        return OperationResult(context, name, outcome=outcome)

    async def cancel(self, call: str, who: str, actor: str) -> OperationResult:
        """Stop ringing someone: by name, UPN, mail, object id, invitation id or operation context."""
        record = await self._connected(call)
        call_key = record.call_key
        invitation = _ringing(record, who)
        if invitation is None and not who.lower().startswith("callbridge:"):
            found = await self._find(who)
            invitation = _ringing(record, routing.teams_raw_id(found.id))
        if invitation is None:
            raise OperatorError(404, f"nobody matching {who!r} is being rung on this call")
        try:
            await self._cancel(call_key, invitation.operation_context)
        except CallControlError as exc:
            raise OperatorError(_status_for(exc), str(exc)) from None
        await self._audit(actor, "cancel", call_key, invitation.display_name, None)
        return OperationResult(invitation.operation_context, invitation.display_name, invitation.invitation_id)

    async def hang_up(self, call: str, actor: str, for_everyone: bool = True) -> None:
        record = await self.record(call)
        call_key = record.call_key
        if record.call_connection_id is None or not record.active:
            raise OperatorError(409, "the call is not active")
        try:
            await self.control.hang_up(record.call_connection_id, for_everyone)
        except CallControlError as exc:
            raise OperatorError(_status_for(exc), str(exc)) from None
        await self._audit(actor, "hang up" if not for_everyone else "terminate", call_key, None, None)

    async def _run(
        self, context: str, request: Callable[[], Awaitable[Any]], wait: bool, call_key: str
    ) -> tuple[Outcome | None, Any]:
        """Send a request and, when asked, wait for the event that settles it (from any replica)."""
        try:
            if not wait:
                return None, await request()
            async with self.store.listen(f"outcome:{context}") as messages:
                result = await request()
                try:
                    message = await asyncio.wait_for(anext(messages), DEFAULT_WAIT_SECONDS)
                except TimeoutError:
                    record = await self.store.get_call(call_key)
                    settled = [o for o in (record.outcomes if record else []) if o.operation_context == context]
                    return (settled[0] if settled else None), result
                return Outcome.model_validate(message), result
        except CallControlError as exc:
            raise OperatorError(_status_for(exc), str(exc)) from None

    # ------------------------------------------------------------------ lookups

    async def record(self, call: str) -> CallRecord:
        """The call an operator names, by the service's call key or by its ACS call connection id."""
        record = await self.store.get_call(call)
        if record is None:
            record = await self.store.find_call(call)
        if record is None:
            raise OperatorError(404, f"no call {call!r}")
        return record

    async def _connected(self, call: str) -> CallRecord:
        record = await self.record(call)
        if record.state is not CallState.CONNECTED or record.call_connection_id is None:
            raise OperatorError(409, f"the call is {record.state.value}, not connected")
        return record

    async def _find(self, query: str) -> DirectoryUser:
        if self.directory is None:
            if is_object_id(query):
                return DirectoryUser(query, query, None, None, None, None, None, None)
            raise OperatorError(503, "Graph is not configured, so users can only be given by object id")
        try:
            return await self.directory.find(query)
        except DirectoryError as exc:
            raise OperatorError(_directory_status(exc), str(exc)) from None

    async def _participant(self, record: CallRecord, who: str) -> tuple[str, str]:
        """A participant's raw id and name, found by name, raw id, or (through Graph) UPN, mail or id.

        The record's roster follows callbacks, which may still be on their way: before answering "not in the
        call", the service asks ACS who is in it."""
        wanted = who.lower()
        for person in record.participants:
            if wanted in (person.raw_id.lower(), person.display_name.lower()) and not person.is_app:
                return person.raw_id, person.display_name
        if wanted.startswith(("8:", "4:")):
            raw_id, name = who, record.names.get(who, who)
        else:
            found = await self._find(who)
            raw_id, name = routing.teams_raw_id(found.id), found.display_name
        if any(p.raw_id.lower() == raw_id.lower() for p in record.participants):
            return raw_id, name
        try:
            in_call = await self.control.participant_ids(str(record.call_connection_id))
        except CallControlError as exc:
            raise OperatorError(_status_for(exc), str(exc)) from None
        if raw_id.lower() not in {p.lower() for p in in_call}:
            raise OperatorError(404, f"{name} is not in the call")
        return raw_id, name

    async def search(self, text: str, top: int = 10) -> list[tuple[DirectoryUser, PresenceInfo | None]]:
        """Directory search with presence, for the operator's 'add' box."""
        if self.directory is None:
            raise OperatorError(503, "Graph is not configured")
        try:
            users = [u for u in await self.directory.search(text, top) if not u.is_resource_account]
            presence = await self.directory.presence([u.id for u in users]) if users else {}
        except DirectoryError as exc:
            raise OperatorError(_directory_status(exc), str(exc)) from None
        return [(u, presence.get(u.id)) for u in users]

    async def presence(self, user: str) -> tuple[DirectoryUser, PresenceInfo | None]:
        found = await self._find(user)
        assert self.directory is not None
        try:
            presence = await self.directory.presence([found.id], fresh=True)
        except DirectoryError as exc:
            raise OperatorError(_directory_status(exc), str(exc)) from None
        return found, presence.get(found.id)

    # ------------------------------------------------------------------ records

    async def _note(self, call_key: str, kind: str, summary: str, detail: dict[str, Any] | None = None) -> None:
        """Add to the call's timeline and tell live views (every replica's) that the call changed."""
        entry = TimelineEntry(kind=kind, summary=summary, detail=detail or {})
        await self.store.append_timeline(call_key, entry)
        await self.store.publish(
            CHANGES, {"callKey": call_key, "kind": kind, "summary": summary, "at": entry.at.isoformat()}
        )

    async def _ended(self, call_key: str, why: str) -> None:
        def end(record: CallRecord) -> None:
            record.state = CallState.ENDED

        await self.store.update_call(call_key, end)
        await self._note(call_key, "action", why)

    async def _audit(self, actor: str, action: str, call_key: str, target: str | None, outcome: Outcome | None) -> None:
        result = outcome.explanation if outcome else "requested"
        await self.store.audit(AuditEntry(actor=actor, action=action, call_key=call_key, target=target, result=result))
        await self._note(call_key, "operator", f"{actor}: {action} {target or ''}".strip() + f" — {result}")


def _ringing(record: CallRecord, who: str) -> Invitation | None:
    """The pending invitation ``who`` names directly (no directory lookup)."""
    wanted = who.lower()
    for invitation in record.invitations.values():
        names = {
            invitation.operation_context.lower(),
            (invitation.invitation_id or "").lower(),
            invitation.display_name.lower(),
            (invitation.user_principal_name or "").lower(),
            invitation.target_raw_id.lower(),
            invitation.target_raw_id.lower().removeprefix("8:orgid:"),
        }
        if wanted in names:
            return invitation
    return None


def _raw(identifier: object) -> str | None:
    if isinstance(identifier, dict) and isinstance(identifier.get("rawId"), str):
        return str(identifier["rawId"])
    return None


def _number_or_raw(identifier: object) -> str:
    raw = _raw(identifier) or ""
    return raw[2:] if raw.startswith("4:") else raw


def _status_for(exc: CallControlError) -> int:
    """The operator's status for what ACS refused: its own 4xx, a conflict for a call ACS has ended, else 502."""
    if exc.code == CALL_TERMINATED:
        return 409
    if exc.status in (400, 404, 409):
        return exc.status
    return 502


def _directory_status(exc: DirectoryError) -> int:
    if isinstance(exc, UserNotFound):
        return 404
    if isinstance(exc, AmbiguousUser):
        return 409
    if isinstance(exc, Throttled):
        return 429
    return 502
