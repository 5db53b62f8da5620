"""Teams presence in Graph's classic values; a call makes a user Busy/InACall until it ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AVAILABILITY = (
    "Available", "AvailableIdle", "Away", "BeRightBack", "Busy", "BusyIdle", "DoNotDisturb", "Offline", "PresenceUnknown",
)  # fmt: skip
ACTIVITY = (
    "Available", "Away", "BeRightBack", "Busy", "DoNotDisturb", "InACall", "InAConferenceCall", "Inactive",
    "InAMeeting", "Offline", "OffWork", "OutOfOffice", "PresenceUnknown", "Presenting", "UrgentInterruptionsOnly",
)  # fmt: skip


@dataclass(frozen=True)
class Presence:
    """An ``availability``/``activity`` pair."""

    availability: str = "Available"
    activity: str = "Available"

    @classmethod
    def parse(cls, availability: object, activity: object = None) -> Presence:
        """Validate against the classic lists (case-insensitive); activity defaults to the availability."""
        avail = _canonical(availability, AVAILABILITY, "availability")
        act = _canonical(activity if activity is not None else avail, ACTIVITY, "activity")
        return cls(avail, act)

    def as_json(self) -> dict[str, Any]:
        return {"availability": self.availability, "activity": self.activity}


IN_A_CALL = Presence("Busy", "InACall")
OFFLINE = Presence("Offline", "Offline")


def _canonical(value: object, allowed: tuple[str, ...], what: str) -> str:
    if isinstance(value, str):
        for candidate in allowed:
            if candidate.lower() == value.lower():
                return candidate
    raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


def effective_presence(preferred: Presence, online: bool, in_call: bool) -> Presence:
    """What Graph reports: Offline without a signed-in client, Busy/InACall during a call, else as set."""
    if not online:
        return OFFLINE
    if in_call:
        return IN_A_CALL
    return preferred
