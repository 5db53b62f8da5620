"""Synchronous Call Automation errors, in the real service's ``{"error":{"code","message"}}`` shape."""

from __future__ import annotations

from typing import Any


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


def call_not_found(call_connection_id: str) -> AcsError:
    """404/8522: no call connection with that id."""
    return AcsError(404, "8522", f"Call not found: no call connection {call_connection_id!r}.")


def participant_not_found(raw_id: str) -> AcsError:
    """404/8522: the participant is not in the call."""
    return AcsError(404, "8522", f"Participant not found: {raw_id!r} is not in the call.")


def not_established(call_connection_id: str) -> AcsError:
    """400/8501: the action needs an established call."""
    return AcsError(
        400,
        "8501",
        f"Action is not allowed while the call {call_connection_id!r} is not established; wait for CallConnected.",
    )


def terminated(call_connection_id: str) -> AcsError:
    """400/8528: the call connection has already ended."""
    return AcsError(400, "8528", f"Call {call_connection_id!r} has already been terminated.")


def wrong_state(message: str) -> AcsError:
    """400/8585: the action is not valid in the current call state."""
    return AcsError(400, "8585", f"Action is not valid in the current call state: {message}")


def conflict(message: str) -> AcsError:
    """409/8519: a conflicting operation is in progress."""
    return AcsError(409, "8519", f"Conflicting operation: {message}")


def not_answered_in_time() -> AcsError:
    """400/8587: the incoming call context expired before it was answered."""
    return AcsError(400, "8587", "Incoming call was not answered in time; the incomingCallContext has expired.")
