"""Entra's endpoints: discovery, token and keys under /{tenant}/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud


def entra_routes(cloud: LocalCloud) -> list[BaseRoute]:
    """Every route of this service."""
    return []
