"""Admin changes that take effect only after a delay, as Teams policy changes do in real tenants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Propagation:
    """Remembers, per setting, the values still in force while a change propagates."""

    def __init__(self, now: Callable[[], float], delay_seconds: Callable[[], float]) -> None:
        self._now = now
        self._delay = delay_seconds
        self._history: dict[str, list[tuple[float, Any]]] = {}

    def changed(self, key: str, old: Any, new: Any) -> None:
        """Record that ``key`` went from ``old`` to ``new`` just now; ``new`` applies after the delay."""
        delay = self._delay()
        if delay <= 0 or old == new:
            return
        history = self._history.setdefault(key, [(float("-inf"), old)])
        history.append((self._now() + delay, new))

    def effective(self, key: str, live: Any) -> Any:
        """The value of ``key`` in force now (the live value once every change has propagated)."""
        history = self._history.get(key)
        if history is None:
            return live
        now = self._now()
        in_force = [entry for entry in history if entry[0] <= now]
        if len(in_force) == len(history):
            del self._history[key]
            return live
        del history[: len(in_force) - 1]
        return history[0][1]

    def pending(self) -> dict[str, float]:
        """Settings still propagating and when each takes effect (epoch seconds)."""
        return {key: history[-1][0] for key, history in self._history.items() if history[-1][0] > self._now()}

    def clear(self) -> None:
        self._history.clear()
