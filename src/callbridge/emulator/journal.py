"""One ordered record of everything that crosses the local cloud's edges, with the call ids it concerns."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from callbridge.emulator.clock import Clock


class EntryKind(StrEnum):
    """What an entry records."""

    REQUEST = "request"
    RESPONSE = "response"
    CALLBACK = "callback"
    EVENTGRID = "eventgrid"
    CLIENT = "client"
    PHONE = "phone"
    CALL = "call"
    ADMIN = "admin"


class Lane(StrEnum):
    """The parties of a call's sequence diagram."""

    APP = "app"
    ACS = "acs"
    TEAMS = "teams"
    PHONE = "phone"
    EMULATOR = "emulator"


@dataclass(frozen=True)
class CallIds:
    """The ids an entry can be found by."""

    server_call_id: str | None = None
    call_connection_id: str | None = None
    correlation_id: str | None = None

    def merged(self, other: CallIds) -> CallIds:
        """Fill the ids this set lacks from ``other``."""
        return CallIds(
            self.server_call_id or other.server_call_id,
            self.call_connection_id or other.call_connection_id,
            self.correlation_id or other.correlation_id,
        )

    def as_json(self) -> dict[str, str | None]:
        return {
            "serverCallId": self.server_call_id,
            "callConnectionId": self.call_connection_id,
            "correlationId": self.correlation_id,
        }


@dataclass(frozen=True)
class JournalEntry:
    """One thing that happened: who sent what to whom, when, about which call."""

    seq: int
    time: datetime
    kind: EntryKind
    source: Lane
    target: Lane
    summary: str
    call_ids: CallIds = CallIds()
    exchange: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def matches(self, ids: CallIds) -> bool:
        """True when the entry concerns any of the given ids."""
        mine = self.call_ids
        return any(
            wanted is not None and wanted == have
            for wanted, have in (
                (ids.server_call_id, mine.server_call_id),
                (ids.call_connection_id, mine.call_connection_id),
                (ids.correlation_id, mine.correlation_id),
            )
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "kind": self.kind.value,
            "source": self.source.value,
            "target": self.target.value,
            "summary": self.summary,
            **self.call_ids.as_json(),
            "exchange": self.exchange,
            "detail": self.detail,
        }


class Journal:
    """A bounded, append-only log with live subscribers; the UI timeline, tests and debugging read it."""

    def __init__(self, clock: Clock, capacity: int = 20_000) -> None:
        self._clock = clock
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._seq = itertools.count(1)
        self._subscribers: set[asyncio.Queue[JournalEntry]] = set()

    def record(
        self,
        kind: EntryKind,
        source: Lane,
        target: Lane,
        summary: str,
        call_ids: CallIds = CallIds(),
        *,
        exchange: str | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> JournalEntry:
        """Append an entry and hand it to every live subscriber; ``at`` dates an exchange recorded once it
        finished (a delivery attempt) by when it started, so ordering by time shows what caused what."""
        entry = JournalEntry(
            seq=next(self._seq),
            time=at or self._clock.now(),
            kind=kind,
            source=source,
            target=target,
            summary=summary,
            call_ids=call_ids,
            exchange=exchange,
            detail=detail or {},
        )
        self._entries.append(entry)
        for queue in self._subscribers:
            queue.put_nowait(entry)
        return entry

    def entries(self, ids: CallIds | None = None, after: int = 0) -> list[JournalEntry]:
        """Entries after ``after`` in order; with ids, those about the call plus the other half of their
        request/response exchange."""
        selected: Iterable[JournalEntry] = (e for e in self._entries if e.seq > after)
        if ids is None:
            return list(selected)
        entries = list(selected)
        exchanges = {e.exchange for e in entries if e.exchange and e.matches(ids)}
        return [e for e in entries if e.matches(ids) or (e.exchange is not None and e.exchange in exchanges)]

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def latest_seq(self) -> int:
        """The newest entry's sequence number; 0 when the journal is empty."""
        return self._entries[-1].seq if self._entries else 0

    def clear(self) -> None:
        self._entries.clear()

    def subscribe(self) -> asyncio.Queue[JournalEntry]:
        """A queue that receives every entry recorded from now on; pass it to ``unsubscribe`` when done."""
        queue: asyncio.Queue[JournalEntry] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JournalEntry]) -> None:
        self._subscribers.discard(queue)
