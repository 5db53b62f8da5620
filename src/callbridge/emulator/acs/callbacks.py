"""Mid-call event delivery: CloudEvents arrays POSTed to the app with a signed JWT, in order, with retries."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from callbridge.emulator.acs.calls import CallConnection
from callbridge.emulator.acs.resource import IdFactory
from callbridge.emulator.clock import Clock
from callbridge.emulator.journal import CallIds, EntryKind, Journal, Lane

ISSUER = "https://acscallautomation.communication.azure.com"
TOKEN_LIFETIME_SECONDS = 300
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class TokenSigner(Protocol):
    """Signs callback JWTs (RS256, with the ``kid`` published at ``/calling/keys``)."""

    @property
    def kid(self) -> str: ...

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str: ...


@dataclass(frozen=True)
class CallbackPolicy:
    """How hard the emulator tries to reach an app's callback URI."""

    attempts: int = 3
    backoff_seconds: tuple[float, ...] = (0.5, 2.0)
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one callback URI."""

    uri: str
    event: dict[str, Any]
    ids: CallIds


class CallbackDispatcher:
    """Delivers each call connection's events in order; a slow or failing app only delays its own calls."""

    def __init__(
        self,
        clock: Clock,
        journal: Journal,
        http: httpx.AsyncClient,
        signer: TokenSigner,
        audience: str,
        ids: IdFactory,
        issuer: str = ISSUER,
        policy: CallbackPolicy = CallbackPolicy(),
    ) -> None:
        self.clock = clock
        self.journal = journal
        self.http = http
        self.signer = signer
        self.audience = audience
        self.issuer = issuer
        self.policy = policy
        self.ids = ids
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._retrying: set[str] = set()

    def send(self, connection: CallConnection, uri: str, event_type: str, data: dict[str, Any]) -> None:
        """Queue an event for the connection's app; delivery starts at once on the running loop."""
        subject = f"calling/callConnections/{connection.call_connection_id}"
        event = {
            "id": self.ids.guid(),
            "source": subject,
            "type": event_type,
            "data": data,
            "time": self.clock.now().isoformat(),
            "specversion": "1.0",
            "datacontenttype": "application/json",
            "subject": subject,
        }
        key = connection.call_connection_id
        self._queues.setdefault(key, deque()).append(Delivery(uri, event, connection.ids))
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._work(key))

    def pending(self) -> int:
        """Events queued or being sent now; a call whose next event waits for a retry timer does not count."""
        return sum(len(queue) for key, queue in self._queues.items() if key not in self._retrying)

    async def _work(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await self._deliver(key, queue[0])
                queue.popleft()
        finally:
            self._workers.pop(key, None)
            if not queue:
                self._queues.pop(key, None)

    async def _deliver(self, key: str, delivery: Delivery) -> None:
        for attempt in range(1, self.policy.attempts + 1):
            if await self._attempt(delivery, attempt):
                return
            if attempt < self.policy.attempts:
                schedule = self.policy.backoff_seconds
                self._retrying.add(key)
                try:
                    await self.clock.sleep(schedule[min(attempt - 1, len(schedule) - 1)] if schedule else 0.0)
                finally:
                    self._retrying.discard(key)

    async def _attempt(self, delivery: Delivery, attempt: int) -> bool:
        """One POST; True when the app took it or refused it for good."""
        token, claims = self._token()
        sent_at = self.clock.now()
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = await self.http.post(
                delivery.uri,
                json=[delivery.event],
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"},
                timeout=self.policy.timeout_seconds,
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        done = status is not None and (status < 400 or status not in RETRYABLE)
        self._record(delivery, attempt, status, error, claims, (time.perf_counter() - started) * 1000, done, sent_at)
        return done

    def _token(self) -> tuple[str, dict[str, Any]]:
        now = int(time.time())  # apps check iat/exp against their wall clock, even when the emulator's is virtual
        claims = {"iss": self.issuer, "aud": self.audience, "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_SECONDS}
        return self.signer.sign(claims), claims

    def _record(
        self,
        delivery: Delivery,
        attempt: int,
        status: int | None,
        error: str | None,
        claims: dict[str, Any],
        duration_ms: float,
        done: bool,
        sent_at: datetime,
    ) -> None:
        event_type = str(delivery.event["type"]).removeprefix("Microsoft.Communication.")
        outcome = str(status) if status is not None else (error or "failed")
        if status in (401, 403):
            verdict = "rejected by the app"
        elif status is not None and status < 400:
            verdict = "accepted"
        else:
            verdict = "not checked"
        self.journal.record(
            EntryKind.CALLBACK,
            Lane.ACS,
            Lane.APP,
            f"{event_type} → app (attempt {attempt}: {outcome})",
            delivery.ids,
            detail={
                "url": delivery.uri,
                "attempt": attempt,
                "status": status,
                "error": error,
                "final": done or attempt == self.policy.attempts,
                "durationMs": round(duration_ms, 3),
                "jwt": {"kid": self.signer.kid, "claims": claims, "verdict": verdict},
                "event": delivery.event,
            },
            at=sent_at,
        )

    async def drain(self) -> None:
        """Wait until every queued event has been delivered or given up on."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    def reset(self) -> None:
        """Drop queued events and stop delivering."""
        for task in self._workers.values():
            task.cancel()
        self._workers.clear()
        self._queues.clear()
        self._retrying.clear()
