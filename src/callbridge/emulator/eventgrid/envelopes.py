"""The JSON an event travels in: Event Grid schema, CloudEvents 1.0 structured mode, and the validation event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callbridge.emulator.eventgrid.subscriptions import EventSchema, Subscription

METADATA_VERSION = "1"
CLOUD_EVENTS_SPEC_VERSION = "1.0"
VALIDATION_EVENT_TYPE = "Microsoft.EventGrid.SubscriptionValidationEvent"
JSON = "application/json; charset=utf-8"
CLOUD_EVENTS_JSON = "application/cloudevents+json; charset=utf-8"


@dataclass(frozen=True)
class Event:
    """One published event, before it is wrapped in a subscription's schema."""

    id: str
    topic: str
    event_type: str
    subject: str
    data: dict[str, Any]
    time: datetime
    data_version: str

    @property
    def short_type(self) -> str:
        """The last segment of the type: ``IncomingCall`` for ``Microsoft.Communication.IncomingCall``."""
        return self.event_type.rsplit(".", 1)[-1]


def iso_time(moment: datetime) -> str:
    """UTC ISO-8601 with a ``Z`` suffix, as Event Grid writes ``eventTime``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_grid_event(event: Event) -> dict[str, Any]:
    """The Event Grid schema envelope."""
    return {
        "id": event.id,
        "topic": event.topic,
        "subject": event.subject,
        "data": event.data,
        "eventType": event.event_type,
        "dataVersion": event.data_version,
        "metadataVersion": METADATA_VERSION,
        "eventTime": iso_time(event.time),
    }


def cloud_event(event: Event) -> dict[str, Any]:
    """The CloudEvents 1.0 structured-mode envelope; the topic becomes ``source``."""
    return {
        "id": event.id,
        "source": event.topic,
        "subject": event.subject,
        "type": event.event_type,
        "specversion": CLOUD_EVENTS_SPEC_VERSION,
        "time": iso_time(event.time),
        "data": event.data,
    }


def envelope(schema: EventSchema, event: Event) -> dict[str, Any]:
    """The event as a subscription of ``schema`` receives it."""
    return cloud_event(event) if schema is EventSchema.CLOUD_EVENTS else event_grid_event(event)


def request_body(schema: EventSchema, wrapped: dict[str, Any]) -> Any:
    """What goes on the wire: an array of one event for Event Grid schema, the bare event for CloudEvents."""
    return wrapped if schema is EventSchema.CLOUD_EVENTS else [wrapped]


def encode(body: Any) -> bytes:
    """The request body as sent: compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def content_type(schema: EventSchema) -> str:
    return CLOUD_EVENTS_JSON if schema is EventSchema.CLOUD_EVENTS else JSON


def metadata_version(schema: EventSchema) -> str:
    """``aeg-metadata-version``: the metadata version, or the spec version for CloudEvents."""
    return CLOUD_EVENTS_SPEC_VERSION if schema is EventSchema.CLOUD_EVENTS else METADATA_VERSION


def validation_event(event_id: str, topic: str, code: str, url: str, moment: datetime) -> dict[str, Any]:
    """The ``SubscriptionValidationEvent`` an Event Grid schema endpoint must echo the code of."""
    return {
        "id": event_id,
        "topic": topic,
        "subject": "",
        "data": {"validationCode": code, "validationUrl": url},
        "eventType": VALIDATION_EVENT_TYPE,
        "eventTime": iso_time(moment),
        "metadataVersion": METADATA_VERSION,
        "dataVersion": "1",
    }


def delivery_headers(subscription: Subscription, event: Event, delivery_count: int) -> dict[str, str]:
    """The headers of a notification; ``aeg-delivery-count`` is 0 on the first attempt."""
    return {
        "Content-Type": content_type(subscription.schema),
        "aeg-event-type": "Notification",
        "aeg-subscription-name": subscription.header_name,
        "aeg-delivery-count": str(delivery_count),
        "aeg-data-version": event.data_version,
        "aeg-metadata-version": metadata_version(subscription.schema),
        "aeg-output-event-id": event.id,
    }


def validation_headers(subscription: Subscription) -> dict[str, str]:
    """The headers of the validation event."""
    return {
        "Content-Type": JSON,
        "aeg-event-type": "SubscriptionValidation",
        "aeg-subscription-name": subscription.header_name,
        "aeg-delivery-count": "0",
        "aeg-data-version": "1",
        "aeg-metadata-version": METADATA_VERSION,
    }
