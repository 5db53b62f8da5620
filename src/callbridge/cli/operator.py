"""Operator commands against a running service's API: calls, add, remove, transfer, users search, presence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import httpx

from callbridge.cli.output import console, fields, json_option, show, table

UP_FILE = Path(".callbridge/up.json")


def read_up_file() -> dict[str, Any]:
    """What `callbridge up` wrote about the stack it runs (service URL, API key, emulator URL)."""
    try:
        data = json.loads(UP_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Operator:
    """An operator API client; failures become one line saying what happened and what to do."""

    def __init__(self, url: str | None, api_key: str | None) -> None:
        up = read_up_file()
        self.url = (url or up.get("serviceUrl") or "http://127.0.0.1:7090").rstrip("/")
        key = api_key or up.get("operatorApiKey")
        self._http = httpx.Client(base_url=self.url + "/api", headers={"X-API-Key": key or ""}, timeout=90)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"cannot reach the service at {self.url} ({exc}); start it with `callbridge up` or `callbridge serve`"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise click.ClickException(f"{self.url} answered {response.status_code} without JSON") from None
        if response.is_error:
            raise click.ClickException(body.get("error", {}).get("message") or response.text)
        return body

    def call_key(self, call: str) -> str:
        """``latest`` (or ``-``) means the newest active call."""
        if call not in ("latest", "-"):
            return call
        calls = self.request("GET", "/calls", params={"active": True})["value"]
        if not calls:
            raise click.ClickException("there is no active call")
        return str(calls[0]["callKey"])


def operator_options(command: Any) -> Any:
    command = click.option("--api-key", envvar="CALLBRIDGE_OPERATOR_API_KEY", help="Operator API key.")(command)
    return click.option(
        "--service", "service_url", envvar="CALLBRIDGE_SERVICE_URL",
        help="The service's URL (default: what `callbridge up` started, else http://127.0.0.1:7090).",
    )(command)  # fmt: skip


CALL_COLUMNS = [("Call", "callKey"), ("State", "state"), ("Caller", "caller"), ("Called", "called"),
                ("In the call", "people"), ("Ringing", "ringing"), ("Started", "startedAt")]  # fmt: skip


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Ended calls too.")
@operator_options
@json_option
def calls(show_all: bool, service_url: str | None, api_key: str | None, as_json: bool) -> None:
    """List calls the service handles (active ones by default)."""
    data = Operator(service_url, api_key).request("GET", "/calls", params={"active": not show_all})
    show(data["value"], as_json, lambda rows: table(rows, CALL_COLUMNS, "Calls"))


def _outcome_line(result: dict[str, Any]) -> str:
    outcome = result.get("outcome")
    if outcome is None:
        return f"requested: {result['target']} (operation {result['operationContext']})"
    mark = "[green]✓[/green]" if outcome["succeeded"] else "[red]✗[/red]"
    return f"{mark} {outcome['explanation']}"


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    console().print(_outcome_line(result))
    outcome = result.get("outcome")
    if outcome is not None and not outcome["succeeded"]:
        raise SystemExit(1)


@click.command()
@click.argument("call")
@click.argument("user")
@click.option("--source-display-name", help="The caller name the Teams toast shows.")
@click.option("--timeout", type=click.IntRange(1, 180), default=30, show_default=True, help="Seconds to ring.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until they accept or it fails.")
@operator_options
@json_option
def add(
    call: str, user: str, source_display_name: str | None, timeout: int, wait: bool, service_url: str | None,
    api_key: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Ring USER (name, UPN, mail or object id) into CALL (a call key, or `latest`)."""
    operator = Operator(service_url, api_key)
    body = {"user": user, "sourceDisplayName": source_display_name, "timeoutSeconds": timeout, "wait": wait}
    _report(operator.request("POST", f"/calls/{operator.call_key(call)}/participants", json=body), as_json)


@click.command()
@click.argument("call")
@click.argument("user")
@click.option("--wait/--no-wait", default=True, show_default=True)
@operator_options
@json_option
def remove(call: str, user: str, wait: bool, service_url: str | None, api_key: str | None, as_json: bool) -> None:
    """Remove USER from CALL."""
    operator = Operator(service_url, api_key)
    path = f"/calls/{operator.call_key(call)}/participants/{user}"
    _report(operator.request("DELETE", path, params={"wait": wait}), as_json)


@click.command()
@click.argument("call")
@click.argument("target")
@click.option("--transferee", help="In a call with several people: who is handed over.")
@click.option("--wait/--no-wait", default=True, show_default=True)
@operator_options
@json_option
def transfer(
    call: str, target: str, transferee: str | None, wait: bool, service_url: str | None, api_key: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Transfer CALL to TARGET (a Teams user, or a +phone number)."""
    operator = Operator(service_url, api_key)
    body = {"target": target, "transferee": transferee, "wait": wait}
    _report(operator.request("POST", f"/calls/{operator.call_key(call)}/transfer", json=body), as_json)


@click.group()
def users() -> None:
    """The directory, through the service's Graph connection."""


@users.command("search")
@click.argument("text")
@click.option("--top", type=click.IntRange(1, 50), default=10, show_default=True)
@operator_options
@json_option
def users_search(text: str, top: int, service_url: str | None, api_key: str | None, as_json: bool) -> None:
    """Teams users whose names start with TEXT, with their presence."""
    data = Operator(service_url, api_key).request("GET", "/directory/users", params={"search": text, "top": top})
    rows = [{**u, "presenceText": _presence(u.get("presence"))} for u in data["value"]]
    columns = [("Name", "displayName"), ("UPN", "userPrincipalName"), ("Title", "jobTitle"),
               ("Presence", "presenceText"), ("Id", "id")]  # fmt: skip
    show(rows if not as_json else data["value"], as_json, lambda r: table(r, columns, f"Users matching {text!r}"))


@click.command()
@click.argument("user")
@operator_options
@json_option
def presence(user: str, service_url: str | None, api_key: str | None, as_json: bool) -> None:
    """USER's presence (name, UPN, mail or object id)."""
    data = Operator(service_url, api_key).request("GET", f"/directory/users/{user}/presence")
    show(data, as_json, lambda d: fields({"name": d["displayName"], "presence": _presence(d.get("presence"))}))


def _presence(presence: dict[str, str] | None) -> str:
    return f"{presence['availability']}/{presence['activity']}" if presence else "unknown"


OPERATOR_COMMANDS = (calls, add, remove, transfer, users, presence)
