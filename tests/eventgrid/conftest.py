"""Fixtures for the Event Grid tests: real webhook receivers on 127.0.0.1 and Event Grids wired to them."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from callbridge.emulator.clock import Clock, RealClock, VirtualClock
from callbridge.emulator.eventgrid.delivery import EventGrid, RetryPolicy
from callbridge.emulator.journal import Journal
from tests.eventgrid.support import FAST_POLICY, TOPIC, VALIDATION_BASE_URL, Receiver, Rig, WebhookServer, eventually


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="package")
async def webhook_server(anyio_backend: str) -> AsyncIterator[WebhookServer]:
    """Starlette served by uvicorn in the tests' event loop on an ephemeral port."""
    webhooks = WebhookServer()
    app = Starlette(routes=[Route("/hooks/{number}", webhooks.dispatch, methods=["POST", "OPTIONS"])])
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=2))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        webhooks.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        await eventually(lambda: server.started)
        yield webhooks
        for receiver in webhooks.receivers.values():
            receiver.release.set()
        server.should_exit = True
        await serving


@pytest.fixture
def receiver(webhook_server: WebhookServer) -> Iterator[Receiver]:
    receiver = webhook_server.new_receiver()
    yield receiver
    receiver.release.set()


@pytest.fixture
def unused_url() -> str:
    """An endpoint nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/none"


@pytest.fixture
async def rude_endpoints() -> AsyncIterator[dict[str, str]]:
    """Endpoints that read the request, then reset the connection or answer with bytes that are not HTTP."""
    servers = {"reset": await asyncio.start_server(_reset, "127.0.0.1", 0)}
    servers["garbage"] = await asyncio.start_server(_garbage, "127.0.0.1", 0)
    yield {
        mode: f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks/rude" for mode, server in servers.items()
    }
    for server in servers.values():
        server.close()
        await server.wait_closed()


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    await writer.drain()
    writer.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=1_700_000_000.0)


@pytest.fixture
def rig_for(http: httpx.AsyncClient) -> Callable[..., Rig]:
    """Build an Event Grid on the given clock (real by default) with the fast test policy unless told otherwise."""

    def build(clock: Clock | None = None, policy: RetryPolicy = FAST_POLICY, **options: Any) -> Rig:
        clock = clock or RealClock()
        journal = Journal(clock)
        return Rig(EventGrid(clock, journal, http, TOPIC, policy, VALIDATION_BASE_URL, **options), journal, clock)

    return build
