"""Every call-connection and invitation transition in one table: (state, input) → next state and the events
it emits. The engine changes state only through ``step``; an input without a row is refused."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from callbridge.emulator.acs.calls import CallConnection, ConnectionState, Invitation, InvitationState
from callbridge.emulator.acs.errors import NotAllowedInState


class ConnectionInput(StrEnum):
    """What can happen to a call connection: the app's commands and the engine's own outcomes."""

    ADD_PARTICIPANT = "addParticipant"
    REMOVE_PARTICIPANT = "removeParticipant"
    MOVE_PARTICIPANTS = "moveParticipants"
    MOVE_FROM = "moveFrom"
    MUTE = "mute"
    CANCEL_ADD = "cancelAddParticipant"
    MEDIA = "media"
    TRANSFER = "transferToParticipant"
    HANG_UP = "hangUp"
    TERMINATE = "terminate"
    LEG_UP = "legUp"
    CONNECT_FAILED = "connectFailed"
    TRANSFER_ACCEPTED = "transferAccepted"
    TRANSFEREE_REPLACED = "transfereeReplaced"
    TRANSFER_FAILED = "transferFailed"
    LEAVE = "leave"
    DROP = "drop"


class InvitationInput(StrEnum):
    """What the rung endpoint or the app does to an invitation."""

    ANSWER = "answer"
    FAIL = "fail"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Rule:
    """One row's outcome: the next state and the event types the transition sends to the app."""

    next: StrEnum
    emits: tuple[str, ...] = ()


C, In = ConnectionState, ConnectionInput
_COMMANDS_WHILE_CONNECTED = (
    In.ADD_PARTICIPANT, In.REMOVE_PARTICIPANT, In.MOVE_PARTICIPANTS, In.MOVE_FROM, In.MUTE, In.CANCEL_ADD, In.MEDIA,
    In.HANG_UP, In.TERMINATE,
)  # fmt: skip
_COMMANDS_WHILE_TRANSFERRING = (In.MOVE_FROM, In.MUTE, In.CANCEL_ADD, In.MEDIA, In.HANG_UP, In.TERMINATE)

CONNECTION_TRANSITIONS: dict[ConnectionState, dict[ConnectionInput, Rule]] = {
    C.CONNECTING: {
        In.HANG_UP: Rule(C.CONNECTING),
        In.TERMINATE: Rule(C.CONNECTING),
        In.LEG_UP: Rule(C.CONNECTED, ("CallConnected",)),
        In.CONNECT_FAILED: Rule(C.DISCONNECTING, ("ConnectFailed",)),
        In.LEAVE: Rule(C.DISCONNECTING, ("CallDisconnected",)),
        In.DROP: Rule(C.DISCONNECTED),
    },
    C.CONNECTED: {
        **{command: Rule(C.CONNECTED) for command in _COMMANDS_WHILE_CONNECTED},
        In.TRANSFER: Rule(C.TRANSFERRING),
        In.LEAVE: Rule(C.DISCONNECTING, ("CallDisconnected",)),
    },
    C.TRANSFERRING: {
        **{command: Rule(C.TRANSFERRING) for command in _COMMANDS_WHILE_TRANSFERRING},
        In.TRANSFER_ACCEPTED: Rule(C.TRANSFER_ACCEPTED, ("CallTransferAccepted",)),
        In.TRANSFEREE_REPLACED: Rule(C.CONNECTED, ("CallTransferAccepted",)),
        In.TRANSFER_FAILED: Rule(C.CONNECTED, ("CallTransferFailed",)),
        In.LEAVE: Rule(C.DISCONNECTING, ("CallDisconnected",)),
    },
    C.TRANSFER_ACCEPTED: {In.LEAVE: Rule(C.DISCONNECTING, ("CallDisconnected",))},
    C.DISCONNECTING: {In.DROP: Rule(C.DISCONNECTED)},
    C.DISCONNECTED: {},
}

INVITATION_TRANSITIONS: dict[InvitationState, dict[InvitationInput, Rule]] = {
    InvitationState.RINGING: {
        InvitationInput.ANSWER: Rule(InvitationState.ACCEPTED),
        InvitationInput.FAIL: Rule(InvitationState.FAILED),
        InvitationInput.CANCEL: Rule(InvitationState.CANCELLED),
    },
    InvitationState.ACCEPTED: {},
    InvitationState.FAILED: {},
    InvitationState.CANCELLED: {},
}


def allows(connection: CallConnection, command: ConnectionInput) -> bool:
    """Whether the table has a row for the input in the connection's state."""
    return command in CONNECTION_TRANSITIONS[connection.state]


def require(connection: CallConnection, command: ConnectionInput) -> None:
    """Refuse an input the connection's state does not take, without applying it yet."""
    if not allows(connection, command):
        raise NotAllowedInState(connection.call_connection_id, connection.state, command)


def step(connection: CallConnection, command: ConnectionInput) -> Rule:
    """Apply one connection transition, or refuse an input the connection's state does not take."""
    rule = CONNECTION_TRANSITIONS[connection.state].get(command)
    if rule is None:
        raise NotAllowedInState(connection.call_connection_id, connection.state, command)
    connection.state = ConnectionState(rule.next)
    return rule


def settle(invitation: Invitation, command: InvitationInput) -> Rule:
    """Apply one invitation transition, or refuse it once the invitation is no longer ringing."""
    rule = INVITATION_TRANSITIONS[invitation.state].get(command)
    if rule is None:
        raise NotAllowedInState(invitation.invitation_id, invitation.state, command)
    invitation.state = InvitationState(rule.next)
    return rule
