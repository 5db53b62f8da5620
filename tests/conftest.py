"""Shared fixtures: a running local cloud (real and virtual clock), a stand-in app, and the official SDK clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callbridge.emulator.config import EmulatorConfig
from callbridge.emulator.server import RunningEmulator
from tests.support.receiver import AppReceiver, RunningReceiver
from tests.support.scenario import Cloud

pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def app_server() -> Iterator[AppReceiver]:
    with RunningReceiver() as receiver:
        yield receiver


@pytest.fixture
def app(app_server: AppReceiver) -> AppReceiver:
    """The stand-in app, with nothing recorded yet and every endpoint answering 200."""
    app_server.clear()
    return app_server


def _emulator(tmp_path_factory: pytest.TempPathFactory, clock: str) -> Iterator[RunningEmulator]:
    data_dir = Path(tmp_path_factory.mktemp(f"emulator-{clock}"))
    config = EmulatorConfig(data_dir=data_dir, https_port=0, http_port=0, seed="demo", clock=clock)
    with RunningEmulator(config) as running:
        yield running


@pytest.fixture(scope="session")
def real_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from _emulator(tmp_path_factory, "real")


@pytest.fixture(scope="session")
def virtual_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from _emulator(tmp_path_factory, "virtual")


@pytest.fixture
def cloud(real_emulator: RunningEmulator, app: AppReceiver) -> Iterator[Cloud]:
    """A freshly reset demo cloud on a real clock, with the app subscribed to IncomingCall."""
    with Cloud(real_emulator, app) as env:
        yield env


@pytest.fixture
def virtual_cloud(virtual_emulator: RunningEmulator, app: AppReceiver) -> Iterator[Cloud]:
    """A freshly reset demo cloud whose time moves only when the test advances it."""
    with Cloud(virtual_emulator, app) as env:
        yield env
