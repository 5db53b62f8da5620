"""Graph v1.0 routes, mounted at /v1.0."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud


def graph_routes(cloud: LocalCloud) -> list[BaseRoute]:
    """Every route of this service."""
    return []
