"""The Event Grid service of the local cloud: subscriptions of one topic, publishing, and what a notification is."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from callbridge.emulator.clock import Clock
from callbridge.emulator.delivery.courier import Courier, Parcel, Request
from callbridge.emulator.delivery.retries import DeadLetter, RetryPolicy, Verdict
from callbridge.emulator.delivery.transport import Reply
from callbridge.emulator.eventgrid import envelopes
from callbridge.emulator.eventgrid.envelopes import Event
from callbridge.emulator.eventgrid.handshake import RESET_DURING_VALIDATION, Handshake, HandshakeFailed
from callbridge.emulator.eventgrid.subscriptions import EventSchema, Subscription
from callbridge.emulator.journal import CallIds, EntryKind, Journal

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
        self._clock = clock
        self._topic = topic
        self._handshake = Handshake(
            clock, journal, http, topic, policy.timeout_seconds, validation_base_url, manual_validation_seconds
        )
        # Event Grid is at-least-once and unordered: a subscription's events travel side by side
        self._courier = Courier(clock, journal, http, policy, "eventgrid-delivery", ordered=False)
        self._generation = 0

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Events given up on since the last reset, oldest first."""
        return self._courier.dead_letters

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
        self._courier.cancel(name)
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

    async def drain(self) -> None:
        """Wait until every delivery in flight has finished, been dead-lettered or been cancelled."""
        await self._courier.drain()

    def pending(self) -> int:
        """Deliveries queued or being sent now, not those waiting for a retry."""
        return self._courier.pending()

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
        self._handshake.abandon()
        self._courier.reset()

    def _start(self, subscription: Subscription, event: Event, call_ids: CallIds) -> None:
        self._courier.send(Notification(subscription, event, call_ids))


class Notification(Parcel):
    """One published event on its way to one subscription, in the subscription's schema."""

    kind = EntryKind.EVENTGRID

    def __init__(self, subscription: Subscription, event: Event, call_ids: CallIds) -> None:
        self.subscription = subscription
        self.event = event
        self.destination = subscription.name
        self.url = subscription.endpoint
        self.call_ids = call_ids
        self.payload = envelopes.envelope(subscription.schema, event)
        self.born = event.time.timestamp()
        self.body = envelopes.request_body(subscription.schema, self.payload)

    def request(self, attempt: int) -> Request:
        headers = envelopes.delivery_headers(self.subscription, self.event, delivery_count=attempt - 1)
        return Request(headers, envelopes.encode(self.body))

    def entry(self, attempt: int, sent: Request | None, reply: Reply, verdict: Verdict) -> tuple[str, dict[str, Any]]:
        summary = f"{self.event.short_type} → {self.subscription.header_name} attempt {attempt}: {reply.outcome}"
        return summary + verdict.describe(), {
            "subscription": self.subscription.name,
            "eventId": self.event.id,
            "eventType": self.event.event_type,
            "url": self.url,
            "attempt": attempt,
            "deliveryCount": attempt - 1,
            "status": reply.status,
            "headers": sent.headers if sent is not None else {},
            "body": self.body,
            "error": reply.error,
            "durationMs": reply.duration_ms,
            "deadLetterReason": verdict.dead_letter_reason,
        }
