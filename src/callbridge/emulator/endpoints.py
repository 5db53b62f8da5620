"""Who answers when the call engine rings someone: Teams clients, phones, ACS users, or the resource's apps."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callbridge.emulator.acs import results
from callbridge.emulator.acs.calls import Invitation, ServerCall
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.resource import AcsResource
from callbridge.emulator.clock import Clock, Timer
from callbridge.emulator.pstn import PhoneNetwork
from callbridge.emulator.teams.clients import TeamsClients
from callbridge.emulator.teams.tenant import TeamsTenant
from callbridge.identifiers import CommunicationUser, Identifier, PhoneNumber, TeamsApp, TeamsUser


class RuleError(ValueError):
    """An endpoint rule that cannot be understood."""


class RuleAction(StrEnum):
    """How an ACS user or a phone outside the resource answers."""

    ACCEPT = "accept"
    DECLINE = "decline"
    BUSY = "busy"
    NO_ANSWER = "noAnswer"
    INCOMING_CALL = "incomingCall"


@dataclass(frozen=True)
class EndpointRule:
    """For raw ids matching ``pattern`` (shell-style, e.g. ``4:+1555*``): act after a delay."""

    pattern: str
    action: RuleAction
    after_seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "action": self.action.value, "afterSeconds": self.after_seconds}

    @classmethod
    def from_json(cls, data: object) -> EndpointRule:
        if not isinstance(data, dict) or not isinstance(data.get("pattern"), str) or not data["pattern"]:
            raise RuleError('a rule is an object like {"pattern": "4:+1555*", "action": "accept", "afterSeconds": 2}')
        try:
            action = RuleAction(data.get("action", "accept"))
        except ValueError:
            raise RuleError("action must be one of " + ", ".join(a.value for a in RuleAction)) from None
        after = data.get("afterSeconds", 0.0)
        if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
            raise RuleError("afterSeconds must be a number of seconds >= 0")
        return cls(data["pattern"], action, float(after))


DEFAULT_RULE = EndpointRule("*", RuleAction.ACCEPT, 0.0)


class Endpoints:
    """Routes each invitation to what would answer it on the real network, and keeps views in step."""

    def __init__(
        self,
        clock: Clock,
        resource: AcsResource,
        tenant: TeamsTenant,
        teams: TeamsClients,
        phones: PhoneNetwork,
    ) -> None:
        self.clock = clock
        self.resource = resource
        self.tenant = tenant
        self.teams = teams
        self.phones = phones
        self.rules: list[EndpointRule] = []
        self.engine: CallEngine | None = None
        self._pending: dict[str, Timer] = {}

    def rule_for(self, identifier: Identifier) -> EndpointRule:
        """The first rule whose pattern matches the raw id, else accept at once."""
        raw = identifier.raw_id
        return next((r for r in self.rules if fnmatch.fnmatchcase(raw, r.pattern)), DEFAULT_RULE)

    def ring(self, invitation: Invitation) -> None:
        target = invitation.target
        if isinstance(target, TeamsUser | TeamsApp):
            self.teams.ring(invitation)
            return
        if isinstance(target, PhoneNumber) and self.resource.owns(target):
            self._offer_to_apps(invitation)
            return
        inv_id = invitation.invitation_id
        engine = self._engine()
        if not isinstance(target, PhoneNumber | CommunicationUser):
            self._schedule(invitation, 0.0, lambda: engine.invitation_failed(inv_id, results.OFFLINE))
            return
        rule = self.rule_for(target)
        if rule.action is RuleAction.INCOMING_CALL:
            self._offer_to_apps(invitation)
        elif rule.action is RuleAction.ACCEPT:
            self._schedule(invitation, rule.after_seconds, lambda: self._answered(invitation))
        elif rule.action is RuleAction.DECLINE:
            self._schedule(invitation, rule.after_seconds, lambda: engine.invitation_failed(inv_id, results.DECLINED))
        elif rule.action is RuleAction.BUSY:
            self._schedule(invitation, rule.after_seconds, lambda: engine.invitation_failed(inv_id, results.BUSY))

    def _answered(self, invitation: Invitation) -> None:
        target = invitation.target
        self._engine().invitation_answered(invitation.invitation_id)
        if isinstance(target, PhoneNumber):
            self.phones.answered(invitation.call, target, invitation.caller)

    def _offer_to_apps(self, invitation: Invitation) -> None:
        self._engine().offer(
            invitation.call,
            invitation.target,
            invitation.caller,
            invitation.source_display_name or "",
            invitation=invitation,
        )

    def _schedule(self, invitation: Invitation, delay: float, action: Callable[[], object]) -> None:
        self._pending[invitation.invitation_id] = self.clock.call_later(delay, action)

    def stop_ringing(self, invitation: Invitation) -> None:
        timer = self._pending.pop(invitation.invitation_id, None)
        if timer is not None:
            timer.cancel()
        self.teams.stop_ringing(invitation)

    def call_changed(self, call: ServerCall) -> None:
        self.teams.call_changed(call)
        self.phones.call_changed(call)

    def display_name(self, identifier: Identifier) -> str:
        if isinstance(identifier, TeamsUser):
            user = self.tenant.user(identifier.user_id)
            if user is not None:
                return user.display_name
        if isinstance(identifier, TeamsApp):
            account = self.tenant.resource_account(identifier.app_id)
            if account is not None:
                return account.display_name
        if isinstance(identifier, PhoneNumber):
            return identifier.value
        return identifier.raw_id

    def _engine(self) -> CallEngine:
        if self.engine is None:
            raise RuntimeError("endpoints are not attached to a call engine")
        return self.engine

    def dump_rules(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.rules]

    def load_rules(self, data: object) -> None:
        if not isinstance(data, list):
            raise RuleError("rules must be a list")
        self.rules = [EndpointRule.from_json(item) for item in data]
