"""Idempotent replay of Call Automation requests that carry Repeatability-Request-ID and -First-Sent."""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass

from callbridge.emulator.acs.auth import parse_http_date
from callbridge.emulator.clock import Clock

INVALID_HEADERS = "InvalidRepeatabilityHeaders"
OUT_OF_WINDOW = "RepeatabilityFirstSentOutOfWindow"
MISMATCH = "RepeatabilityRequestMismatch"
IN_PROGRESS = "RepeatabilityRequestInProgress"


@dataclass(frozen=True)
class StoredResponse:
    """The response a repeated request receives again: status, the headers worth replaying and the body."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class RepeatabilityError(Exception):
    """A repeatable request the service rejects, with the HTTP status and error code it answers with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _Record:
    fingerprint: str
    first_sent: float
    expires: float
    response: StoredResponse | None = None


class RepeatabilityStore:
    """Remembers repeatable requests for the tracking window so that a retry replays instead of re-executing."""

    def __init__(self, clock: Clock, window_seconds: float = 300.0) -> None:
        self._clock = clock
        self._window = window_seconds
        self._records: dict[str, _Record] = {}
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        """How many requests are remembered right now, including expired ones not yet purged."""
        return len(self._records)

    def begin(self, request_id: str | None, first_sent: str | None, fingerprint: str) -> StoredResponse | None:
        """The response to replay for a repeated request, or None when the request should execute now."""
        if request_id is None and first_sent is None:
            return None
        valid_id, sent = _validated(request_id, first_sent)
        now = self._clock.time()
        self._check_window(first_sent, sent, now)
        self._purge(now)
        record = self._records.get(valid_id)
        if record is None:
            self._track(valid_id, _Record(fingerprint, sent, max(now, sent) + self._window))
            return None
        if record.fingerprint != fingerprint or record.first_sent != sent:
            raise RepeatabilityError(
                400,
                MISMATCH,
                f"Repeatability-Request-ID {valid_id} was already used for a different request; "
                "send a new id for each distinct request and the same First-Sent on every retry",
            )
        if record.response is None:
            raise RepeatabilityError(
                409,
                IN_PROGRESS,
                f"the request with Repeatability-Request-ID {valid_id} is still being processed; retry later",
            )
        return record.response

    def complete(self, request_id: str, response: StoredResponse) -> None:
        """Remember the response for replay; a 5xx response is forgotten so that a retry executes again."""
        record = self._records.get(request_id)
        if record is None:
            return
        if response.status >= 500:
            del self._records[request_id]
        else:
            record.response = response

    def abandon(self, request_id: str) -> None:
        """Forget a request that produced no response, so that a retry executes again."""
        self._records.pop(request_id, None)

    def _check_window(self, first_sent: str | None, sent: float, now: float) -> None:
        if abs(now - sent) <= self._window:
            return
        direction = "ago" if sent < now else "in the future"
        raise RepeatabilityError(
            412,
            OUT_OF_WINDOW,
            f"Repeatability-First-Sent {first_sent!r} is {abs(now - sent):.0f} seconds {direction}; "
            f"a request can be repeated only within {self._window:.0f} seconds of first being sent",
        )

    def _track(self, request_id: str, record: _Record) -> None:
        self._records[request_id] = record
        heapq.heappush(self._expiries, (record.expires, request_id))

    def _purge(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            expires, request_id = heapq.heappop(self._expiries)
            record = self._records.get(request_id)
            if record is not None and record.expires == expires:
                del self._records[request_id]


def _validated(request_id: str | None, first_sent: str | None) -> tuple[str, float]:
    if request_id is None or first_sent is None:
        missing = "Repeatability-Request-ID" if request_id is None else "Repeatability-First-Sent"
        raise RepeatabilityError(
            400, INVALID_HEADERS, f"{missing} is missing; send Repeatability-Request-ID and -First-Sent together"
        )
    try:
        uuid.UUID(request_id)
    except ValueError:
        raise RepeatabilityError(
            400, INVALID_HEADERS, f"Repeatability-Request-ID {request_id!r} is not a UUID"
        ) from None
    sent = parse_http_date(first_sent)
    if sent is None:
        raise RepeatabilityError(
            400,
            INVALID_HEADERS,
            f"Repeatability-First-Sent {first_sent!r} is not an RFC 1123 date such as 'Sun, 06 Nov 1994 08:49:37 GMT'",
        )
    return request_id, sent
