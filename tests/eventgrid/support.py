"""Helpers for the Event Grid tests: a recording webhook receiver and ways to wait on it."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.emulator.clock import Clock, VirtualClock
from callbridge.emulator.eventgrid.delivery import EventGrid, RetryPolicy
from callbridge.emulator.journal import EntryKind, Journal

TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Communication/communicationServices/callbridge-local"
)
VALIDATION_BASE_URL = "http://127.0.0.1:8999"
FAST_POLICY = RetryPolicy(schedule=(1.0, 2.0), max_attempts=3, ttl_seconds=300.0, timeout_seconds=30.0)
INCOMING_CALL = "Microsoft.Communication.IncomingCall"


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_type(self) -> str | None:
        return self.headers.get("aeg-event-type")


@dataclass
class Receiver:
    """A webhook endpoint that records every request and answers as the test tells it."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    validation: str = "echo"
    options_status: int = 200
    allowed_origin: str | None = "eventgrid.azure.net"
    hang: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def respond(self, *statuses: int) -> None:
        """Answer the next notifications with these statuses, then 200."""
        self.statuses.extend(statuses)

    def notifications(self) -> list[Received]:
        return [r for r in self.requests if r.event_type == "Notification"]

    def validations(self) -> list[Received]:
        return [r for r in self.requests if r.event_type == "SubscriptionValidation"]

    async def handle(self, request: Request) -> Response:
        received = Received(request.method, request.url.path, dict(request.headers), await request.body())
        self.requests.append(received)
        if self.hang:
            await self.release.wait()
        if request.method == "OPTIONS":
            return self._preflight()
        if received.event_type == "SubscriptionValidation":
            return self._validate(received.json()[0]["data"]["validationCode"])
        return Response(status_code=self.statuses.popleft() if self.statuses else 200)

    def _preflight(self) -> Response:
        headers = {} if self.allowed_origin is None else {"WebHook-Allowed-Origin": self.allowed_origin}
        return Response(status_code=self.options_status, headers=headers)

    def _validate(self, code: str) -> Response:
        if self.validation == "echo":
            return JSONResponse({"ValidationResponse": code.upper(), "extra": True})
        if self.validation == "wrong":
            return JSONResponse({"validationResponse": "not-the-code"})
        if self.validation == "accepted":
            return JSONResponse({"validationResponse": code}, status_code=202)
        return Response(status_code=200)


class WebhookServer:
    """One uvicorn server for the package; each test's receiver answers on its own path."""

    def __init__(self) -> None:
        self.base_url = ""
        self.receivers: dict[str, Receiver] = {}
        self._numbers = itertools.count(1)

    def new_receiver(self) -> Receiver:
        path = f"/hooks/{next(self._numbers)}"
        receiver = Receiver(url=f"{self.base_url}{path}")
        self.receivers[path] = receiver
        return receiver

    async def dispatch(self, request: Request) -> Response:
        receiver = self.receivers.get(request.url.path)
        return Response(status_code=404) if receiver is None else await receiver.handle(request)


@dataclass
class Rig:
    """An Event Grid with the clock and journal it runs on."""

    grid: EventGrid
    journal: Journal
    clock: Clock

    def summaries(self) -> list[str]:
        """Summaries of the journal's Event Grid entries, in order."""
        return [entry.summary for entry in self.journal if entry.kind is EntryKind.EVENTGRID]


async def eventually(condition: Callable[[], object], seconds: float = 5.0) -> None:
    """Poll until ``condition`` holds; the tests may wait in real time, the code under test may not."""
    for _ in range(int(seconds / 0.002)):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not met in time")


async def advance_when_waiting(clock: VirtualClock, seconds: float) -> None:
    """Once the nearest timer is a wait of ``seconds`` (a back-off, a window), move the clock past it."""
    await eventually(lambda: clock.next_due() == seconds)
    clock.advance(seconds)


def delivery_tasks() -> list[asyncio.Task[Any]]:
    """Delivery tasks of any Event Grid that have not finished."""
    return [
        task for task in asyncio.all_tasks() if task.get_name().startswith("eventgrid-delivery") and not task.done()
    ]
