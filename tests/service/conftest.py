"""Fixtures for the service: started on real sockets against the local cloud, optionally on a real Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from tests.support.scenario import Cloud
from tests.support.service import API_KEY, ServiceEnv

from callbridge.service.local import local_cloud_settings
from callbridge.service.server import RunningService
from callbridge.service.settings import RoutingRule

StartService = Callable[..., ServiceEnv]


@pytest.fixture
def start_service(cloud: Cloud, tmp_path: Path) -> Iterator[StartService]:
    """Start services wired to the (freshly reset) local cloud; all are stopped after the test."""
    running: list[RunningService] = []

    def start(
        routes: list[RoutingRule] | None = None,
        store_url: str | None = None,
        subscribe: bool = True,
        name: str = "callbridge",
        **overrides: object,
    ) -> ServiceEnv:
        settings = local_cloud_settings(cloud.info, tmp_path, API_KEY, routes=routes)
        updates: dict[str, object] = dict(overrides)
        if store_url is not None:
            updates["store_url"] = store_url
        if updates:
            settings = settings.model_copy(update=updates)
        service = RunningService(settings)
        running.append(service)
        env = ServiceEnv(cloud, service)
        if subscribe:
            env.subscribe(name)
        return env

    yield start
    for service in reversed(running):
        service.close()


@pytest.fixture
def service(start_service: StartService) -> ServiceEnv:
    """The service with the demo rule: calls to the demo number ring Art Anderson."""
    return start_service()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on an ephemeral port, started for the test session (CI installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `apt-get install redis-server` (the CI script does this)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture
def fresh_redis(redis_url: str) -> str:
    """The Redis URL, with the database emptied first."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url
