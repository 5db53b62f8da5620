"""The call engine's state: server calls, the apps' call connections, participants and invitations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callbridge.emulator.clock import Timer
from callbridge.emulator.journal import CallIds
from callbridge.identifiers import Identifier, identity_key, to_model


class ConnectionState(StrEnum):
    """``callConnectionState`` as the SDKs know it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    TRANSFERRING = "transferring"
    TRANSFER_ACCEPTED = "transferAccepted"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"


class Purpose(StrEnum):
    """Why an endpoint is being rung."""

    ADD = "add"
    TRANSFER = "transfer"
    CREATE = "create"
    REDIRECT = "redirect"


class InvitationState(StrEnum):
    RINGING = "ringing"
    ACCEPTED = "accepted"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(eq=False)
class Participant:
    """An endpoint in a server call; app legs carry their call connection."""

    identifier: Identifier
    display_name: str
    connection: CallConnection | None = None
    is_muted: bool = False
    is_on_hold: bool = False

    @property
    def key(self) -> str:
        return identity_key(self.identifier)

    @property
    def is_app(self) -> bool:
        return self.connection is not None

    def as_json(self) -> dict[str, Any]:
        return {"identifier": to_model(self.identifier), "isMuted": self.is_muted, "isOnHold": self.is_on_hold}


@dataclass(eq=False)
class MediaState:
    """Media operations running on one call connection."""

    playing: list[tuple[str | None, str | None]] = field(default_factory=list)
    recognizing: tuple[str | None, str | None] | None = None
    continuous_dtmf: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    dtmf_sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    transcription_active: bool = False
    streaming_active: bool = False


@dataclass(eq=False)
class ServerCall:
    """A conversation on the service side; every party's leg belongs to one.

    ``connections`` are the app legs in the call; ``legs`` also holds those still connecting.
    """

    server_call_id: str
    correlation_id: str
    created_at: float
    participants: dict[str, Participant] = field(default_factory=dict)
    connections: dict[str, CallConnection] = field(default_factory=dict)
    legs: dict[str, CallConnection] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    offers: list[IncomingCallOffer] = field(default_factory=list)
    group_call_id: str | None = None
    ended: bool = False
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def ids(self) -> CallIds:
        return CallIds(server_call_id=self.server_call_id, correlation_id=self.correlation_id)

    def next_sequence_number(self) -> int:
        """ParticipantsUpdated sequence numbers increase per call."""
        return next(self._sequence)

    def humans(self) -> list[Participant]:
        """Participants other than Call Automation apps."""
        return [p for p in self.participants.values() if not p.is_app]

    def find(self, identifier: Identifier) -> Participant | None:
        return self.participants.get(identity_key(identifier))


@dataclass(eq=False)
class CallConnection:
    """One app's leg in a server call, addressed by ``callConnectionId``."""

    call_connection_id: str
    call: ServerCall
    identity: Identifier
    callback_uri: str
    api_version: str
    state: ConnectionState = ConnectionState.CONNECTING
    targets: list[Identifier] = field(default_factory=list)
    source: Identifier | None = None
    source_caller_id: str | None = None
    source_display_name: str | None = None
    answered_by: str | None = None
    answered_for: str | None = None
    operation_context: str | None = None
    media_streaming: dict[str, Any] | None = None
    transcription: dict[str, Any] | None = None
    media: MediaState = field(default_factory=MediaState)

    @property
    def ids(self) -> CallIds:
        return CallIds(self.call.server_call_id, self.call_connection_id, self.call.correlation_id)

    @property
    def is_established(self) -> bool:
        return self.state in (ConnectionState.CONNECTED, ConnectionState.TRANSFERRING)


@dataclass(eq=False)
class Invitation:
    """An endpoint being rung on behalf of a call: by add, transfer, create or redirect."""

    invitation_id: str
    purpose: Purpose
    call: ServerCall
    target: Identifier
    caller: Identifier
    connection: CallConnection | None = None
    source_display_name: str | None = None
    source_caller_id: str | None = None
    timeout_seconds: float = 60.0
    operation_context: str | None = None
    operation_callback_uri: str | None = None
    transferee: Identifier | None = None
    answering: CallConnection | None = None
    offer: IncomingCallOffer | None = None
    state: InvitationState = InvitationState.RINGING
    started_at: float = 0.0
    timers: list[Timer] = field(default_factory=list)

    @property
    def is_ringing(self) -> bool:
        return self.state is InvitationState.RINGING

    def stop_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


@dataclass(eq=False)
class IncomingCallOffer:
    """An IncomingCall raised to the resource's apps; its context may be answered once, in time."""

    context: str
    call: ServerCall
    to: Identifier
    caller: Identifier
    caller_display_name: str
    invitation: Invitation | None = None
    custom_context: dict[str, Any] | None = None
    settled: bool = False
    expired: bool = False
    timer: Timer | None = None
