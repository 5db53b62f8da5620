"""Proving an endpoint wants events before subscribing it: the validation event, or the CloudEvents preflight."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from callbridge.emulator.clock import Clock
from callbridge.emulator.delivery.transport import Reply, exchange, within
from callbridge.emulator.eventgrid import envelopes
from callbridge.emulator.eventgrid.subscriptions import EventSchema, Subscription
from callbridge.emulator.journal import EntryKind, Journal, Lane

REQUEST_ORIGIN = "eventgrid.azure.net"
ALLOWED_ORIGINS = frozenset({REQUEST_ORIGIN, "*"})
VALIDATE_PATH = "/emulator/eventgrid/validate"
RESET_DURING_VALIDATION = "Event Grid was reset during the validation"


class HandshakeFailed(Exception):
    """The endpoint did not prove it wants the subscription's events; the message says exactly why."""


@dataclass(frozen=True)
class PendingValidation:
    """A validation event whose ``validationUrl`` may still be opened."""

    subscription: str
    confirmed: asyncio.Future[bool]


class Handshake:
    """Runs the validation handshake of §7.3 and accepts manual confirmations through ``validationUrl``."""

    def __init__(
        self,
        clock: Clock,
        journal: Journal,
        http: httpx.AsyncClient,
        topic: str,
        timeout_seconds: float,
        validation_base_url: str,
        manual_validation_seconds: float,
    ) -> None:
        self._clock = clock
        self._journal = journal
        self._http = http
        self._topic = topic
        self._timeout = timeout_seconds
        self._validation_base_url = validation_base_url.rstrip("/")
        self._manual_seconds = manual_validation_seconds
        self._pending: dict[str, PendingValidation] = {}

    async def validate(self, subscription: Subscription) -> None:
        """Return when the endpoint accepted the subscription; raise HandshakeFailed otherwise."""
        if subscription.schema is EventSchema.CLOUD_EVENTS:
            await self._preflight(subscription)
        else:
            await self._validation_event(subscription)

    def confirm(self, token: str) -> bool:
        """Someone opened a ``validationUrl``; True when it belonged to a validation still waiting."""
        pending = self._pending.get(token)
        if pending is None:
            return False
        if not pending.confirmed.done():
            pending.confirmed.set_result(True)
            self._journal.record(
                EntryKind.EVENTGRID,
                Lane.APP,
                Lane.ACS,
                f"GET validationUrl → {pending.subscription.upper()} validated",
                detail={"subscription": pending.subscription, "token": token},
            )
        return True

    def abandon(self) -> None:
        """Fail every validation still waiting for its ``validationUrl``."""
        for pending in self._pending.values():
            if not pending.confirmed.done():
                pending.confirmed.set_result(False)
        self._pending.clear()

    async def _validation_event(self, subscription: Subscription) -> None:
        code, token = str(uuid.uuid4()), str(uuid.uuid4())
        url = f"{self._validation_base_url}{VALIDATE_PATH}?id={token}"
        body = [envelopes.validation_event(str(uuid.uuid4()), self._topic, code, url, self._clock.now())]
        headers = envelopes.validation_headers(subscription)
        pending = PendingValidation(subscription.name, asyncio.get_running_loop().create_future())
        self._pending[token] = pending
        try:
            reply = await exchange(
                self._http, self._clock, self._timeout, "POST", subscription.endpoint, headers, envelopes.encode(body)
            )
            try:
                manual = awaits_manual_validation(reply, code)
            except HandshakeFailed as failure:
                self._record(subscription, "SubscriptionValidation", "POST", headers, body, reply, str(failure))
                raise
            verdict = "waiting for the validationUrl to be opened" if manual else "validated"
            self._record(subscription, "SubscriptionValidation", "POST", headers, body, reply, verdict)
            if manual:
                await self._manual_confirmation(subscription, pending)
        finally:
            self._pending.pop(token, None)

    async def _manual_confirmation(self, subscription: Subscription, pending: PendingValidation) -> None:
        try:
            confirmed = await within(self._clock, self._manual_seconds, pending.confirmed)
        except TimeoutError:
            reason = (
                f"endpoint answered 200 without validationResponse and the validationUrl was not opened "
                f"within {self._manual_seconds:g} s"
            )
            self._journal.record(
                EntryKind.EVENTGRID,
                Lane.ACS,
                Lane.APP,
                f"SubscriptionValidation → {subscription.header_name} failed: validationUrl not opened",
                detail={"subscription": subscription.name, "outcome": reason},
            )
            raise HandshakeFailed(reason) from None
        if not confirmed:
            raise HandshakeFailed(RESET_DURING_VALIDATION)

    async def _preflight(self, subscription: Subscription) -> None:
        headers = {"WebHook-Request-Origin": REQUEST_ORIGIN}
        reply = await exchange(self._http, self._clock, self._timeout, "OPTIONS", subscription.endpoint, headers)
        try:
            check_preflight(reply)
        except HandshakeFailed as failure:
            self._record(subscription, "OPTIONS preflight", "OPTIONS", headers, None, reply, str(failure))
            raise
        self._record(subscription, "OPTIONS preflight", "OPTIONS", headers, None, reply, "validated")

    def _record(
        self,
        subscription: Subscription,
        step: str,
        method: str,
        headers: dict[str, str],
        body: Any,
        reply: Reply,
        verdict: str,
    ) -> None:
        self._journal.record(
            EntryKind.EVENTGRID,
            Lane.ACS,
            Lane.APP,
            f"{step} → {subscription.header_name}: {reply.outcome}",
            detail={
                "subscription": subscription.name,
                "url": subscription.endpoint,
                "method": method,
                "status": reply.status,
                "headers": headers,
                "body": body,
                "response": reply.body.decode(errors="replace")[:2000],
                "error": reply.error,
                "durationMs": reply.duration_ms,
                "outcome": verdict,
            },
        )


def awaits_manual_validation(reply: Reply, code: str) -> bool:
    """False when the answer echoed the code, True for a bare 200 (manual validation may follow), else HandshakeFailed."""
    if reply.error is not None:
        raise HandshakeFailed(f"validation event not delivered: {reply.error}")
    if reply.status != 200:
        raise HandshakeFailed(
            f"endpoint answered HTTP {reply.status} to the validation event; Event Grid accepts only 200 "
            f'with {{"validationResponse": "<validationCode>"}}'
        )
    answer = validation_response(reply.json())
    if answer is None:
        return True
    if answer.casefold() != code.casefold():
        raise HandshakeFailed(f"endpoint answered validationResponse {answer!r} but the validationCode was {code!r}")
    return False


def validation_response(body: Any) -> str | None:
    """The ``validationResponse`` of an answer (property name matched case-insensitively), if any."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if isinstance(key, str) and key.casefold() == "validationresponse":
            return str(value)
    return None


def check_preflight(reply: Reply) -> None:
    """Accept a 2xx answer to OPTIONS that allows Event Grid's origin; HandshakeFailed otherwise."""
    if reply.error is not None:
        raise HandshakeFailed(f"OPTIONS preflight not delivered: {reply.error}")
    if reply.status == 405:
        raise HandshakeFailed(
            "endpoint answered HTTP 405 to OPTIONS: it must allow the CloudEvents abuse-protection preflight"
        )
    if reply.status is None or not 200 <= reply.status < 300:
        raise HandshakeFailed(f"endpoint answered HTTP {reply.status} to the OPTIONS preflight; expected 2xx")
    origin = reply.headers.get("WebHook-Allowed-Origin")
    if origin is None:
        raise HandshakeFailed("OPTIONS answer lacks WebHook-Allowed-Origin; expected eventgrid.azure.net or *")
    if origin.strip().casefold() not in ALLOWED_ORIGINS:
        raise HandshakeFailed(f"WebHook-Allowed-Origin was {origin!r}; expected eventgrid.azure.net or *")
