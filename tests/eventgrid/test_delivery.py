"""Delivering published events: envelopes, headers, filtering, retries, dead letters, journal, reset."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent

from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.eventgrid.delivery import RetryPolicy
from callbridge.emulator.journal import CallIds, Lane
from tests.eventgrid.support import (
    INCOMING_CALL,
    TOPIC,
    Receiver,
    Rig,
    WebhookServer,
    advance_when_waiting,
    delivery_tasks,
    eventually,
)

pytestmark = pytest.mark.anyio

SUBJECT = "/caller/4:+18445550100/recipient/8:acs:resource_user"
DATA = {"to": {"kind": "communicationUser", "rawId": "8:acs:resource_user"}, "incomingCallContext": "opaque"}
CALL = CallIds(server_call_id="server-call", correlation_id="correlation")


async def test_event_grid_schema_delivery_is_an_array_of_one_event_the_sdk_reads(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("Incoming-Calls", receiver.url)

    [event_id] = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await rig.grid.drain()

    [delivery] = receiver.notifications()
    assert {name: delivery.headers[name] for name in delivery.headers if name.startswith("aeg-")} == {
        "aeg-event-type": "Notification",
        "aeg-subscription-name": "INCOMING-CALLS",
        "aeg-delivery-count": "0",
        "aeg-data-version": "1.0",
        "aeg-metadata-version": "1",
        "aeg-output-event-id": event_id,
    }
    assert delivery.headers["content-type"] == "application/json; charset=utf-8"
    [body] = delivery.json()
    assert set(body) == {"id", "topic", "subject", "data", "eventType", "dataVersion", "metadataVersion", "eventTime"}
    event = EventGridEvent.from_dict(body)
    assert (event.id, event.topic, event.subject, event.event_type) == (event_id, TOPIC, SUBJECT, INCOMING_CALL)
    assert (event.data, event.data_version, event.metadata_version) == (DATA, "1.0", "1")
    assert event.event_time == clock.now()


async def test_cloud_events_delivery_is_one_structured_event_the_sdk_reads(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url, schema="CloudEventSchemaV1_0")

    [event_id] = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await rig.grid.drain()

    [delivery] = receiver.notifications()
    assert delivery.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    assert (delivery.headers["aeg-subscription-name"], delivery.headers["aeg-delivery-count"]) == ("CALLS", "0")
    assert delivery.headers["aeg-metadata-version"] == "1.0"
    body = delivery.json()
    assert set(body) == {"id", "source", "subject", "type", "specversion", "time", "data"}
    event: CloudEvent[dict[str, Any]] = CloudEvent.from_dict(body)
    assert (event.id, event.source, event.subject, event.type) == (event_id, TOPIC, SUBJECT, INCOMING_CALL)
    assert (event.specversion, event.data, event.time) == ("1.0", DATA, clock.now())


async def test_event_types_filter_which_subscriptions_get_an_event(
    webhook_server: WebhookServer, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for()
    calls, everything = webhook_server.new_receiver(), webhook_server.new_receiver()
    await rig.grid.subscribe("calls", calls.url, ["microsoft.communication.incomingcall"])
    await rig.grid.subscribe("everything", everything.url)

    incoming = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    other = rig.grid.publish("Microsoft.Communication.CallEnded", SUBJECT, {})
    await rig.grid.drain()

    assert len(incoming) == 2 and len(set(incoming)) == 1
    assert len(other) == 1
    assert [n.json()[0]["eventType"] for n in calls.notifications()] == [INCOMING_CALL]
    assert sorted(n.json()[0]["eventType"] for n in everything.notifications()) == [
        "Microsoft.Communication.CallEnded",
        INCOMING_CALL,
    ]


async def test_publishing_with_no_subscription_delivers_nothing(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for()

    assert rig.grid.publish(INCOMING_CALL, SUBJECT, DATA) == []
    assert delivery_tasks() == []


async def test_failed_attempts_are_retried_on_the_schedule_until_one_succeeds(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(503, 500)
    published = clock.time()

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await eventually(lambda: len(receiver.notifications()) == 1)
    await advance_when_waiting(clock, 1.0)
    await advance_when_waiting(clock, 2.0)
    await rig.grid.drain()

    assert [n.headers["aeg-delivery-count"] for n in receiver.notifications()] == ["0", "1", "2"]
    assert len({n.json()[0]["id"] for n in receiver.notifications()}) == 1
    assert rig.grid.dead_letters == []
    attempts = rig.journal.entries(CALL)
    assert [entry.summary for entry in attempts] == [
        "IncomingCall → CALLS attempt 1: 503, retrying in 1 s",
        "IncomingCall → CALLS attempt 2: 500, retrying in 2 s",
        "IncomingCall → CALLS attempt 3: 200",
    ]
    assert [entry.time.timestamp() - published for entry in attempts] == [0.0, 1.0, 3.0]
    assert {(entry.source, entry.target) for entry in attempts} == {(Lane.ACS, Lane.APP)}
    last = attempts[-1].detail
    assert (last["url"], last["status"], last["deliveryCount"], last["error"]) == (receiver.url, 200, 2, None)
    assert last["headers"]["aeg-delivery-count"] == "2"
    assert last["body"][0]["data"] == DATA
    assert isinstance(last["durationMs"], int)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "UndeliverableDueToHttpBadRequest"),
        (401, "UndeliverableDueToHttpUnauthorized"),
        (403, "UndeliverableDueToHttpForbidden"),
        (413, "UndeliverableDueToHttpRequestEntityTooLarge"),
    ],
)
async def test_client_errors_are_dead_lettered_without_retry(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock, status: int, reason: str
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(status)

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await rig.grid.drain()

    assert len(receiver.notifications()) == 1
    [dead] = rig.grid.dead_letters
    assert (dead.subscription, dead.attempts, dead.last_status, dead.reason) == ("calls", 1, status, reason)
    assert rig.summaries()[-1] == f"IncomingCall → CALLS attempt 1: {status}, dead-lettered ({reason})"


async def test_exhausted_attempts_are_dead_lettered_with_the_count(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(500, 502, 503)

    [event_id] = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await advance_when_waiting(clock, 1.0)
    await advance_when_waiting(clock, 2.0)
    await rig.grid.drain()

    [dead] = rig.grid.dead_letters
    assert (dead.attempts, dead.last_status, dead.last_error) == (3, 503, None)
    assert dead.event == receiver.notifications()[0].json()[0]
    assert dead.to_json() == {
        "subscription": "calls",
        "event": dead.event,
        "deliveryAttempts": 3,
        "lastHttpStatusCode": 503,
        "lastError": None,
        "deadLetterReason": "MaxDeliveryAttemptsExceeded",
        "deadLetterTime": dead.dead_lettered_at,
    }
    assert dead.event["id"] == event_id
    assert len(rig.journal.entries(CALL)) == 3


async def test_an_event_whose_next_retry_would_outlive_its_ttl_is_dead_lettered(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock, RetryPolicy(schedule=(1.0, 2.0), max_attempts=6, ttl_seconds=2.5))
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(503, 503, 503)

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await advance_when_waiting(clock, 1.0)
    await rig.grid.drain()

    [dead] = rig.grid.dead_letters
    assert (dead.attempts, dead.reason) == (2, "TimeToLiveExceeded")


async def test_an_endpoint_that_hangs_times_out_on_the_clock_and_is_retried(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.hang = True

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await eventually(lambda: receiver.notifications())
    await advance_when_waiting(clock, 30.0)
    receiver.hang = False
    await advance_when_waiting(clock, 1.0)
    await rig.grid.drain()

    assert rig.summaries()[1:] == [
        "IncomingCall → CALLS attempt 1: no response within 30 s, retrying in 1 s",
        "IncomingCall → CALLS attempt 2: 200",
    ]
    assert rig.journal.entries()[1].detail["error"] == "no response within 30 s"


async def test_a_hung_endpoint_times_out_in_real_time_on_a_real_clock(
    receiver: Receiver, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(policy=RetryPolicy(max_attempts=1, timeout_seconds=0.05))
    await rig.grid.subscribe("calls", receiver.url)
    receiver.hang = True

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await rig.grid.drain()

    [dead] = rig.grid.dead_letters
    assert (dead.last_status, dead.last_error) == (None, "no response within 0.05 s")


async def test_endpoints_that_reset_talk_garbage_or_do_not_listen_never_break_delivery(
    rude_endpoints: dict[str, str], unused_url: str, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for(policy=RetryPolicy(schedule=(0.0,), max_attempts=2))
    endpoints = {**rude_endpoints, "absent": unused_url}
    rig.grid.load(
        [{"name": name, "endpoint": url, "createdAt": "2024-01-01T00:00:00Z"} for name, url in endpoints.items()]
    )

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await rig.grid.drain()

    errors = {dead.subscription: dead.last_error for dead in rig.grid.dead_letters}
    assert {dead.attempts for dead in rig.grid.dead_letters} == {2}
    assert errors["absent"] == "connection refused"
    assert errors["garbage"] is not None and errors["garbage"].startswith("connection dropped or invalid HTTP response")
    assert errors["reset"] == "connection reset"
    assert delivery_tasks() == []


async def test_reset_cancels_deliveries_waiting_to_retry(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(503)
    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await eventually(lambda: clock.next_due() == 1.0)

    rig.grid.reset()
    await rig.grid.drain()

    assert delivery_tasks() == []
    clock.advance(60.0)
    await asyncio.sleep(0.01)
    assert len(receiver.notifications()) == 1
    assert (rig.grid.subscriptions, rig.grid.dead_letters) == ({}, [])


async def test_reset_cancels_a_delivery_waiting_for_a_hung_endpoint(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.hang = True
    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await eventually(lambda: receiver.notifications())

    rig.grid.reset()
    await rig.grid.drain()

    assert delivery_tasks() == []
    assert rig.summaries() == ["SubscriptionValidation → CALLS: 200"]


async def test_unsubscribing_stops_that_subscriptions_retries(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(503)
    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA)
    await eventually(lambda: clock.next_due() == 1.0)

    assert rig.grid.unsubscribe("calls") is True
    assert rig.grid.unsubscribe("calls") is False
    await rig.grid.drain()

    assert delivery_tasks() == []
    assert rig.grid.subscriptions == {}


async def test_an_event_that_cannot_be_encoded_is_journalled_as_given_up_and_the_next_is_delivered(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)

    rig.grid.publish(INCOMING_CALL, SUBJECT, {"not json": {1, 2}}, CALL)
    [event_id] = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await rig.grid.drain()

    assert [n.json()[0]["id"] for n in receiver.notifications()] == [event_id]
    assert [entry.summary for entry in rig.journal.entries(CALL)] == [
        "IncomingCall → CALLS attempt 1: TypeError: Object of type set is not JSON serializable",
        "IncomingCall → CALLS attempt 1: 200",
    ]
    assert rig.grid.dead_letters == []


async def test_events_waiting_to_retry_do_not_hold_back_the_subscriptions_next_event(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.respond(503)

    [first] = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await eventually(lambda: clock.next_due() == 1.0)
    [second] = rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    await eventually(lambda: len(receiver.notifications()) == 2 and rig.grid.pending() == 0)
    clock.advance(1.0)
    await rig.grid.drain()

    assert [n.json()[0]["id"] for n in receiver.notifications()] == [first, second, first]


async def test_pending_counts_deliveries_being_sent_but_not_those_waiting_to_retry(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    await rig.grid.subscribe("calls", receiver.url)
    receiver.hang = True
    receiver.respond(503)

    rig.grid.publish(INCOMING_CALL, SUBJECT, DATA, CALL)
    assert rig.grid.pending() == 1
    await eventually(lambda: receiver.notifications())
    assert rig.grid.pending() == 1
    receiver.release.set()
    await eventually(lambda: clock.next_due() == 1.0)
    assert rig.grid.pending() == 0

    clock.advance(1.0)
    await rig.grid.drain()
    assert rig.grid.pending() == 0
    assert [n.headers["aeg-delivery-count"] for n in receiver.notifications()] == ["0", "1"]
