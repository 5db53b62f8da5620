"""The validation handshake a subscription must pass before Event Grid delivers to it (§7.3)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.eventgrid.delivery import HandshakeFailed
from tests.eventgrid.support import TOPIC, VALIDATION_BASE_URL, Receiver, Rig, advance_when_waiting, eventually

pytestmark = pytest.mark.anyio


def token_of(receiver: Receiver) -> str:
    url: str = receiver.validations()[0].json()[0]["data"]["validationUrl"]
    return parse_qs(urlsplit(url).query)["id"][0]


async def test_event_grid_schema_endpoint_echoing_the_code_is_subscribed(
    receiver: Receiver, rig_for: Callable[..., Rig]
) -> None:
    rig = rig_for()

    subscription = await rig.grid.subscribe("Incoming-Calls", receiver.url, ["Microsoft.Communication.IncomingCall"])

    assert rig.grid.subscriptions == {"Incoming-Calls": subscription}
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.headers["aeg-event-type"] == "SubscriptionValidation"
    assert request.headers["aeg-subscription-name"] == "INCOMING-CALLS"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    [event] = request.json()
    assert event["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"
    assert (event["topic"], event["subject"], event["metadataVersion"], event["dataVersion"]) == (TOPIC, "", "1", "1")
    assert event["id"] and event["eventTime"].endswith("Z")
    assert event["data"]["validationUrl"].startswith(f"{VALIDATION_BASE_URL}/emulator/eventgrid/validate?id=")
    assert rig.summaries() == ["SubscriptionValidation → INCOMING-CALLS: 200"]


@pytest.mark.parametrize(
    ("validation", "reason"),
    [
        ("wrong", "validationResponse 'not-the-code' but the validationCode was"),
        ("accepted", "HTTP 202 to the validation event; Event Grid accepts only 200"),
    ],
)
async def test_event_grid_schema_endpoint_answering_wrongly_is_refused(
    receiver: Receiver, rig_for: Callable[..., Rig], validation: str, reason: str
) -> None:
    rig = rig_for()
    receiver.validation = validation

    with pytest.raises(HandshakeFailed, match=reason):
        await rig.grid.subscribe("calls", receiver.url)

    assert rig.grid.subscriptions == {}
    [entry] = [entry for entry in rig.journal if entry.summary.startswith("SubscriptionValidation")]
    assert reason in entry.detail["outcome"]


async def test_endpoint_not_listening_is_refused(rig_for: Callable[..., Rig], unused_url: str) -> None:
    rig = rig_for()

    with pytest.raises(HandshakeFailed, match="validation event not delivered: connection refused"):
        await rig.grid.subscribe("calls", unused_url)

    assert rig.summaries() == ["SubscriptionValidation → CALLS: connection refused"]


async def test_manual_validation_completes_when_the_validation_url_is_opened(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    receiver.validation = "silent"
    subscribing = asyncio.create_task(rig.grid.subscribe("calls", receiver.url))
    await eventually(lambda: clock.next_due() == 10.0)

    assert rig.grid.confirm_validation("no-such-token") is False
    assert rig.grid.confirm_validation(token_of(receiver)) is True

    subscription = await subscribing
    assert rig.grid.subscriptions == {"calls": subscription}
    assert rig.grid.confirm_validation(token_of(receiver)) is False
    assert rig.summaries() == ["SubscriptionValidation → CALLS: 200", "GET validationUrl → CALLS validated"]


async def test_manual_validation_fails_when_the_url_is_not_opened_in_time(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    receiver.validation = "silent"
    subscribing = asyncio.create_task(rig.grid.subscribe("calls", receiver.url))

    await advance_when_waiting(clock, 10.0)

    with pytest.raises(HandshakeFailed, match="validationUrl was not opened within 10 s"):
        await subscribing
    assert rig.grid.subscriptions == {}


async def test_reset_fails_a_validation_waiting_for_its_url(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    receiver.validation = "silent"
    subscribing = asyncio.create_task(rig.grid.subscribe("calls", receiver.url))
    await eventually(lambda: clock.next_due() == 10.0)

    rig.grid.reset()

    with pytest.raises(HandshakeFailed, match="reset during the validation"):
        await subscribing
    assert rig.grid.subscriptions == {}


@pytest.mark.parametrize("origin", ["eventgrid.azure.net", "*"])
async def test_cloud_events_preflight_granting_the_origin_is_subscribed(
    receiver: Receiver, rig_for: Callable[..., Rig], origin: str
) -> None:
    rig = rig_for()
    receiver.allowed_origin = origin

    subscription = await rig.grid.subscribe("calls", receiver.url, schema="CloudEventSchemaV1_0")

    assert subscription.schema == "CloudEventSchemaV1_0"
    [request] = receiver.requests
    assert (request.method, request.headers["webhook-request-origin"]) == ("OPTIONS", "eventgrid.azure.net")
    assert rig.summaries() == ["OPTIONS preflight → CALLS: 200"]


@pytest.mark.parametrize(
    ("status", "origin", "reason"),
    [
        (405, None, "HTTP 405 to OPTIONS"),
        (500, None, "HTTP 500 to the OPTIONS preflight"),
        (200, None, "lacks WebHook-Allowed-Origin"),
        (200, "example.com", "WebHook-Allowed-Origin was 'example.com'"),
    ],
)
async def test_cloud_events_preflight_not_granting_is_refused(
    receiver: Receiver, rig_for: Callable[..., Rig], status: int, origin: str | None, reason: str
) -> None:
    rig = rig_for()
    receiver.options_status, receiver.allowed_origin = status, origin

    with pytest.raises(HandshakeFailed, match=reason):
        await rig.grid.subscribe("calls", receiver.url, schema="CloudEventSchemaV1_0")

    assert rig.grid.subscriptions == {}


async def test_endpoint_that_never_answers_times_out_on_the_clock(
    receiver: Receiver, rig_for: Callable[..., Rig], clock: VirtualClock
) -> None:
    rig = rig_for(clock)
    receiver.hang = True
    subscribing = asyncio.create_task(rig.grid.subscribe("calls", receiver.url))
    await eventually(lambda: receiver.requests)

    await advance_when_waiting(clock, 30.0)

    with pytest.raises(HandshakeFailed, match="no response within 30 s"):
        await subscribing


@pytest.mark.parametrize(
    ("name", "endpoint", "schema", "reason"),
    [
        ("x", "http://127.0.0.1/", "EventGridSchema", "invalid subscription name"),
        ("has space", "http://127.0.0.1/", "EventGridSchema", "invalid subscription name"),
        ("calls", "ftp://127.0.0.1/", "EventGridSchema", "invalid endpoint URL"),
        ("calls", "/relative", "EventGridSchema", "invalid endpoint URL"),
        ("calls", "http://127.0.0.1/", "CustomInputSchema", "unknown delivery schema"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    rig_for: Callable[..., Rig], name: str, endpoint: str, schema: str, reason: str
) -> None:
    rig = rig_for()

    with pytest.raises(ValueError, match=reason):
        await rig.grid.subscribe(name, endpoint, schema=schema)

    assert list(rig.journal) == []
