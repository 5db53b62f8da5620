"""Subscriptions survive a restart through dump and load."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from callbridge.emulator.eventgrid.delivery import Subscription
from tests.eventgrid.support import INCOMING_CALL, Receiver, Rig

pytestmark = pytest.mark.anyio


async def test_dump_and_load_round_trip(receiver: Receiver, rig_for: Callable[..., Rig]) -> None:
    rig = rig_for()
    await rig.grid.subscribe("calls", receiver.url, [INCOMING_CALL])
    await rig.grid.subscribe("cloud", receiver.url, schema="CloudEventSchemaV1_0")
    saved = json.loads(json.dumps(rig.grid.dump()))

    restored = rig_for()
    restored.grid.load(saved)

    assert restored.grid.subscriptions == rig.grid.subscriptions
    assert restored.grid.dump() == saved
    assert saved[0] == {
        "name": "calls",
        "endpoint": receiver.url,
        "eventTypes": [INCOMING_CALL],
        "schema": "EventGridSchema",
        "createdAt": rig.grid.subscriptions["calls"].created_at,
    }
    assert list(restored.journal) == []


async def test_load_replaces_and_validates(receiver: Receiver, rig_for: Callable[..., Rig]) -> None:
    rig = rig_for()
    await rig.grid.subscribe("calls", receiver.url)

    rig.grid.load([])
    assert rig.grid.subscriptions == {}
    with pytest.raises(ValueError, match="invalid endpoint URL"):
        rig.grid.load([{"name": "calls", "endpoint": "nowhere", "createdAt": "2024-01-01T00:00:00Z"}])


def test_subscription_filter_and_header_name() -> None:
    subscription = Subscription.from_json(
        {"name": "Calls-1", "endpoint": "https://app.example/events", "eventTypes": [], "createdAt": "x"}
    )

    assert subscription.event_types is None
    assert subscription.wants("Anything.At.All")
    assert subscription.header_name == "CALLS-1"
    assert subscription.schema == "EventGridSchema"
