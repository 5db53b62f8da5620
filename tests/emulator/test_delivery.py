"""Callback delivery as one call's app sees it: in order, retried on the clock, never stopped by a bad destination."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from callbridge.emulator.acs.callbacks import CallbackDispatcher
from callbridge.emulator.acs.calls import CallConnection, ServerCall
from callbridge.emulator.acs.resource import IdFactory
from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.delivery.retries import CallbackPolicy
from callbridge.emulator.journal import EntryKind, Journal
from callbridge.identifiers import CommunicationUser

pytestmark = pytest.mark.anyio

APP = "https://app.example/callbacks"
POLICY = CallbackPolicy(attempts=3, backoff_seconds=(0.5, 2.0), timeout_seconds=10.0)


class Signer:
    """Signs with a fixed token; told to, it fails the way a broken key would."""

    kid = "test-kid"
    broken = False

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        if self.broken:
            raise ValueError("the signing key is unusable")
        return "token"


class App:
    """The app's callback endpoint: records each event type it is sent, answers as told, may hold answers back."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.statuses: list[int] = []
        self.gate: asyncio.Event | None = None

    async def handle(self, request: httpx.Request) -> httpx.Response:
        [event] = json.loads(request.content)
        self.seen.append((request.url.path, event["type"]))
        if self.gate is not None:
            await self.gate.wait()
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


class Rig:
    """A callback dispatcher on a virtual clock, sending to the in-process app."""

    def __init__(self, http: httpx.AsyncClient, app: App) -> None:
        self.clock = VirtualClock(start=1_700_000_000.0)
        self.journal = Journal(self.clock)
        self.signer = Signer()
        self.app = app
        self.callbacks = CallbackDispatcher(
            self.clock, self.journal, http, self.signer, "resource", IdFactory(7), policy=POLICY
        )

    def connection(self, call_connection_id: str, uri: str = APP) -> CallConnection:
        call = ServerCall(f"server-{call_connection_id}", f"correlation-{call_connection_id}", self.clock.time())
        return CallConnection(call_connection_id, call, CommunicationUser("8:acs:app"), uri, "2025-06-15")

    def send(self, connection: CallConnection, *event_types: str) -> None:
        for event_type in event_types:
            self.callbacks.send(connection, connection.callback_uri, f"Microsoft.Communication.{event_type}", {})

    def attempts(self, call_connection_id: str) -> list[dict[str, Any]]:
        return [
            entry.detail
            for entry in self.journal
            if entry.kind is EntryKind.CALLBACK and entry.call_ids.call_connection_id == call_connection_id
        ]

    def summaries(self, call_connection_id: str) -> list[str]:
        return [
            entry.summary
            for entry in self.journal
            if entry.kind is EntryKind.CALLBACK and entry.call_ids.call_connection_id == call_connection_id
        ]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    app = App()
    async with httpx.AsyncClient(transport=httpx.MockTransport(app.handle)) as http:
        rig = Rig(http, app)
        yield rig
        rig.callbacks.reset()
        await rig.callbacks.drain()


async def until(condition: Callable[[], object]) -> None:
    """Let the loop run until ``condition`` holds; the delivery code under test never waits on wall time."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not met")


async def test_an_invalid_uri_is_journalled_as_final_for_every_event_and_other_calls_go_on(rig: Rig) -> None:
    broken, fine = rig.connection("broken", "http://[::1"), rig.connection("fine")

    rig.send(broken, "CallConnected", "ParticipantsUpdated", "CallDisconnected")
    rig.send(fine, "CallConnected", "CallDisconnected")
    await rig.callbacks.drain()

    assert rig.summaries("broken") == [
        "CallConnected → app (attempt 1: InvalidURL: Invalid port: ':1')",
        "ParticipantsUpdated → app (attempt 1: InvalidURL: Invalid port: ':1')",
        "CallDisconnected → app (attempt 1: InvalidURL: Invalid port: ':1')",
    ]
    assert {(a["status"], a["final"], a["url"]) for a in rig.attempts("broken")} == {(None, True, "http://[::1")}
    assert rig.app.seen == [
        ("/callbacks", "Microsoft.Communication.CallConnected"),
        ("/callbacks", "Microsoft.Communication.CallDisconnected"),
    ]


async def test_an_event_that_cannot_be_signed_is_journalled_and_the_next_one_is_still_sent(rig: Rig) -> None:
    connection = rig.connection("call")
    rig.signer.broken = True
    rig.send(connection, "CallConnected")
    await rig.callbacks.drain()
    rig.signer.broken = False

    rig.send(connection, "CallDisconnected")
    await rig.callbacks.drain()

    [failed, sent] = rig.attempts("call")
    assert (failed["status"], failed["error"], failed["final"]) == (
        None,
        "ValueError: the signing key is unusable",
        True,
    )
    assert (sent["status"], sent["final"]) == (200, True)
    assert [event_type for _, event_type in rig.app.seen] == ["Microsoft.Communication.CallDisconnected"]


async def test_retries_wait_on_the_clock_and_hold_back_the_calls_later_events(rig: Rig) -> None:
    connection = rig.connection("call")
    rig.app.statuses[:] = [503, 503]

    rig.send(connection, "CallConnected", "CallDisconnected")
    await until(lambda: rig.clock.next_due() == 0.5)
    assert len(rig.app.seen) == 1
    rig.clock.advance(0.5)
    await until(lambda: rig.clock.next_due() == 2.0)
    assert len(rig.app.seen) == 2
    rig.clock.advance(2.0)
    await rig.callbacks.drain()

    assert rig.summaries("call") == [
        "CallConnected → app (attempt 1: 503)",
        "CallConnected → app (attempt 2: 503)",
        "CallConnected → app (attempt 3: 200)",
        "CallDisconnected → app (attempt 1: 200)",
    ]
    assert [a["final"] for a in rig.attempts("call")] == [False, False, True, True]
    assert [entry.time.timestamp() - 1_700_000_000.0 for entry in rig.journal] == [0.0, 0.5, 2.5, 2.5]


async def test_a_call_whose_app_never_answers_gives_up_and_still_sends_its_next_event(rig: Rig) -> None:
    connection = rig.connection("call")
    rig.app.statuses[:] = [500, 502, 504]

    rig.send(connection, "CallConnected", "CallDisconnected")
    await until(lambda: rig.clock.next_due() == 0.5)
    rig.clock.advance(0.5)
    await until(lambda: rig.clock.next_due() == 2.0)
    rig.clock.advance(2.0)
    await rig.callbacks.drain()

    assert [(a["status"], a["final"]) for a in rig.attempts("call")] == [
        (500, False),
        (502, False),
        (504, True),
        (200, True),
    ]


async def test_pending_counts_what_is_queued_or_sending_but_not_what_waits_for_a_retry(rig: Rig) -> None:
    first, second = rig.connection("first"), rig.connection("second")
    rig.app.gate = asyncio.Event()
    rig.app.statuses[:] = [503]

    rig.send(first, "CallConnected", "ParticipantsUpdated")
    rig.send(second, "CallConnected")
    assert rig.callbacks.pending() == 3
    await until(lambda: len(rig.app.seen) == 2)
    rig.app.gate.set()
    await until(lambda: rig.clock.next_due() == 0.5 and rig.attempts("second"))

    assert rig.callbacks.pending() == 0  # first's head waits for its retry; its next event waits behind it
    rig.clock.advance(0.5)
    assert rig.callbacks.pending() == 2
    await rig.callbacks.drain()
    assert rig.callbacks.pending() == 0
    assert [event_type.rsplit(".", 1)[1] for path, event_type in rig.app.seen] == [
        "CallConnected",
        "CallConnected",
        "CallConnected",
        "ParticipantsUpdated",
    ]


async def test_a_jump_of_the_virtual_clock_does_not_time_out_a_callback_in_flight(rig: Rig) -> None:
    rig.app.gate = asyncio.Event()

    rig.send(rig.connection("call"), "CallConnected")
    await until(lambda: rig.app.seen)
    rig.clock.advance(60.0)
    rig.app.gate.set()
    await rig.callbacks.drain()

    assert rig.summaries("call") == ["CallConnected → app (attempt 1: 200)"]
