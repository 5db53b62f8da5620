"""The stand-in app's webhooks: a cheap receiver that timestamps every callback and wakes whoever awaits it."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callbridge.serving import Listener, Serving, bind, wait_until

PREFIX = "Microsoft.Communication."
INCOMING_CALL = "IncomingCall"
AWAITED = frozenset({INCOMING_CALL, "CallConnected", "AddParticipantSucceeded", "RemoveParticipantSucceeded"})


@dataclass(frozen=True)
class Arrival:
    """One callback event: its type, when the emulator stamped it and when the receiver had it (epoch seconds)."""

    event_type: str
    emitted: float
    arrived: float

    @property
    def latency(self) -> float:
        return self.arrived - self.emitted


class Receiver:
    """Event Grid and callback endpoints on the caller's event loop, so waiting needs no thread hand-offs.

    Events of the awaited types are kept per (type, call id) until someone takes them; callback arrivals are
    recorded in order so that a benchmark can read the latencies of any window of them.
    """

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._kept: defaultdict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(deque)
        self._waiters: dict[tuple[str, str], asyncio.Future[dict[str, Any]]] = {}
        self._listener = Listener(self._app(), bind("127.0.0.1", 0))
        self._serving = Serving([self._listener])
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return self._listener.url

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/eventgrid", self._eventgrid, methods=["POST"]),
                Route("/callbacks", self._callbacks, methods=["POST"]),
            ]
        )

    async def _eventgrid(self, request: Request) -> Response:
        events = json.loads(await request.body())
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return JSONResponse({"validationResponse": events[0]["data"]["validationCode"]})
        for event in events:
            if event["eventType"] == PREFIX + INCOMING_CALL:
                self._keep(INCOMING_CALL, event["data"]["serverCallId"], event)
        return Response()

    async def _callbacks(self, request: Request) -> Response:
        body = await request.body()
        arrived = time.time()
        for event in json.loads(body):
            event_type = event["type"].removeprefix(PREFIX)
            self.arrivals.append(Arrival(event_type, datetime.fromisoformat(event["time"]).timestamp(), arrived))
            if event_type in AWAITED:
                self._keep(event_type, event["data"]["callConnectionId"], event)
        return Response()

    def _keep(self, event_type: str, call_id: str, event: dict[str, Any]) -> None:
        waiter = self._waiters.pop((event_type, call_id), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(event)
        else:
            self._kept[(event_type, call_id)].append(event)

    async def take(self, event_type: str, call_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """The next event of this type (without the namespace) for a call: serverCallId for IncomingCall,
        callConnectionId for callbacks. Waits for it."""
        key = (event_type, call_id)
        kept = self._kept.get(key)
        if kept:
            event = kept.popleft()
            if not kept:
                del self._kept[key]
            return event
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[key] = waiter
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise RuntimeError(f"no {event_type} for {call_id} within {timeout:g} s") from None
        finally:
            self._waiters.pop(key, None)

    def latencies(self, since: int) -> list[float]:
        """State change to arrival, in seconds, of the callbacks that arrived after the first ``since``."""
        return [arrival.latency for arrival in self.arrivals[since:]]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._serving.run())
        await wait_until(lambda: self._serving.started)

    async def stop(self) -> None:
        if self._task is not None:
            self._serving.stop(grace_seconds=0.5)
            await self._task
