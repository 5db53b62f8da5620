"""The ``/emulator`` control API: a public, documented contract that tests, the CLI and the UI use."""

from __future__ import annotations

from starlette.routing import BaseRoute

from callbridge.emulator.cloud import LocalCloud
from callbridge.emulator.control.cloud import CloudControl
from callbridge.emulator.eventgrid.operations import EventGridControl
from callbridge.emulator.teams.operations import TenantControl


def control_routes(cloud: LocalCloud) -> list[BaseRoute]:
    """Every ``/emulator`` route (the cloud's own, Event Grid's and the Teams tenant's), mounted under that prefix."""
    return CloudControl(cloud).routes() + EventGridControl(cloud).routes() + TenantControl(cloud).routes()
