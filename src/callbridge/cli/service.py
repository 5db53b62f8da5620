"""``callbridge serve`` (the service alone, configured) and ``callbridge up`` (local cloud + service, wired)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Any

import click
import httpx
from pydantic import ValidationError

from callbridge.cli.operator import UP_FILE
from callbridge.cli.output import console
from callbridge.emulator.acs.timings import PROFILES
from callbridge.emulator.config import DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT, EmulatorConfig
from callbridge.emulator.persistence import atomic_write
from callbridge.emulator.server import RunningEmulator
from callbridge.service.local import local_cloud_settings
from callbridge.service.server import RunningService, ServiceServer
from callbridge.service.settings import ServiceSettings
from callbridge.serving import serve_until_signalled

DEFAULT_SERVICE_PORT = 7090


def load_settings(config: Path | None) -> ServiceSettings:
    """Settings from the environment and the TOML file; a readable list of problems otherwise."""
    if config is not None:
        os.environ["CALLBRIDGE_CONFIG"] = str(config)
    try:
        return ServiceSettings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise click.ClickException(f"invalid configuration: {problems}") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def settings_warnings(settings: ServiceSettings) -> list[str]:
    """What will not work with these settings, in the words of the variable to set."""
    warnings = []
    if settings.acs_immutable_resource_id is None:
        warnings.append("CALLBRIDGE_ACS_IMMUTABLE_RESOURCE_ID is not set: every ACS callback will be refused (401)")
    if settings.operator_api_key is None:
        warnings.append("CALLBRIDGE_OPERATOR_API_KEY is not set: the operator API answers 503")
    if settings.eventgrid_secret is None:
        warnings.append("CALLBRIDGE_EVENTGRID_SECRET is not set: anyone who can reach /eventgrid may post events")
    if not settings.graph_configured:
        warnings.append("Graph is not configured: users can only be given by object id, presence is unknown")
    if settings.public_base_url is None:
        warnings.append("CALLBRIDGE_PUBLIC_BASE_URL is not set: callbacks point at the local address")
    if not settings.routes:
        warnings.append("no routes: incoming calls are left for other apps (set CALLBRIDGE_ROUTES or [[routes]])")
    return warnings


@click.command()
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="A TOML file (or CALLBRIDGE_CONFIG).")
def serve(config: Path | None) -> None:
    """Run the call-control service alone, configured by CALLBRIDGE_* variables and/or a TOML file."""
    settings = load_settings(config)
    if not settings.acs_configured:
        raise click.ClickException("set CALLBRIDGE_ACS_CONNECTION_STRING (or CALLBRIDGE_ACS_ENDPOINT)")
    try:
        server = ServiceServer(settings)
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    out = console()
    out.print(f"[bold]callbridge service[/bold] on {server.url}", highlight=False)
    secret = "?secret=<CALLBRIDGE_EVENTGRID_SECRET>" if settings.eventgrid_secret else ""
    out.print(f"  Event Grid webhook  {server.settings.public_base_url}/eventgrid{secret}", highlight=False)
    out.print(f"  Operator API        {server.url}/api (OpenAPI: {server.url}/api/openapi.json)", highlight=False)
    out.print(f"  Operator console    {server.url}/console/ (asks for the operator API key)", highlight=False)
    for warning in settings_warnings(settings):
        out.print(f"[yellow]warning[/yellow]: {warning}", highlight=False)
    serve_until_signalled(server)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".callbridge/up"),
    show_default=True,
    help="Where the local cloud and the service keep their state.",
)
@click.option("--port", type=int, default=DEFAULT_SERVICE_PORT, show_default=True, help="The service's port.")
@click.option("--emulator-port", type=int, default=DEFAULT_HTTPS_PORT, show_default=True, help="Local cloud HTTPS.")
@click.option("--emulator-http-port", type=int, default=DEFAULT_HTTP_PORT, show_default=True, help="Local cloud HTTP.")
@click.option("--profile", type=click.Choice(PROFILES), default="realistic", show_default=True)
def up(data_dir: Path, port: int, emulator_port: int, emulator_http_port: int, profile: str) -> None:
    """Run the local cloud and the service wired together, with the demo tenant; Ctrl-C stops both."""
    config = EmulatorConfig(
        data_dir=data_dir / "emulator", https_port=emulator_port, http_port=emulator_http_port, seed="demo",
        profile=profile,
    )  # fmt: skip
    api_key = secrets.token_urlsafe(18)
    try:
        with RunningEmulator(config) as emulator, wired_service(emulator, data_dir, api_key, port) as service:
            _write_up_file(service.url, api_key, emulator.cloud.urls.http)
            _banner(emulator, service.url, api_key)
            _wait_for_interrupt()
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        UP_FILE.unlink(missing_ok=True)


def wired_service(emulator: RunningEmulator, data_dir: Path, api_key: str, port: int) -> RunningService:
    """The service configured from the local cloud's /emulator/info, subscribed to its Event Grid."""
    control = httpx.Client(base_url=emulator.cloud.urls.http + "/emulator", timeout=30)
    info = control.get("/info").json()
    secret = secrets.token_urlsafe(16)
    service = RunningService(local_cloud_settings(info, data_dir, api_key, port=port, eventgrid_secret=secret))
    endpoint = f"{service.url}/eventgrid?secret={secret}"
    response = control.post("/eventgrid/subscriptions", json={"name": "callbridge", "endpoint": endpoint})
    if response.is_error:
        service.close()
        raise click.ClickException(f"the Event Grid subscription failed: {response.text}")
    return service


def _write_up_file(service_url: str, api_key: str, emulator_url: str) -> None:
    data: dict[str, Any] = {"serviceUrl": service_url, "operatorApiKey": api_key, "emulatorUrl": emulator_url}
    atomic_write(UP_FILE, json.dumps(data, indent=2).encode(), 0o600)


def _banner(emulator: RunningEmulator, service_url: str, api_key: str) -> None:
    cloud = emulator.cloud
    number = cloud.resource.phone_numbers[0]
    lines = [
        "[bold]callbridge is up[/bold]: the local cloud and the service, wired together",
        f"  Service            {service_url}   (operator API {service_url}/api, key {api_key})",
        f"  Operator console   {service_url}/console/#key={api_key}",
        f"  Local cloud        {cloud.urls.http}  (HTTPS {cloud.urls.https})",
        f"  Local cloud UI     {cloud.urls.http}/ui/   (Teams clients, phone, call timeline, tenant admin)",
        f"  Connection string  {cloud.connection_string}",
        f"  CA certificate     {cloud.certificates.ca_cert.resolve()}",
        f'  Routing            calls to {number} ring Art Anderson as "Jack (Contoso Tech Support)"',
        "",
        "Place a call from a phone:",
        f"  curl -X POST {cloud.urls.http}/emulator/pstn/calls -H 'content-type: application/json' \\",
        f'       -d \'{{"from": "+14255550123", "to": "{number}"}}\'',
        "Then: callbridge calls · callbridge add latest 'Megan Bowen' · callbridge remove latest 'Art Anderson'",
        "      callbridge tenant client show fc4ccb5f-8046-4812-803f-6c344a5d1560 --emulator " + cloud.urls.http,
        "Ctrl-C stops everything.",
    ]
    console().print("\n".join(lines), highlight=False)


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM, so both stop the stack cleanly."""

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console().print("stopping…")
