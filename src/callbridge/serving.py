"""Serve ASGI apps on real sockets (HTTP and HTTPS) in the foreground or on a background thread."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one. Fails with a message naming the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # asyncio sets it per connection only for IPPROTO_TCP
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}; pick another port") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket, scheme: str) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


@dataclass
class Listener:
    """One socket serving an app, over TLS when a certificate is given."""

    app: ASGIApp
    sock: socket.socket
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def url(self) -> str:
        return url_of(self.sock, "https" if self.certfile else "http")

    def server(self) -> uvicorn.Server:
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            ssl_certfile=str(self.certfile) if self.certfile else None,
            ssl_keyfile=str(self.keyfile) if self.keyfile else None,
            timeout_graceful_shutdown=5,
        )
        return uvicorn.Server(config)


class Serving:
    """Several listeners served together on one event loop until ``stop``."""

    def __init__(self, listeners: list[Listener]) -> None:
        self.listeners = listeners
        self.servers = [listener.server() for listener in listeners]

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(server.serve(sockets=[listener.sock]))
            for server, listener in zip(self.servers, self.listeners, strict=True)
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for listener in self.listeners:
                listener.sock.close()

    @property
    def started(self) -> bool:
        return all(server.started for server in self.servers)

    def stop(self, grace_seconds: float = 1.0) -> None:
        """Stop accepting, let in-flight requests finish, then drop idle keep-alive connections."""
        for server in self.servers:
            server.should_exit = True
        asyncio.get_running_loop().call_later(grace_seconds, self._force_exit)

    def _force_exit(self) -> None:
        for server in self.servers:
            server.force_exit = True


class Server(Protocol):
    """A process's servers: ``run`` serves until ``stop``."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


def serve_until_signalled(server: Server) -> None:
    """Serve in the foreground; SIGINT (Ctrl-C) or SIGTERM stops the server gracefully."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, server.stop)
        await server.run()

    asyncio.run(main())


class BackgroundLoop:
    """An event loop on its own thread: tests and ``callbridge up`` run servers there and call into them."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return self.submit(coroutine).result(timeout)

    def run_sync(self, function: Callable[[], T], timeout: float = 30.0) -> T:
        """Run a plain function on the loop thread (where the emulator's state lives)."""

        async def wrapper() -> T:
            return function()

        return self.call(wrapper(), timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self.loop.is_running():
            self.loop.close()


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "servers to start") -> None:
    """Poll until ``predicate`` holds, or fail naming what never happened."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.01)
