"""Graph fixtures: one official msgraph client per module, as the demo app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from msgraph import GraphServiceClient

from callbridge.emulator.server import RunningEmulator
from tests.graph.support import MintedCredential, app_minter, graph_client


@pytest.fixture(scope="module")
async def graph(real_emulator: RunningEmulator, anyio_backend: str) -> AsyncIterator[GraphServiceClient]:
    """One msgraph client per module (its first call pays ~3 s of lazy imports), as the demo app; async so the
    module's tests share the event loop its connection pool lives on."""
    yield graph_client(real_emulator, MintedCredential(app_minter(real_emulator)))
