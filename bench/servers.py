"""Servers under test in child processes, so their memory and CPU time are theirs alone.

``python -m bench.servers emulator DATA_DIR`` runs the local cloud (seed demo, instant profile),
``python -m bench.servers bare --cert … --key … --body … [--token-body …]`` the bare baseline on the same
uvicorn/TLS stack, and ``python -m bench.servers service --emulator URL --data-dir … --api-key … --routes …``
the call-control service wired to that local cloud (its ``/emulator/info``) with the routing rules of a JSON file.
Each prints one JSON line with its pid and URLs once serving, then reads commands from stdin:
``gc`` runs a full collection on the server's loop and answers ``ok``; end of input stops the server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bench.baseline import bare_app
from bench.proc import cpu_seconds, rss_bytes
from callbridge.emulator.config import EmulatorConfig
from callbridge.emulator.server import EmulatorServer
from callbridge.service.local import local_cloud_settings
from callbridge.service.server import ServiceServer
from callbridge.service.settings import RoutingRule
from callbridge.serving import Listener, Serving, bind, wait_until

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """A server in a child process: its URLs, and the resident memory and CPU time it uses."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self.process.pid
        line = self._stdout.readline()
        if not line:
            raise RuntimeError(f"`python -m bench.servers {' '.join(args)}` exited with {self.process.wait()}")
        self.urls: dict[str, str] = json.loads(line)

    @classmethod
    def emulator(cls, data_dir: Path) -> ServerProcess:
        return cls("emulator", str(data_dir))

    @classmethod
    def bare(cls, cert: Path, key: Path, body: Path, token_body: Path | None = None) -> ServerProcess:
        token = ("--token-body", str(token_body)) if token_body is not None else ()
        return cls("bare", "--cert", str(cert), "--key", str(key), "--body", str(body), *token)

    @classmethod
    def service(cls, emulator_url: str, data_dir: Path, api_key: str, routes: Path) -> ServerProcess:
        """The service, configured from the local cloud at ``emulator_url`` (its HTTP origin)."""
        return cls(
            "service", "--emulator", emulator_url, "--data-dir", str(data_dir), f"--api-key={api_key}",
            "--routes", str(routes),
        )  # fmt: skip

    @property
    def _stdout(self) -> Any:
        assert self.process.stdout is not None
        return self.process.stdout

    def collect_garbage(self) -> None:
        """Run ``gc.collect()`` in the server, between two turns of its event loop."""
        assert self.process.stdin is not None
        self.process.stdin.write("gc\n")
        self.process.stdin.flush()
        if self._stdout.readline().strip() != "ok":
            raise RuntimeError("the server process did not confirm its garbage collection")

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def close(self) -> None:
        """Close its stdin (it stops serving and exits); kill it if it is still there after 20 s."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@dataclass
class Hosted:
    """What the child process runs: the serving coroutine, how to tell it started, how to stop it, its URLs."""

    run: Coroutine[Any, Any, None]
    started: Callable[[], bool]
    stop: Callable[[], None]
    urls: dict[str, str]


def _emulator(data_dir: Path) -> Hosted:
    config = EmulatorConfig(data_dir=data_dir, https_port=0, http_port=0, seed="demo", profile="instant")
    server = EmulatorServer(config)
    urls = {"https": server.cloud.urls.https, "http": server.cloud.urls.http}
    return Hosted(server.run(), lambda: server.serving.started, server.stop, urls)


def _bare(cert: Path, key: Path, body: Path, token_body: Path | None) -> Hosted:
    token = token_body.read_bytes() if token_body is not None else None
    listener = Listener(bare_app(body.read_bytes(), token), bind("127.0.0.1", 0), cert, key)
    serving = Serving([listener])
    return Hosted(serving.run(), lambda: serving.started, serving.stop, {"https": listener.url})


def _service(emulator_url: str, data_dir: Path, api_key: str, routes: Path) -> Hosted:
    info = httpx.get(emulator_url + "/emulator/info", timeout=30).raise_for_status().json()
    rules = [RoutingRule.model_validate(rule) for rule in json.loads(routes.read_text())]
    server = ServiceServer(local_cloud_settings(info, data_dir, api_key, rules))
    return Hosted(server.run(), lambda: server.started, server.stop, {"http": server.url})


async def _host(make: Callable[[], Hosted]) -> None:
    hosted = make()
    task = asyncio.create_task(hosted.run)
    await wait_until(lambda: hosted.started() or task.done())
    if task.done():
        task.result()
    print(json.dumps({"pid": os.getpid(), **hosted.urls}), flush=True)
    loop = asyncio.get_running_loop()
    while command := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if command == "gc":
            gc.collect()
            print("ok", flush=True)
    hosted.stop()
    await task


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description="Serve a server under test.")
    kinds = parser.add_subparsers(dest="kind", required=True)
    kinds.add_parser("emulator").add_argument("data_dir", type=Path)
    bare = kinds.add_parser("bare")
    for option in ("--cert", "--key", "--body"):
        bare.add_argument(option, type=Path, required=True)
    bare.add_argument("--token-body", type=Path)
    service = kinds.add_parser("service")
    service.add_argument("--emulator", required=True)
    service.add_argument("--data-dir", type=Path, required=True)
    service.add_argument("--api-key", required=True)
    service.add_argument("--routes", type=Path, required=True)
    args = parser.parse_args()
    if args.kind == "emulator":
        asyncio.run(_host(lambda: _emulator(args.data_dir)))
    elif args.kind == "bare":
        asyncio.run(_host(lambda: _bare(args.cert, args.key, args.body, args.token_body)))
    else:
        asyncio.run(_host(lambda: _service(args.emulator, args.data_dir, args.api_key, args.routes)))


if __name__ == "__main__":
    main()
