"""``callbridge doctor``: check every link the service depends on and say what to fix."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import click
import httpx

from callbridge.cli.operator import read_up_file
from callbridge.cli.output import console
from callbridge.cli.service import load_settings
from callbridge.service.calls import CallControl, CallControlError
from callbridge.service.directory import Directory, DirectoryError, DirectoryUser
from callbridge.service.local import local_cloud_settings
from callbridge.service.settings import ServiceSettings

T = TypeVar("T")


@dataclass
class Checkup:
    """Each check's verdict, printed as it happens."""

    failures: int = 0
    lines: list[str] = field(default_factory=list)

    def ok(self, text: str) -> None:
        console().print(f"[green]✓[/green] {text}", highlight=False)

    def fail(self, text: str, fix: str) -> None:
        self.failures += 1
        console().print(f"[red]✗[/red] {text}\n    [bold]fix:[/bold] {fix}", highlight=False)

    def note(self, text: str) -> None:
        console().print(f"[dim]·[/dim] {text}", highlight=False)


@click.command()
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="The service's TOML file.")
@click.option("--user", "user_query", help="A Teams user to check end to end (default: the first routing target).")
@click.option(
    "--local/--configured",
    default=None,
    help="Check the local cloud started by `callbridge up` (default when it runs and nothing else is set).",
)
def doctor(config: Path | None, user_query: str | None, local: bool | None) -> None:
    """Check the ACS key, Graph sign-in and permissions, a Teams user, the callback URL and (on the local
    cloud) the tenant's gates; print what to fix. Exits 1 when something is wrong."""
    settings, emulator_url = _settings(config, local)
    checkup = Checkup()
    shown = settings.describe()
    for key in ("acs_connection_string", "acs_endpoint", "acs_immutable_resource_id", "public_base_url",
                "graph_tenant_id", "graph_client_id", "graph_client_secret", "store_url"):  # fmt: skip
        checkup.note(f"{key} = {shown[key]}")
    asyncio.run(_run(settings, emulator_url, user_query, checkup))
    if checkup.failures:
        raise SystemExit(1)
    console().print("[green]All checks passed.[/green]")


def _settings(config: Path | None, local: bool | None) -> tuple[ServiceSettings, str | None]:
    up = read_up_file()
    configured = load_settings(config)
    use_local = local if local is not None else (not configured.acs_configured and bool(up))
    if not use_local:
        return configured, None
    if not up:
        raise click.ClickException("the local cloud is not running: start it with `callbridge up`")
    info = httpx.get(up["emulatorUrl"] + "/emulator/info", timeout=10).json()
    data_dir = Path(".callbridge/doctor")
    settings = local_cloud_settings(info, data_dir, up.get("operatorApiKey") or secrets.token_hex(8))
    return settings.model_copy(update={"public_base_url": up["serviceUrl"]}), str(up["emulatorUrl"])


async def _run(settings: ServiceSettings, emulator_url: str | None, user_query: str | None, checkup: Checkup) -> None:
    await _check_acs(settings, checkup)
    user = await _check_graph(settings, user_query, checkup)
    await _check_callbacks(settings, checkup)
    if emulator_url and user is not None:
        _check_gates(emulator_url, user, checkup)


async def _check_acs(settings: ServiceSettings, checkup: Checkup) -> None:
    if not settings.acs_configured:
        checkup.fail("no ACS resource configured", "set CALLBRIDGE_ACS_CONNECTION_STRING (Keys blade of the resource)")
        return
    try:
        control = CallControl(settings)
    except CallControlError as exc:
        checkup.fail(str(exc), "check CALLBRIDGE_ACS_CONNECTION_STRING")
        return
    try:
        await control.probe()
        checkup.ok("ACS accepted a signed request (the access key is right)")
    except CallControlError as exc:
        checkup.fail(f"ACS: {exc}", "copy the connection string again from the resource's Keys blade")
    finally:
        await control.close()
    if settings.acs_immutable_resource_id is None:
        checkup.fail(
            "CALLBRIDGE_ACS_IMMUTABLE_RESOURCE_ID is not set: callbacks cannot be verified",
            "az communication show -n <resource> -g <group> --query immutableResourceId -o tsv",
        )
    else:
        checkup.ok(f"callbacks are verified for resource {settings.acs_immutable_resource_id}")


async def _check_graph(settings: ServiceSettings, user_query: str | None, checkup: Checkup) -> DirectoryUser | None:
    if not settings.graph_configured:
        checkup.fail("Graph is not configured", "set CALLBRIDGE_GRAPH_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET")
        return None
    directory = Directory(settings)
    try:
        return await _graph_checks(directory, settings, user_query, checkup)
    finally:
        await directory.close()


async def _graph_checks(
    directory: Directory, settings: ServiceSettings, user_query: str | None, checkup: Checkup
) -> DirectoryUser | None:
    try:
        await directory.sign_in()
        checkup.ok(f"signed in to Entra as app {settings.graph_client_id}")
    except Exception as exc:  # azure-identity raises several kinds; each is worth showing as it is
        checkup.fail(f"Entra sign-in failed: {exc}", "check the tenant id, client id and client secret")
        return None
    query = user_query or next((t for r in settings.routes for t in r.targets), None)
    if query is None:
        checkup.note("no user to check (pass --user NAME)")
        return None
    user = await _step(checkup, f"find {query!r} through Graph (User.Read.All)", lambda: directory.find(query),
                       "grant the app User.Read.All (application) with admin consent, or check the name")  # fmt: skip
    if user is None:
        return None
    checkup.ok(f"{query!r} is {user.display_name} ({user.id})")
    phone = await _step(checkup, "read licences", lambda: directory.has_teams_phone(user.id), "grant User.Read.All")
    if phone is False:
        checkup.fail(f"{user.display_name} has no Teams Phone (MCOEV) plan", "assign a Teams Phone licence")
    elif phone:
        checkup.ok(f"{user.display_name} has Teams Phone")
    presence = await _step(checkup, "read presence (Presence.Read.All)", lambda: directory.presence([user.id], fresh=True),
                           "grant the app Presence.Read.All (application) with admin consent")  # fmt: skip
    if presence:
        info = presence.get(user.id)
        checkup.ok(f"{user.display_name} is {info.availability}/{info.activity}" if info else "presence read")
    return user


async def _step(checkup: Checkup, what: str, action: Callable[[], Awaitable[T]], fix: str) -> T | None:
    try:
        return await action()
    except DirectoryError as exc:
        checkup.fail(f"could not {what}: {exc}", fix)
        return None


async def _check_callbacks(settings: ServiceSettings, checkup: Checkup) -> None:
    base = settings.public_base_url
    if base is None:
        checkup.fail("CALLBRIDGE_PUBLIC_BASE_URL is not set", "set it to the URL ACS and Event Grid can reach")
        return
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(base + "/api/health")
        if response.status_code == 200:
            checkup.ok(f"the callback URL {base} reaches a callbridge service")
        else:
            checkup.fail(f"{base}/api/health answered {response.status_code}", "is the service running there?")
    except httpx.HTTPError as exc:
        checkup.fail(f"cannot reach {base}: {exc}", "start `callbridge serve`, or fix CALLBRIDGE_PUBLIC_BASE_URL")


def _check_gates(emulator_url: str, user: DirectoryUser, checkup: Checkup) -> None:
    gates = httpx.get(f"{emulator_url}/emulator/teams/users/{user.id}/gates", timeout=10).json()
    if gates["federationAllowsResource"]:
        checkup.ok("the tenant's ACS federation allows this resource")
    else:
        checkup.fail("the tenant does not allow this ACS resource (403/10124)",
                     "callbridge tenant set-acs-federation --enable-acs-users --allowed-acs-resources <id>")  # fmt: skip
    if gates["enableAcsFederationAccess"]:
        checkup.ok(f"{user.display_name}'s external access policy ({gates['externalAccessPolicy']}) allows ACS")
    else:
        checkup.fail(f"{user.display_name}'s policy {gates['externalAccessPolicy']} blocks ACS (403/7604)",
                     f"callbridge tenant grant-external-access-policy --user {user.id}")  # fmt: skip
    if not gates["enterpriseVoiceEnabled"]:
        checkup.fail(f"{user.display_name} has Enterprise Voice off (403/10391)",
                     f"callbridge tenant users set-voice {user.id} true")  # fmt: skip
    if not gates["online"]:
        checkup.fail(f"{user.display_name}'s Teams client is offline (480/10037)",
                     f"callbridge tenant users set-online {user.id} true")  # fmt: skip
