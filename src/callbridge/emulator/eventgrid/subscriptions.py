"""Event subscriptions: where a topic's events go, which of them, in which schema."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

NAME_PATTERN = re.compile(r"[A-Za-z0-9-]{3,64}")


class EventSchema(StrEnum):
    """The delivery schema of a subscription, spelled as Azure's ``eventDeliverySchema``."""

    EVENT_GRID = "EventGridSchema"
    CLOUD_EVENTS = "CloudEventSchemaV1_0"

    @classmethod
    def parse(cls, value: str) -> EventSchema:
        """The schema named ``value`` (case-insensitive); ValueError for any other."""
        for schema in cls:
            if schema.value.casefold() == value.casefold():
                return schema
        raise ValueError(f"unknown delivery schema {value!r}; use {cls.EVENT_GRID} or {cls.CLOUD_EVENTS}")


@dataclass
class Subscription:
    """A webhook event subscription on the emulated topic."""

    name: str
    endpoint: str
    event_types: list[str] | None
    schema: EventSchema
    created_at: str

    def __post_init__(self) -> None:
        check_name(self.name)
        check_endpoint(self.endpoint)
        self.event_types = list(self.event_types) if self.event_types else None

    @property
    def header_name(self) -> str:
        """The name as ``aeg-subscription-name`` carries it: upper-cased."""
        return self.name.upper()

    def wants(self, event_type: str) -> bool:
        """True when the subscription's event-type filter lets ``event_type`` through."""
        if self.event_types is None:
            return True
        return event_type.casefold() in {wanted.casefold() for wanted in self.event_types}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "endpoint": self.endpoint,
            "eventTypes": self.event_types,
            "schema": self.schema.value,
            "createdAt": self.created_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subscription:
        return cls(
            name=data["name"],
            endpoint=data["endpoint"],
            event_types=data.get("eventTypes"),
            schema=EventSchema.parse(data.get("schema", EventSchema.EVENT_GRID)),
            created_at=data["createdAt"],
        )


def check_name(name: str) -> None:
    """Azure's rule for event subscription names: 3 to 64 letters, digits and hyphens."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid subscription name {name!r}: use 3 to 64 letters, digits or hyphens")


def check_endpoint(endpoint: str) -> None:
    """A webhook endpoint must be an absolute http or https URL (Azure insists on https; locally http is fine)."""
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL as error:
        raise ValueError(f"invalid endpoint URL {endpoint!r}: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"invalid endpoint URL {endpoint!r}: expected an absolute http(s) URL")
