"""The ``callbridge`` command: one entry point for the local cloud, the service and their tools."""

from __future__ import annotations

import click

from callbridge import __version__
from callbridge.cli.demo import demo
from callbridge.cli.doctor import doctor
from callbridge.cli.emulator import emulator
from callbridge.cli.operator import OPERATOR_COMMANDS
from callbridge.cli.service import serve, up
from callbridge.cli.tenant import tenant


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="callbridge")
def main() -> None:
    """Bring Microsoft Teams users into Azure Communication Services calls, on Azure or on the local cloud.

    Start with `callbridge demo`, or `callbridge up` to keep the local cloud and the service running.
    """


for command in (up, demo, serve, emulator, tenant, *OPERATOR_COMMANDS, doctor):
    main.add_command(command)
