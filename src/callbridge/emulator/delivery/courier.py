"""The one delivery loop: events queued per destination, each attempt journalled, retries and dead letters on the clock."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from callbridge.emulator.clock import Clock, Timer
from callbridge.emulator.delivery.retries import DeadLetter, Policy, Verdict
from callbridge.emulator.delivery.transport import Reply, exchange
from callbridge.emulator.eventgrid.envelopes import iso_time
from callbridge.emulator.journal import CallIds, EntryKind, Journal, Lane

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What one attempt sends: headers and the encoded body."""

    headers: dict[str, str]
    content: bytes


class Parcel(ABC):
    """One event on its way to one URL; its service says what each attempt sends and how it is journalled."""

    kind: EntryKind
    destination: str  # deliveries to one destination share a line: a call connection, a subscription
    url: str
    call_ids: CallIds
    payload: dict[str, Any]  # the event as a dead letter keeps it
    born: float  # clock time when the event was made; retries stop when it is too old
    attempts: int = 0

    @abstractmethod
    def request(self, attempt: int) -> Request:
        """The attempt's request; raising makes the attempt a final failure."""

    @abstractmethod
    def entry(self, attempt: int, sent: Request | None, reply: Reply, verdict: Verdict) -> tuple[str, dict[str, Any]]:
        """The journal summary and detail of one attempt; ``sent`` is None when the request could not be built."""


@dataclass
class Line:
    """The deliveries to one destination; an ordered line sends one at a time and waits out its head's retries."""

    ordered: bool
    ready: deque[Parcel] = field(default_factory=deque)
    sending: set[asyncio.Task[None]] = field(default_factory=set)
    timers: set[Timer] = field(default_factory=set)
    held: bool = False  # an ordered line whose head waits for a retry timer

    def can_send(self) -> bool:
        return bool(self.ready) and not self.held and not (self.ordered and self.sending)

    def pending(self) -> int:
        """Parcels queued or being sent; a held line's are all waiting for its head's retry timer."""
        sending = sum(not task.done() for task in self.sending)
        return sending if self.held else sending + len(self.ready)

    def idle(self) -> bool:
        return not (self.ready or self.sending or self.timers)


class Courier:
    """Carries parcels to their URLs; a failing destination only delays itself, and nothing it does stops the loop."""

    def __init__(
        self,
        clock: Clock,
        journal: Journal,
        http: httpx.AsyncClient,
        policy: Policy,
        name: str,
        *,
        ordered: bool,
        timeout_clock: Clock | None = None,
    ) -> None:
        """``timeout_clock`` bounds each attempt (the emulator's clock unless told otherwise)."""
        self.dead_letters: list[DeadLetter] = []
        self._clock = clock
        self._timeout_clock = timeout_clock or clock
        self._journal = journal
        self._http = http
        self._policy = policy
        self._name = name
        self._ordered = ordered
        self._lines: dict[str, Line] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiters: list[asyncio.Future[None]] = []

    def send(self, parcel: Parcel) -> None:
        """Queue the parcel behind its destination's others; sending starts at once on the running loop."""
        line = self._lines.setdefault(parcel.destination, Line(self._ordered))
        line.ready.append(parcel)
        self._pump(parcel.destination, line)

    def pending(self) -> int:
        """Deliveries queued or being sent now; those only waiting for a retry timer (or behind one) do not count."""
        return sum(line.pending() for line in self._lines.values())

    def cancel(self, destination: str) -> None:
        """Stop every delivery to the destination, in flight or waiting."""
        line = self._lines.pop(destination, None)
        if line is not None:
            self._stop(line)
            self._wake()

    async def drain(self) -> None:
        """Wait until every delivery has been delivered, given up on or cancelled, retries included."""
        while self._tasks or self._lines:
            if self._tasks:
                await asyncio.wait(set(self._tasks))
            else:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter

    def reset(self) -> None:
        """Cancel every delivery and forget the dead letters."""
        for line in self._lines.values():
            self._stop(line)
        self._lines.clear()
        self.dead_letters.clear()
        self._wake()

    def _pump(self, destination: str, line: Line) -> None:
        loop = asyncio.get_running_loop()
        while line.can_send():
            parcel = line.ready.popleft()
            task = loop.create_task(self._carry(line, parcel), name=f"{self._name} {destination}")
            line.sending.add(task)
            self._tasks.add(task)
            task.add_done_callback(lambda done: self._sent(destination, line, done))
        self._wake()

    def _sent(self, destination: str, line: Line, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        line.sending.discard(task)
        if self._lines.get(destination) is not line:
            self._wake()  # cancelled with its line
        elif line.idle():
            del self._lines[destination]
            self._wake()
        else:
            self._pump(destination, line)

    async def _carry(self, line: Line, parcel: Parcel) -> None:
        """One attempt; a retry goes back on the line when its timer fires."""
        try:
            verdict = await self._attempt(parcel)
        except Exception:  # a fault of the emulator's own: give up on this parcel, keep the line going
            log.exception("delivery of %s to %s failed", parcel.kind, parcel.url)
            return
        if verdict.retry_in is not None:
            line.held = line.ordered
            timer = self._clock.call_later(verdict.retry_in, lambda: self._retry(line, parcel, timer))
            line.timers.add(timer)

    def _retry(self, line: Line, parcel: Parcel, timer: Timer) -> None:
        line.timers.discard(timer)
        if self._lines.get(parcel.destination) is not line:
            return
        if line.ordered:
            line.ready.appendleft(parcel)
            line.held = False
        else:
            line.ready.append(parcel)
        self._pump(parcel.destination, line)

    async def _attempt(self, parcel: Parcel) -> Verdict:
        parcel.attempts += 1
        attempt = parcel.attempts
        sent_at = self._clock.now()
        sent: Request | None = None
        try:
            sent = parcel.request(attempt)
        except Exception as error:  # an event that cannot be sent is journalled as such, never retried
            reply = Reply.unsent(error)
        else:
            timeout = self._policy.timeout_seconds
            reply = await exchange(
                self._http, self._timeout_clock, timeout, "POST", parcel.url, sent.headers, sent.content
            )
        verdict = self._policy.judge(reply, attempt, self._clock.time() - parcel.born)
        summary, detail = parcel.entry(attempt, sent, reply, verdict)
        self._journal.record(parcel.kind, Lane.ACS, Lane.APP, summary, parcel.call_ids, detail=detail, at=sent_at)
        if verdict.dead_letter_reason is not None:
            self.dead_letters.append(self._dead_letter(parcel, reply, verdict.dead_letter_reason, self._clock.now()))
        return verdict

    @staticmethod
    def _dead_letter(parcel: Parcel, reply: Reply, reason: str, at: datetime) -> DeadLetter:
        return DeadLetter(
            subscription=parcel.destination,
            event=parcel.payload,
            attempts=parcel.attempts,
            last_status=reply.status,
            last_error=reply.error,
            reason=reason,
            dead_lettered_at=iso_time(at),
        )

    def _stop(self, line: Line) -> None:
        for task in line.sending:
            task.cancel()
        for timer in line.timers:
            timer.cancel()
        line.ready.clear()
        line.timers.clear()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
