"""Fixtures shared across test folders (registered in tests/conftest.py): services started on real sockets
against the local cloud."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from callbridge.service.local import local_cloud_settings
from callbridge.service.server import RunningService
from callbridge.service.settings import RoutingRule
from tests.support.scenario import Cloud
from tests.support.service import API_KEY, ServiceEnv

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
