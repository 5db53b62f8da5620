"""The Event Grid service of the local cloud: subscriptions of one topic, publishing, delivery with retries."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx

from callbridge.emulator.clock import Clock
from callbridge.emulator.eventgrid import envelopes
from callbridge.emulator.eventgrid.envelopes import Event
from callbridge.emulator.eventgrid.handshake import RESET_DURING_VALIDATION, Handshake, HandshakeFailed
from callbridge.emulator.eventgrid.retries import DeadLetter, RetryPolicy, Verdict
from callbridge.emulator.eventgrid.subscriptions import EventSchema, Subscription
from callbridge.emulator.eventgrid.transport import Reply, exchange
from callbridge.emulator.journal import CallIds, EntryKind, Journal, Lane

__all__ = ["DeadLetter", "EventGrid", "HandshakeFailed", "RetryPolicy", "Subscription"]

DEFAULT_POLICY = RetryPolicy()
NO_CALL_IDS = CallIds()


class EventGrid:
    """Webhook subscriptions on one topic; every delivery attempt is journalled, failures retried or dead-lettered."""

    def __init__(
        self,
        clock: Clock,
        journal: Journal,
        http: httpx.AsyncClient,
        topic: str,
        policy: RetryPolicy = DEFAULT_POLICY,
        validation_base_url: str = "",
        manual_validation_seconds: float = 10.0,
    ) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.dead_letters: list[DeadLetter] = []
        self._clock = clock
        self._journal = journal
        self._http = http
        self._topic = topic
        self._policy = policy
        self._handshake = Handshake(
            clock, journal, http, topic, policy.timeout_seconds, validation_base_url, manual_validation_seconds
        )
        self._deliveries: dict[asyncio.Task[None], str] = {}
        self._retrying = 0
        self._generation = 0

    async def subscribe(
        self,
        name: str,
        endpoint: str,
        event_types: list[str] | None = None,
        schema: str = "EventGridSchema",
    ) -> Subscription:
        """Validate the endpoint (§7.3), then add or replace the subscription; HandshakeFailed when refused."""
        subscription = Subscription(
            name, endpoint, event_types, EventSchema.parse(schema), envelopes.iso_time(self._clock.now())
        )
        generation = self._generation
        await self._handshake.validate(subscription)
        if generation != self._generation:
            raise HandshakeFailed(RESET_DURING_VALIDATION)
        self.subscriptions[name] = subscription
        return subscription

    def confirm_validation(self, token: str) -> bool:
        """The app opened a ``validationUrl``; True when it completes a validation still waiting."""
        return self._handshake.confirm(token)

    def unsubscribe(self, name: str) -> bool:
        """Remove the subscription and stop its pending deliveries; False when there was none."""
        if self.subscriptions.pop(name, None) is None:
            return False
        for task, target in self._deliveries.items():
            if target == name:
                task.cancel()
        return True

    def publish(
        self,
        event_type: str,
        subject: str,
        data: dict[str, Any],
        call_ids: CallIds = NO_CALL_IDS,
        data_version: str = "1.0",
    ) -> list[str]:
        """Start delivering a new event to every subscription that wants it; the event id once per delivery."""
        event = Event(str(uuid.uuid4()), self._topic, event_type, subject, data, self._clock.now(), data_version)
        targets = [subscription for subscription in self.subscriptions.values() if subscription.wants(event_type)]
        for subscription in targets:
            self._start(subscription, event, call_ids)
        return [event.id for _ in targets]

    def pending(self) -> int:
        """Deliveries being sent now; one that waits for its next retry does not count."""
        return len(self._deliveries) - self._retrying

    async def drain(self) -> None:
        """Wait until every delivery in flight has finished, been dead-lettered or been cancelled."""
        while self._deliveries:
            await asyncio.wait(set(self._deliveries))

    def load(self, subscriptions: list[dict[str, Any]]) -> None:
        """Replace the subscriptions with saved ones; they were validated when first made."""
        loaded = [Subscription.from_json(saved) for saved in subscriptions]
        self.subscriptions.clear()
        self.subscriptions.update((subscription.name, subscription) for subscription in loaded)

    def dump(self) -> list[dict[str, Any]]:
        return [subscription.to_json() for subscription in self.subscriptions.values()]

    def reset(self) -> None:
        """Forget subscriptions and dead letters; cancel deliveries and fail validations in progress."""
        self._generation += 1
        self.subscriptions.clear()
        self.dead_letters.clear()
        self._handshake.abandon()
        for task in self._deliveries:
            task.cancel()

    def _start(self, subscription: Subscription, event: Event, call_ids: CallIds) -> None:
        wrapped = envelopes.envelope(subscription.schema, event)
        body = envelopes.request_body(subscription.schema, wrapped)
        content = envelopes.encode(body)
        task = asyncio.get_running_loop().create_task(
            self._deliver(subscription, event, call_ids, wrapped, body, content),
            name=f"eventgrid-delivery {subscription.name} {event.id}",
        )
        self._deliveries[task] = subscription.name
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._deliveries.pop(task, None)

    async def _deliver(
        self,
        subscription: Subscription,
        event: Event,
        call_ids: CallIds,
        wrapped: dict[str, Any],
        body: Any,
        content: bytes,
    ) -> None:
        attempts = 0
        while True:
            headers = envelopes.delivery_headers(subscription, event, delivery_count=attempts)
            sent_at = self._clock.now()
            reply = await exchange(
                self._http, self._clock, self._policy.timeout_seconds, "POST", subscription.endpoint, headers, content
            )
            attempts += 1
            verdict = self._policy.judge(reply.status, attempts, self._clock.time() - event.time.timestamp())
            self._record_attempt(subscription, event, call_ids, attempts, headers, body, reply, verdict, sent_at)
            if verdict.dead_letter_reason is not None:
                self._dead_letter(subscription, wrapped, attempts, reply, verdict.dead_letter_reason)
            if verdict.retry_in is None:
                return
            self._retrying += 1
            try:
                await self._clock.sleep(verdict.retry_in)
            finally:
                self._retrying -= 1

    def _dead_letter(
        self, subscription: Subscription, wrapped: dict[str, Any], attempts: int, reply: Reply, reason: str
    ) -> None:
        self.dead_letters.append(
            DeadLetter(
                subscription=subscription.name,
                event=wrapped,
                attempts=attempts,
                last_status=reply.status,
                last_error=reply.error,
                reason=reason,
                dead_lettered_at=envelopes.iso_time(self._clock.now()),
            )
        )

    def _record_attempt(
        self,
        subscription: Subscription,
        event: Event,
        call_ids: CallIds,
        attempt: int,
        headers: dict[str, str],
        body: Any,
        reply: Reply,
        verdict: Verdict,
        sent_at: datetime,
    ) -> None:
        self._journal.record(
            EntryKind.EVENTGRID,
            Lane.ACS,
            Lane.APP,
            f"{event.short_type} → {subscription.header_name} attempt {attempt}: {reply.outcome}{verdict.describe()}",
            call_ids,
            detail={
                "subscription": subscription.name,
                "eventId": event.id,
                "eventType": event.event_type,
                "url": subscription.endpoint,
                "attempt": attempt,
                "deliveryCount": attempt - 1,
                "status": reply.status,
                "headers": headers,
                "body": body,
                "error": reply.error,
                "durationMs": reply.duration_ms,
                "deadLetterReason": verdict.dead_letter_reason,
            },
            at=sent_at,
        )
