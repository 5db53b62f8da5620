"""What the service knows about a call: who is in it, who is being rung, what happened, and the routing plan."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from callbridge.service.settings import RoutingRule


def now() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Stored by field name; shown to operators in camelCase (``model_dump(by_alias=True)``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CallState(StrEnum):
    ANSWERING = "answering"
    CONNECTED = "connected"
    TRANSFERRED = "transferred"
    ENDED = "ended"


class Person(Model):
    """A call participant as the operator sees them."""

    raw_id: str
    kind: str
    display_name: str
    is_muted: bool = False
    is_on_hold: bool = False
    is_app: bool = False


class Invitation(Model):
    """A Teams user (or number) being rung for this call."""

    operation_context: str
    purpose: str
    target_raw_id: str
    display_name: str
    user_principal_name: str | None = None
    invitation_id: str | None = None
    started_at: datetime = Field(default_factory=now)
    by_routing: bool = False
    cancel_requested: bool = False


class Outcome(Model):
    """How an operation ended, in the service's words and the service's codes."""

    operation_context: str
    operation: str
    target: str
    succeeded: bool
    code: int | None = None
    sub_code: int | None = None
    explanation: str
    at: datetime = Field(default_factory=now)


class Target(Model):
    """A routing target: the text configured, and the Teams user it resolved to (if any)."""

    query: str
    user_id: str | None = None
    display_name: str | None = None
    user_principal_name: str | None = None
    availability: str | None = None
    skipped: str | None = None


class Routing(Model):
    """The routing plan of a call and how far it got."""

    strategy: str = "none"
    targets: list[Target] = Field(default_factory=list)
    next_index: int = 0
    phase: str = "waiting"
    answered_by: str | None = None


class CallRecord(Model):
    """Everything the service keeps about one call; stored whole, versioned for safe concurrent updates."""

    call_key: str
    secret: str
    call_connection_id: str | None = None
    server_call_id: str | None = None
    correlation_id: str | None = None
    caller: str
    called: str
    app_raw_id: str | None = None
    names: dict[str, str] = Field(default_factory=dict)
    state: CallState = CallState.ANSWERING
    started_at: datetime = Field(default_factory=now)
    ended_at: datetime | None = None
    rule: RoutingRule | None = None
    routing: Routing = Field(default_factory=Routing)
    participants: list[Person] = Field(default_factory=list)
    sequence_number: int = -1
    invitations: dict[str, Invitation] = Field(default_factory=dict)
    outcomes: list[Outcome] = Field(default_factory=list)
    version: int = 0

    @property
    def active(self) -> bool:
        return self.state in (CallState.ANSWERING, CallState.CONNECTED)


class TimelineEntry(Model):
    """One line of a call's history: an event from ACS, or an action the service took."""

    at: datetime = Field(default_factory=now)
    kind: str
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditEntry(Model):
    """An operator action: who asked for what, on which call, and how it went."""

    at: datetime = Field(default_factory=now)
    actor: str
    action: str
    call_key: str | None = None
    target: str | None = None
    result: str
