"""Simulated Teams clients: incoming-call toasts, the in-call roster without the app, accept/decline/leave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from callbridge.emulator.acs import results
from callbridge.emulator.acs.calls import Invitation, ServerCall
from callbridge.emulator.acs.results import Result
from callbridge.emulator.clock import Clock, Timer
from callbridge.emulator.journal import CallIds, EntryKind, Journal, Lane
from callbridge.emulator.teams.presence import Presence, effective_presence
from callbridge.emulator.teams.tenant import TeamsTenant
from callbridge.emulator.teams.users import AnswerAction, TenantUser
from callbridge.identifiers import Identifier, TeamsApp, TeamsUser, to_model


class ClientError(LookupError):
    """A client action that cannot happen now (no such user, nothing ringing, not in a call)."""


class CallControl(Protocol):
    """The engine operations a Teams client triggers."""

    def invitation_answered(self, invitation_id: str) -> None: ...

    def invitation_failed(self, invitation_id: str, result: Result) -> None: ...

    def participant_left(self, server_call_id: str, identifier: Identifier) -> None: ...


class Naming(Protocol):
    """Display names for roster entries."""

    def display_name(self, identifier: Identifier) -> str: ...


@dataclass
class Toast:
    """An incoming-call notification as the Teams desktop client shows it."""

    invitation_id: str
    server_call_id: str
    source_display_name: str | None
    caller: Identifier
    caller_name: str
    received_at: float
    call_ids: CallIds
    timer: Timer | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "invitationId": self.invitation_id,
            "serverCallId": self.server_call_id,
            "sourceDisplayName": self.source_display_name,
            "caller": {**to_model(self.caller), "displayName": self.caller_name},
            "receivedAt": self.received_at,
        }


@dataclass
class TeamsClient:
    """One user's Teams client."""

    user_id: str
    toasts: dict[str, Toast] = field(default_factory=dict)
    active_call: ServerCall | None = None


class TeamsClients:
    """Every tenant user's client; rings them for the call engine and reports what they do."""

    def __init__(
        self, tenant: TeamsTenant, clock: Clock, journal: Journal, resource_id: str, gate_delay: float = 0.0
    ) -> None:
        self.tenant = tenant
        self.gate_delay = gate_delay
        self.clock = clock
        self.journal = journal
        self.resource_id = resource_id
        self.clients: dict[str, TeamsClient] = {}
        self._in_call: dict[str, set[str]] = {}  # server call id → the users whose client shows that call
        self.engine: CallControl | None = None
        self.naming: Naming | None = None

    def client(self, user_id: str) -> TeamsClient:
        user = self.tenant.user(user_id)
        if user is None:
            raise ClientError(f"no Teams user {user_id!r} in the tenant")
        return self.clients.setdefault(user.id, TeamsClient(user.id))

    def ring(self, invitation: Invitation) -> None:
        """Ring a Teams user (or a resource account by app id), unless an admin rule, their client or their
        answer says otherwise."""
        target = invitation.target
        if isinstance(target, TeamsApp):
            user = self.tenant.resource_account(target.app_id)
            blocked = self._why_unreachable(user, as_resource_account=True)
        else:
            assert isinstance(target, TeamsUser)
            user = self.tenant.user(target.user_id)
            blocked = self._why_unreachable(user)
        if blocked is not None:
            self._fail_later(invitation, blocked, self.gate_delay)
            return
        assert user is not None
        client = self.client(user.id)
        toast = Toast(
            invitation_id=invitation.invitation_id,
            server_call_id=invitation.call.server_call_id,
            source_display_name=invitation.source_display_name,
            caller=invitation.caller,
            caller_name=self._name(invitation.caller),
            received_at=self.clock.time(),
            call_ids=_ids_of(invitation),
        )
        client.toasts[toast.invitation_id] = toast
        self._record(user, f"toast: {toast.source_display_name or toast.caller_name} is calling", invitation)
        toast.timer = self._schedule_answer(user, invitation)

    def _why_unreachable(self, user: TenantUser | None, as_resource_account: bool = False) -> Result | None:
        """The result an invitation fails with before anything rings, or None."""
        if user is None or user.is_resource_account != as_resource_account:
            return results.OFFLINE
        if as_resource_account:
            federation = self.tenant.federation
            return None if federation.allows(self.resource_id) else results.NOT_FEDERATED
        blocked = self.tenant.gate(user, self.resource_id)
        if blocked is not None:
            return blocked
        if not user.online or not user.account_enabled:
            return results.OFFLINE
        client = self.clients.get(user.id)
        if client is not None and client.active_call is not None:
            return results.BUSY
        return None

    def _schedule_answer(self, user: TenantUser, invitation: Invitation) -> Timer | None:
        action = user.answer.action
        delay = user.answer.after_seconds
        if action is AnswerAction.ACCEPT:
            return self.clock.call_later(delay, lambda: self._accept(user.id, invitation.invitation_id))
        if action is AnswerAction.DECLINE:
            return self.clock.call_later(delay, lambda: self._decline(user.id, invitation.invitation_id))
        if action is AnswerAction.BUSY:
            return self._fail_later(invitation, results.BUSY, delay)
        return None

    def _fail_later(self, invitation: Invitation, result: Result, delay: float) -> Timer:
        engine = self._engine()
        return self.clock.call_later(delay, lambda: engine.invitation_failed(invitation.invitation_id, result))

    def stop_ringing(self, invitation: Invitation) -> None:
        """The invitation is over: take the toast down."""
        user = self._user_of(invitation.target)
        client = self.clients.get(user.id) if user is not None else None
        if client is None:
            return
        toast = client.toasts.pop(invitation.invitation_id, None)
        if toast is not None and toast.timer is not None:
            toast.timer.cancel()

    def _user_of(self, identifier: Identifier) -> TenantUser | None:
        if isinstance(identifier, TeamsUser):
            return self.tenant.user(identifier.user_id)
        if isinstance(identifier, TeamsApp):
            return self.tenant.resource_account(identifier.app_id)
        return None

    def call_changed(self, call: ServerCall) -> None:
        """Keep each client's active call in step with the rosters."""
        present = set() if call.ended else {u.id for p in call.humans() if (u := self._user_of(p.identifier))}
        for user_id in self._in_call.pop(call.server_call_id, set()) - present:
            client = self.clients.get(user_id)
            if client is not None and client.active_call is call:
                client.active_call = None
        for user_id in present:
            self.client(user_id).active_call = call
        if present:
            self._in_call[call.server_call_id] = present

    # ------------------------------------------------------------------ user actions

    def accept(self, user_id: str, invitation_id: str | None = None) -> Toast:
        """The user clicks Accept on a toast."""
        client = self.client(user_id)
        toast = self._toast(client, invitation_id)
        self._accept(client.user_id, toast.invitation_id)
        return toast

    def decline(self, user_id: str, invitation_id: str | None = None) -> Toast:
        """The user clicks Decline on a toast."""
        client = self.client(user_id)
        toast = self._toast(client, invitation_id)
        self._decline(client.user_id, toast.invitation_id)
        return toast

    def hang_up(self, user_id: str) -> ServerCall:
        """The user clicks Leave."""
        client = self.client(user_id)
        call = client.active_call
        if call is None:
            raise ClientError(f"{self._user_name(client.user_id)} is not in a call")
        self._record_action(client.user_id, "leaves the call", call)
        user = self.tenant.users[client.user_id]
        identity: Identifier = (
            TeamsApp(user.resource_account_app_id) if user.resource_account_app_id else TeamsUser(user.id)
        )
        self._engine().participant_left(call.server_call_id, identity)
        return call

    def _accept(self, user_id: str, invitation_id: str) -> None:
        self._record_action(user_id, "accepts", None, invitation_id)
        self._engine().invitation_answered(invitation_id)

    def _decline(self, user_id: str, invitation_id: str) -> None:
        self._record_action(user_id, "declines", None, invitation_id)
        self._engine().invitation_failed(invitation_id, results.DECLINED)

    def _toast(self, client: TeamsClient, invitation_id: str | None) -> Toast:
        if invitation_id is not None:
            toast = client.toasts.get(invitation_id)
            if toast is None:
                raise ClientError(f"no incoming call {invitation_id!r} on {self._user_name(client.user_id)}'s client")
            return toast
        if not client.toasts:
            raise ClientError(f"nothing is ringing on {self._user_name(client.user_id)}'s client")
        return next(iter(client.toasts.values()))

    # ------------------------------------------------------------------ views

    def presence(self, user: TenantUser) -> Presence:
        """The user's presence as Graph reports it: Busy/InACall while in a call, back to theirs after."""
        client = self.clients.get(user.id)
        in_call = client is not None and client.active_call is not None
        return effective_presence(user.presence, user.online and user.account_enabled, in_call)

    def view(self, user_id: str) -> dict[str, Any]:
        """What the user's client shows: toasts and the roster of their call, without Call Automation apps."""
        client = self.client(user_id)
        user = self.tenant.users[client.user_id]
        call = client.active_call
        active = None
        if call is not None:
            active = {
                "serverCallId": call.server_call_id,
                "roster": [
                    {**to_model(p.identifier), "displayName": p.display_name, "isMuted": p.is_muted}
                    for p in call.humans()
                ],
            }
        return {
            "userId": user.id,
            "displayName": user.display_name,
            "online": user.online,
            "presence": self.presence(user).as_json(),
            "incomingCalls": [t.as_json() for t in client.toasts.values()],
            "activeCall": active,
        }

    # ------------------------------------------------------------------ helpers

    def _engine(self) -> CallControl:
        if self.engine is None:
            raise RuntimeError("Teams clients are not attached to a call engine")
        return self.engine

    def _name(self, identifier: Identifier) -> str:
        return self.naming.display_name(identifier) if self.naming else identifier.raw_id

    def _user_name(self, user_id: str) -> str:
        user = self.tenant.users.get(user_id)
        return user.display_name if user else user_id

    def _record(self, user: TenantUser, summary: str, invitation: Invitation) -> None:
        self.journal.record(
            EntryKind.CLIENT,
            Lane.ACS,
            Lane.TEAMS,
            f"{user.display_name}: {summary}",
            _ids_of(invitation),
            detail={"userId": user.id, "invitationId": invitation.invitation_id},
        )

    def _record_action(
        self, user_id: str, action: str, call: ServerCall | None, invitation_id: str | None = None
    ) -> None:
        ids = call.ids if call is not None else CallIds()
        detail: dict[str, Any] = {"userId": user_id}
        if invitation_id is not None:
            detail["invitationId"] = invitation_id
            toast = self.clients[user_id].toasts.get(invitation_id) if user_id in self.clients else None
            if toast is not None:
                ids = toast.call_ids
        self.journal.record(
            EntryKind.CLIENT, Lane.TEAMS, Lane.ACS, f"{self._user_name(user_id)} {action}", ids, detail=detail
        )


def _ids_of(invitation: Invitation) -> CallIds:
    return invitation.connection.ids if invitation.connection else invitation.call.ids
