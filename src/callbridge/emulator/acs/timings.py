"""How long each simulated signalling step takes; one profile for tests, one that feels like the real service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timings:
    """Delays in seconds of the clock; the ``instant`` profile makes every step happen on the next tick."""

    connect: float = 0.0
    join: float = 0.0
    gate_failure: float = 0.0
    media: float = 0.0
    transfer: float = 0.0
    incoming_call_window: float = 30.0
    default_invitation_timeout: float = 60.0
    max_invitation_timeout: float = 180.0
    tombstone_seconds: float = 600.0

    @classmethod
    def profile(cls, name: str) -> Timings:
        """``instant`` (tests, benchmarks) or ``realistic`` (demos: steps take about as long as on Azure)."""
        if name == "instant":
            return cls()
        if name == "realistic":
            return cls(connect=0.4, join=0.5, gate_failure=1.5, media=2.0, transfer=0.8)
        raise ValueError(f"unknown timing profile {name!r}; use instant or realistic")


PROFILES = ("instant", "realistic")
