"""Graph's per-application request budgets: a sliding window on the cloud's clock, answered with 429 and
``Retry-After`` once spent."""

from __future__ import annotations

import math
from collections import deque

from callbridge.emulator.clock import Clock
from callbridge.emulator.graph.errors import GraphError


class Throttle:
    """At most ``limit`` admitted requests per ``window`` seconds for each application."""

    def __init__(self, clock: Clock, category: str) -> None:
        self.clock = clock
        self.category = category
        self._admitted: dict[str, deque[float]] = {}

    def admit(self, app_id: str, limit: int, window: float) -> None:
        """Count the request, or raise 429 with the whole seconds until a slot frees (refusals are not counted)."""
        now = self.clock.time()
        admitted = self._admitted.setdefault(app_id, deque())
        while admitted and admitted[0] <= now - window:
            admitted.popleft()
        if len(admitted) < limit:
            admitted.append(now)
            return
        frees_at = admitted[len(admitted) - limit] + window if limit > 0 else now + window
        retry_after = max(1, math.ceil(frees_at - now))
        raise GraphError(
            429,
            "TooManyRequests",
            f"Too many requests from Identifier:{app_id} under category:{self.category}. Please try again later.",
            {"Retry-After": str(retry_after)},
        )

    def clear(self) -> None:
        self._admitted.clear()
