"""Real and virtual time: every timed behaviour of the local cloud reads and schedules through a Clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime


class Timer:
    """A scheduled callback that can be cancelled before it runs."""

    __slots__ = ("_handle", "_pending", "callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], object], pending: set[Timer] | None = None) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False
        self._handle: asyncio.TimerHandle | None = None
        self._pending = pending
        if pending is not None:
            pending.add(self)

    def cancel(self) -> None:
        """Stop the callback from running; harmless if it already ran."""
        self.cancelled = True
        if self._handle is not None:
            self._handle.cancel()
        self._settle()

    def _settle(self) -> None:
        if self._pending is not None:
            self._pending.discard(self)


class Clock(ABC):
    """Time source and scheduler; engine code never calls ``time`` or ``asyncio.sleep`` directly."""

    @abstractmethod
    def time(self) -> float:
        """Seconds since the Unix epoch."""

    @abstractmethod
    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` after ``delay`` seconds of this clock's time."""

    @abstractmethod
    def due_now(self) -> bool:
        """Whether a timer is due and has not run yet (the cloud is not idle while one is)."""

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    async def sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds of this clock's time."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not done.done():
                done.set_result(None)

        timer = self.call_later(delay, wake)
        try:
            await done
        finally:
            timer.cancel()


class RealClock(Clock):
    """Wall-clock time, scheduling on the running asyncio loop."""

    def __init__(self) -> None:
        self._pending: set[Timer] = set()

    def time(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        timer = Timer(self.time() + delay, callback, self._pending)
        timer._handle = asyncio.get_running_loop().call_later(max(delay, 0.0), _run_unless_cancelled, timer)
        return timer

    def due_now(self) -> bool:
        now = self.time()
        return any(timer.due <= now for timer in self._pending)


class VirtualClock(Clock):
    """Time that moves only when told to; a 180 s ring timeout resolves in microseconds."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._queue: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()

    def time(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        timer = Timer(self._now + max(delay, 0.0), callback)
        heapq.heappush(self._queue, (timer.due, next(self._order), timer))
        if delay <= 0:
            self._wake_soon()
        return timer

    def advance(self, seconds: float) -> int:
        """Move time forward, running every timer that falls due on the way; returns how many ran."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        ran = 0
        while self._queue and self._queue[0][0] <= target:
            due, _, timer = heapq.heappop(self._queue)
            self._now = max(self._now, due)
            if not timer.cancelled:
                timer.callback()
                ran += 1
        self._now = target
        return ran

    def run_due(self) -> int:
        """Run the timers that are due now without moving time."""
        return self.advance(0)

    def next_due(self) -> float | None:
        """Seconds until the next pending timer, or None when nothing is scheduled."""
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)
        return None if not self._queue else max(self._queue[0][0] - self._now, 0.0)

    def due_now(self) -> bool:
        return self.next_due() == 0.0

    def _wake_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_soon(self.run_due)


def _run_unless_cancelled(timer: Timer) -> None:
    timer._settle()
    if not timer.cancelled:
        timer.callback()
