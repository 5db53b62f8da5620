"""Call Automation errors: the engine's typed refusals, and the one mapping to the service's error shape."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from callbridge.emulator.acs.calls import ConnectionState


class AcsError(Exception):
    """A request the emulated service refuses, with the HTTP status and error code it answers with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def invalid_body(message: str) -> AcsError:
    """400/8523: the request body is malformed or misses a required field."""
    return AcsError(400, "8523", f"Invalid request body: {message}")


class EngineError(Exception):
    """A command the call engine refuses; it carries what went wrong, not how HTTP says it."""


class InvalidRequest(EngineError):
    """The command's values make no sense for this call or resource."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CallNotFound(EngineError):
    """No call connection with that id (or none any more, for a read)."""

    def __init__(self, call_connection_id: str) -> None:
        super().__init__(call_connection_id)
        self.call_connection_id = call_connection_id


class ServerCallNotFound(EngineError):
    """No active server call with that id."""

    def __init__(self, server_call_id: str) -> None:
        super().__init__(server_call_id)
        self.server_call_id = server_call_id


class ParticipantNotFound(EngineError):
    """The participant is not in the call."""

    def __init__(self, raw_id: str) -> None:
        super().__init__(raw_id)
        self.raw_id = raw_id


class RecordingNotFound(EngineError):
    """No recording with that id."""

    def __init__(self, recording_id: str) -> None:
        super().__init__(recording_id)
        self.recording_id = recording_id


class NotAllowedInState(EngineError):
    """The transition table has no row for this input in the thing's current state."""

    def __init__(self, subject_id: str, state: StrEnum, command: StrEnum) -> None:
        super().__init__(f"{command} is not allowed while {subject_id} is {state}")
        self.subject_id = subject_id
        self.state = state
        self.command = command


class Conflict(EngineError):
    """Another operation on the call stands in the way."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongState(EngineError):
    """The action does not fit what the call (or its media) is doing now."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OfferExpired(EngineError):
    """The incoming call context expired before it was answered."""


class CallerHungUp(EngineError):
    """The incoming call ended before anyone answered it."""


def to_acs_error(error: EngineError) -> AcsError:
    """The status, code and message the real service answers an engine refusal with."""
    match error:
        case InvalidRequest(message=message):
            return invalid_body(message)
        case CallNotFound(call_connection_id=call_connection_id):
            return AcsError(404, "8522", f"Call not found: no call connection {call_connection_id!r}.")
        case ServerCallNotFound(server_call_id=server_call_id):
            return AcsError(404, "8522", f"Call not found: no active call {server_call_id!r}.")
        case ParticipantNotFound(raw_id=raw_id):
            return AcsError(404, "8522", f"Participant not found: {raw_id!r} is not in the call.")
        case RecordingNotFound(recording_id=recording_id):
            return AcsError(404, "8522", f"Recording {recording_id!r} not found.")
        case NotAllowedInState():
            return _refused_in_state(error)
        case Conflict(message=message):
            return AcsError(409, "8519", f"Conflicting operation: {message}")
        case WrongState(message=message):
            return _wrong_state(message)
        case OfferExpired():
            return AcsError(400, "8587", "Incoming call was not answered in time; the incomingCallContext has expired.")
        case CallerHungUp():
            return AcsError(400, "8528", "The call has already ended: the caller hung up before it was answered.")
    raise TypeError(f"no ACS error for {error!r}")


def _refused_in_state(error: NotAllowedInState) -> AcsError:
    subject = error.subject_id
    if error.state is ConnectionState.CONNECTING:
        return AcsError(
            400, "8501", f"Action is not allowed while the call {subject!r} is not established; wait for CallConnected."
        )
    if error.state is ConnectionState.TRANSFERRING:
        return AcsError(409, "8519", "Conflicting operation: a transfer is in progress on this call.")
    if error.state in (ConnectionState.TRANSFER_ACCEPTED, ConnectionState.DISCONNECTING, ConnectionState.DISCONNECTED):
        return AcsError(400, "8528", f"Call {subject!r} has already been terminated.")
    return _wrong_state(f"{error.command} is not allowed while {subject!r} is {error.state}.")


def _wrong_state(message: str) -> AcsError:
    return AcsError(400, "8585", f"Action is not valid in the current call state: {message}")
