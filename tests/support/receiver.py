"""A stand-in Call Automation app for tests: real webhook endpoints that record what the local cloud sends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callbridge.serving import BackgroundLoop, Listener, Serving, bind, wait_until


@dataclass
class Received:
    """One request the app received."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class AppReceiver:
    """Answers the Event Grid handshake, records IncomingCall deliveries and mid-call callbacks."""

    callbacks: list[Received] = field(default_factory=list)
    eventgrid: list[Received] = field(default_factory=list)
    callback_statuses: list[int] = field(default_factory=list)
    eventgrid_statuses: list[int] = field(default_factory=list)
    url: str = ""
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/eventgrid", self._eventgrid, methods=["POST", "OPTIONS"]),
                Route("/callbacks/{name:path}", self._callback, methods=["POST"]),
            ]
        )

    async def _eventgrid(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(headers={"WebHook-Allowed-Origin": request.headers.get("webhook-request-origin", "*")})
        body = json.loads(await request.body())
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return JSONResponse({"validationResponse": body[0]["data"]["validationCode"]})
        self._record(self.eventgrid, request, body)
        return Response(status_code=self.eventgrid_statuses.pop(0) if self.eventgrid_statuses else 200)

    async def _callback(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self._record(self.callbacks, request, body)
        return Response(status_code=self.callback_statuses.pop(0) if self.callback_statuses else 200)

    def _record(self, into: list[Received], request: Request, body: Any) -> None:
        with self._changed:
            into.append(Received(request.url.path, dict(request.headers), body))
            self._changed.notify_all()

    def clear(self) -> None:
        """Forget what arrived and answer 200 again."""
        with self._changed:
            self.callbacks.clear()
            self.eventgrid.clear()
            self.callback_statuses.clear()
            self.eventgrid_statuses.clear()

    # ------------------------------------------------------------------ reading what arrived

    def events(self, event_type: str | None = None, call_connection_id: str | None = None) -> list[dict[str, Any]]:
        """Callback events in arrival order, optionally of one type (without the namespace) and one call."""
        with self._changed:
            found = [event for received in self.callbacks for event in received.body]
        return [
            e
            for e in found
            if (event_type is None or e["type"] == f"Microsoft.Communication.{event_type}")
            and (call_connection_id is None or e["data"].get("callConnectionId") == call_connection_id)
        ]

    def types(self, call_connection_id: str | None = None) -> list[str]:
        return [e["type"].removeprefix("Microsoft.Communication.") for e in self.events(None, call_connection_id)]

    def incoming_calls(self) -> list[dict[str, Any]]:
        with self._changed:
            return [event for received in self.eventgrid for event in _as_list(received.body)]

    def wait(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "an event") -> Any:
        """Block until ``predicate()`` is truthy and return its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; callbacks so far: {self.types()}")
                self._changed.wait(remaining)

    def wait_event(
        self, event_type: str, call_connection_id: str | None = None, count: int = 1, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The ``count``-th event of a type (for a call); waits for it."""
        found: list[dict[str, Any]] = self.wait(
            lambda: events if len(events := self.events(event_type, call_connection_id)) >= count else None,
            timeout,
            f"{count} x {event_type}",
        )
        return found[count - 1]

    def wait_incoming_call(self, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        found: list[dict[str, Any]] = self.wait(
            lambda: calls if len(calls := self.incoming_calls()) >= count else None, timeout, "IncomingCall"
        )
        return found[count - 1]


def _as_list(body: Any) -> list[Any]:
    return body if isinstance(body, list) else [body]


class RunningReceiver:
    """An AppReceiver served over HTTP on 127.0.0.1 from its own thread."""

    def __init__(self) -> None:
        self.receiver = AppReceiver()
        self.loop = BackgroundLoop("test-app-receiver")
        listener = Listener(self.receiver.app(), bind("127.0.0.1", 0))
        self.receiver.url = listener.url
        self.serving = Serving([listener])
        self._task = self.loop.submit(self.serving.run())
        self.loop.call(wait_until(lambda: self.serving.started))

    def close(self) -> None:
        self.loop.run_sync(self.serving.stop)
        self._task.result(10)
        self.loop.close()

    def __enter__(self) -> AppReceiver:
        return self.receiver

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
