"""The emulator under test: its process, control API, signed clients, the stand-in app, and shared call set-ups."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.acs import CallAutomation, parse_connection_string
from bench.load import spread
from bench.receiver import INCOMING_CALL, Receiver
from bench.servers import ServerProcess

SETUP_WORKERS = 20


@dataclass(frozen=True)
class Cycle:
    """One add-then-remove of a Teams user, in seconds from the moment the add request left."""

    add: float  # the add request's round trip (202)
    added: float  # until AddParticipantSucceeded reached the app
    remove: float  # the remove request's round trip (202), sent once the add succeeded
    total: float  # until RemoveParticipantSucceeded reached the app


class EmulatorUnderTest:
    """A demo-seeded, instant-profile emulator in a child process, with the app subscribed to IncomingCall."""

    def __init__(
        self,
        process: ServerProcess,
        control: httpx.AsyncClient,
        receiver: Receiver,
        info: dict[str, Any],
        data_dir: Path,
        stack: AsyncExitStack,
    ) -> None:
        self.process = process
        self.control = control
        self.receiver = receiver
        self.info = info
        self.data_dir = data_dir
        self.endpoint, self.access_key = parse_connection_string(info["acs"]["connectionString"])
        self.tls = ssl.create_default_context(cafile=info["caCertificatePath"])
        self._stack = stack

    @classmethod
    @asynccontextmanager
    async def running(cls, data_dir: Path) -> AsyncIterator[EmulatorUnderTest]:
        """Start the app's receiver and the emulator, subscribe the app; afterwards let callbacks in flight land,
        then stop both, the emulator first."""
        async with AsyncExitStack() as stack:
            receiver = Receiver()
            await receiver.start()
            stack.push_async_callback(receiver.stop)
            process = stack.enter_context(ServerProcess.emulator(data_dir))
            control = httpx.AsyncClient(base_url=process.urls["http"] + "/emulator", timeout=30)
            stack.push_async_callback(control.aclose)
            info = await _checked(control, "GET", "/info")
            subscription = {"name": "app", "endpoint": receiver.url + "/eventgrid"}
            await _checked(control, "POST", "/eventgrid/subscriptions", subscription)
            emulator = cls(process, control, receiver, info, data_dir, stack)
            stack.push_async_callback(emulator.quiet)
            yield emulator

    def client(self, endpoint: str | None = None) -> CallAutomation:
        """A signed client with one connection (one per worker: httpx pools cost O(connections) per request),
        to the emulator or to another server trusting the same CA; closed with the emulator."""
        client = CallAutomation(endpoint or self.endpoint, self.access_key, self.tls)
        self._stack.push_async_callback(client.aclose)
        return client

    def clients(self, count: int, endpoint: str | None = None) -> list[CallAutomation]:
        return [self.client(endpoint) for _ in range(count)]

    @property
    def number(self) -> str:
        """The phone number the demo seed gives the resource."""
        return str(self.info["acs"]["phoneNumbers"][0])

    @property
    def server_certificate(self) -> tuple[Path, Path]:
        """The certificate and key of the emulator's HTTPS listener."""
        return self.data_dir / "tls" / "server.pem", self.data_dir / "tls" / "server-key.pem"

    @property
    def callback_uri(self) -> str:
        return self.receiver.url + "/callbacks"

    async def call_control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return await _checked(self.control, method, path, body)

    async def teams_users(self, count: int) -> list[str]:
        """Teams users who accept at once, one per concurrent call (a user already in a call is busy)."""

        async def add_user(_: None, n: int) -> str:
            body = {"displayName": f"Bench User {n}", "answer": {"action": "accept", "afterSeconds": 0}}
            return str((await self.call_control("POST", "/teams/users", body))["id"])

        return await spread(range(count), [None] * SETUP_WORKERS, add_user)

    async def answered_call(self, client: CallAutomation, caller: str) -> str:
        """A phone dials the resource, the app answers and the call connects; the call connection id."""
        dialled = await self.call_control("POST", "/pstn/calls", {"from": caller, "to": self.number})
        incoming = await self.receiver.take(INCOMING_CALL, dialled["serverCallId"])
        call_connection_id = await client.answer(incoming["data"]["incomingCallContext"], self.callback_uri)
        await self.receiver.take("CallConnected", call_connection_id)
        return call_connection_id

    async def answered_calls(self, count: int, first: int = 0) -> list[str]:
        """``count`` answered calls from distinct callers, set up by a few workers at a time."""
        callers = [f"+1425{n:07d}" for n in range(first, first + count)]
        return await spread(callers, self.clients(SETUP_WORKERS), self.answered_call)

    async def cycle(self, client: CallAutomation, call_connection_id: str, user_id: str) -> Cycle:
        """Add the Teams user, remove them once AddParticipantSucceeded arrives, wait for the removal's event."""
        started = time.perf_counter()
        await client.add_participant(call_connection_id, user_id)
        added = time.perf_counter()
        await self.receiver.take("AddParticipantSucceeded", call_connection_id)
        succeeded = time.perf_counter()
        await client.remove_participant(call_connection_id, user_id)
        removed = time.perf_counter()
        await self.receiver.take("RemoveParticipantSucceeded", call_connection_id)
        return Cycle(added - started, succeeded - started, removed - succeeded, time.perf_counter() - started)

    async def quiet(self, idle_seconds: float = 0.3) -> None:
        """Wait until no callback has arrived for ``idle_seconds``: deliveries in flight have landed."""
        while True:
            seen = len(self.receiver.arrivals)
            await asyncio.sleep(idle_seconds)
            if len(self.receiver.arrivals) == seen:
                return


async def _checked(control: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A control API request's JSON answer; an error answer breaks the benchmark."""
    response = await control.request(method, path, json=body)
    if response.is_error:
        raise RuntimeError(f"{method} /emulator{path} answered {response.status_code}: {response.text}")
    return response.json()
