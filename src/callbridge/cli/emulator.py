"""``callbridge emulator``: run the local cloud in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from callbridge.cli.output import console
from callbridge.emulator.acs.timings import PROFILES
from callbridge.emulator.config import DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT, EmulatorConfig
from callbridge.emulator.server import EmulatorServer
from callbridge.serving import serve_until_signalled


def describe(server: EmulatorServer) -> str:
    """The start-up banner: what is listening and how to point the SDKs at it."""
    cloud = server.cloud
    numbers = ", ".join(cloud.resource.phone_numbers) or "none (POST /emulator/phone-numbers)"
    return "\n".join(
        [
            "[bold]callbridge local cloud[/bold] is running",
            f"  HTTPS            {cloud.urls.https}",
            f"  HTTP             {cloud.urls.http}",
            f"  Connection       {cloud.connection_string}",
            f"  CA certificate   {cloud.certificates.ca_cert.resolve()}",
            f"  Resource id      {cloud.resource.immutable_id}",
            f"  Phone numbers    {numbers}",
            f"  Web UI           {cloud.urls.http}/ui/",
            f"  Control API      {cloud.urls.http}/emulator/info",
            f"  Data dir         {cloud.config.data_dir.resolve()}",
            "",
            "Python: CallAutomationClient.from_connection_string(conn, connection_verify=<CA certificate>)",
            "        or export REQUESTS_CA_BUNDLE=<CA certificate>; Node: export NODE_EXTRA_CA_CERTS=<CA certificate>",
        ]
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    "https_port",
    type=int,
    default=DEFAULT_HTTPS_PORT,
    show_default=True,
    help="HTTPS port (the connection string points here); 0 picks a free port.",
)
@click.option(
    "--http-port",
    type=int,
    default=DEFAULT_HTTP_PORT,
    show_default=True,
    help="Plain HTTP port for the control API and local tools; 0 picks a free port.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".callbridge/emulator"),
    show_default=True,
    help="Where certificates, keys and the tenant are kept.",
)
@click.option(
    "--seed",
    type=click.Choice(["demo", "none"]),
    default="none",
    show_default=True,
    help="Populate an empty data dir: 'demo' adds a number, federation and the quickstart's users.",
)
@click.option(
    "--clock",
    type=click.Choice(["real", "virtual"]),
    default="real",
    show_default=True,
    help="'virtual' time moves only through POST /emulator/clock:advance.",
)
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="instant",
    show_default=True,
    help="How long signalling steps take: 'instant' or 'realistic' (about as long as on Azure).",
)
@click.option(
    "--seed-ids",
    type=int,
    default=None,
    help="Seed the ids the local cloud makes (calls, connections, invitations, events, recordings), so the "
    "same scenario on the virtual clock gets the same ids.",
)
def emulator(
    host: str,
    https_port: int,
    http_port: int,
    data_dir: Path,
    seed: str,
    clock: str,
    profile: str,
    seed_ids: int | None,
) -> None:
    """Run the local cloud: ACS Call Automation, Event Grid, phones and a Teams tenant."""
    config = EmulatorConfig(
        data_dir=data_dir, host=host, https_port=https_port, http_port=http_port, seed=seed, clock=clock,
        profile=profile, seed_ids=seed_ids,
    )  # fmt: skip
    try:
        server = EmulatorServer(config)
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    console().print(describe(server), highlight=False)
    serve_until_signalled(server)
