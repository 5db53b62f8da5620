"""Mid-call event delivery: CloudEvents arrays POSTed to the app with a signed JWT, in order per call connection."""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

import httpx

from callbridge.emulator.acs.calls import CallConnection
from callbridge.emulator.acs.resource import IdFactory
from callbridge.emulator.clock import Clock, RealClock
from callbridge.emulator.delivery.courier import Courier, Parcel, Request
from callbridge.emulator.delivery.retries import CallbackPolicy, Verdict
from callbridge.emulator.delivery.transport import Reply
from callbridge.emulator.journal import CallIds, EntryKind, Journal

ISSUER = "https://acscallautomation.communication.azure.com"
TOKEN_LIFETIME_SECONDS = 300


class TokenSigner(Protocol):
    """Signs callback JWTs (RS256, with the ``kid`` published at ``/calling/keys``)."""

    @property
    def kid(self) -> str: ...

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str: ...


class Callback(Parcel):
    """One event on its way to one callback URI, with a freshly signed JWT on every attempt."""

    kind = EntryKind.CALLBACK

    def __init__(
        self, dispatcher: CallbackDispatcher, call_connection_id: str, uri: str, event: dict[str, Any], ids: CallIds
    ) -> None:
        self.dispatcher = dispatcher
        self.destination = call_connection_id
        self.url = uri
        self.call_ids = ids
        self.payload = event
        self.born = dispatcher.clock.time()
        self.claims: dict[str, Any] = {}

    def request(self, attempt: int) -> Request:
        now = int(time.time())  # apps check iat/exp against their wall clock, even when the emulator's is virtual
        dispatcher = self.dispatcher
        self.claims = {
            "iss": dispatcher.issuer,
            "aud": dispatcher.audience,
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        }
        token = dispatcher.signer.sign(self.claims)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"}
        return Request(headers, json.dumps([self.payload], separators=(",", ":"), ensure_ascii=False).encode())

    def entry(self, attempt: int, sent: Request | None, reply: Reply, verdict: Verdict) -> tuple[str, dict[str, Any]]:
        event_type = str(self.payload["type"]).removeprefix("Microsoft.Communication.")
        status = reply.status
        if status in (401, 403):
            jwt_verdict = "rejected by the app"
        elif status is not None and status < 400:
            jwt_verdict = "accepted"
        else:
            jwt_verdict = "not checked"
        summary = f"{event_type} → app (attempt {attempt}: {reply.outcome})"
        return summary, {
            "url": self.url,
            "attempt": attempt,
            "status": status,
            "error": reply.error,
            "final": verdict.retry_in is None,
            "durationMs": reply.duration_ms,
            "jwt": {"kid": self.dispatcher.signer.kid, "claims": self.claims, "verdict": jwt_verdict},
            "event": self.payload,
        }


class CallbackDispatcher:
    """Delivers each call connection's events in order; a slow, failing or invalid app only delays its own calls."""

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
        self.signer = signer
        self.audience = audience
        self.issuer = issuer
        self.ids = ids
        # apps answer in real time: a jump of a virtual clock must not time out a callback in flight
        self._courier = Courier(
            clock, journal, http, policy, "callback-delivery", ordered=True, timeout_clock=RealClock()
        )

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
        self._courier.send(Callback(self, connection.call_connection_id, uri, event, connection.ids))

    def pending(self) -> int:
        """Callbacks queued or being sent now, not those waiting for a retry."""
        return self._courier.pending()

    async def drain(self) -> None:
        """Wait until every queued event has been delivered or given up on."""
        await self._courier.drain()

    def reset(self) -> None:
        """Drop queued events and stop delivering."""
        self._courier.reset()
