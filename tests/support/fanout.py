"""A stand-in load balancer that delivers every callback to several service replicas at once, several times.

ACS retries a callback it thinks failed and a load balancer in front of replicas can hand the same request to
more than one of them; this proxy makes that happen on purpose: each POST it receives is forwarded, with its
original headers (the emulator's JWT) and body, ``copies`` times to every replica concurrently, interleaved
A, B, A, B, …, and answered only when every copy has been answered.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import httpx


@dataclass
class Forwarded:
    """One request the proxy received, and the statuses its copies got from the replicas."""

    path: str
    events: list[dict[str, Any]]
    statuses: list[tuple[str, int]] = field(default_factory=list)

    @property
    def event_types(self) -> list[str]:
        return [str(e.get("type", "")).removeprefix("Microsoft.Communication.") for e in self.events]


class FanOut:
    """``url`` is the address to give the replicas as their ``public_base_url``; set ``replicas`` before use."""

    def __init__(self, copies: int = 3) -> None:
        self.copies = copies
        self.replicas: list[str] = []
        self.received: list[Forwarded] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fanout")
        self._http = httpx.Client(timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fanout", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def forwarded(self) -> list[Forwarded]:
        with self._lock:
            return list(self.received)

    def _send(self, replica: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[str, int]:
        response = self._http.post(replica + path, content=body, headers=headers)
        return replica, response.status_code

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            events = json.loads(body)
        except ValueError:
            events = []
        record = Forwarded(path, events if isinstance(events, list) else [events])
        targets = [replica for _ in range(self.copies) for replica in self.replicas]
        futures = [self._pool.submit(self._send, replica, path, body, headers) for replica in targets]
        record.statuses = [future.result() for future in futures]
        with self._lock:
            self.received.append(record)
        statuses = [status for _, status in record.statuses]
        return 200 if any(200 <= status < 300 for status in statuses) else statuses[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                status = proxy._forward(self.path, body, headers)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._pool.shutdown(wait=True)
        self._http.close()

    def __enter__(self) -> FanOut:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
