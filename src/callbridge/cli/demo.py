"""``callbridge demo``: the quickstart end to end, through the service, on a fresh local cloud."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console

from callbridge.cli.output import console
from callbridge.cli.service import wired_service
from callbridge.cli.timeline import timeline_table
from callbridge.emulator.config import EmulatorConfig
from callbridge.emulator.seed import ART_ANDERSON_ID
from callbridge.emulator.server import RunningEmulator
from callbridge.service.local import DEMO_SOURCE_DISPLAY_NAME

CALLER = "+14255550123"
ART = "Art Anderson"


@click.command()
@click.option("--keep", is_flag=True, help="Keep the state in .callbridge/demo instead of a temporary directory.")
def demo(keep: bool) -> None:
    """The quickstart: a phone call is answered, Art Anderson is found by name, rung as "Jack (Contoso Tech
    Support)", accepts, is removed, re-added, and the call is transferred to him; then the timeline."""
    out = console()
    data_dir = Path(".callbridge/demo") if keep else Path(tempfile.mkdtemp(prefix="callbridge-demo-"))
    config = EmulatorConfig(data_dir=data_dir / "emulator", https_port=0, http_port=0, seed="demo", profile="realistic")
    with RunningEmulator(config) as emulator, wired_service(emulator, data_dir, "demo-key", 0) as service:
        cloud = httpx.Client(base_url=emulator.cloud.urls.http + "/emulator", timeout=30)
        api = httpx.Client(base_url=service.url + "/api", headers={"X-API-Key": "demo-key"}, timeout=90)
        _Quickstart(out, cloud, api).run()
    out.print("[green]Quickstart completed.[/green]")


class _Quickstart:
    def __init__(self, out: Console, cloud: httpx.Client, api: httpx.Client) -> None:
        self.out = out
        self.cloud = cloud
        self.api = api

    def say(self, text: str) -> None:
        self.out.print(text, highlight=False)

    def run(self) -> None:
        number = _ok(self.cloud.get("/info"))["acs"]["phoneNumbers"][0]
        phone = _ok(self.cloud.post("/pstn/calls", json={"from": CALLER, "to": number}))
        self.say(f"☎  {CALLER} dials {number}; Event Grid delivers IncomingCall to the service, which answers")
        call = _wait(lambda: self._active_call(), "the service to answer")
        self.say(f"   the routing rule for {number}: find {ART} by name in Graph, check presence, ring him")
        toast = _wait(lambda: self._client()["incomingCalls"], "Art's toast")[0]
        self.say(f"🔔 {ART}'s Teams client: [bold]{toast['sourceDisplayName']}[/bold] is calling")
        roster = _wait(lambda: (self._client()["activeCall"] or {}).get("roster"), "Art to accept")
        self.say(f"✓  {ART} accepts; his roster (the app stays hidden): " + ", ".join(p["displayName"] for p in roster))
        key = call["callKey"]
        self.say(f"   presence through Graph: {self._presence()}")
        self._operate("remove", "DELETE", f"/calls/{key}/participants/{ART}", params={"wait": True})
        body = {"user": ART, "sourceDisplayName": DEMO_SOURCE_DISPLAY_NAME, "wait": True}
        self._operate("re-add", "POST", f"/calls/{key}/participants", json=body)
        _ok(self.cloud.post(f"/teams/users/{ART_ANDERSON_ID}/client:hangUp"))
        self.say(f"   {ART} hangs up from his client; the caller is alone with the app")
        _wait(lambda: self._client()["activeCall"] is None, "Art to leave")
        self._operate("transfer", "POST", f"/calls/{key}/transfer", json={"target": ART, "wait": True})
        roster = _wait(lambda: (self._client()["activeCall"] or {}).get("roster"), "the transferred call")
        self.say("   after the transfer, Art's call: " + ", ".join(p["displayName"] for p in roster))
        _ok(self.cloud.post(f"/pstn/calls/{phone['serverCallId']}:hangUp"))
        self.say(f"☎  {CALLER} hangs up")
        self._timelines(key, phone["correlationId"])

    def _active_call(self) -> dict[str, Any] | None:
        calls = _ok(self.api.get("/calls"))["value"]
        return calls[0] if calls and calls[0]["state"] == "connected" else None

    def _client(self) -> dict[str, Any]:
        return dict(_ok(self.cloud.get(f"/teams/users/{ART_ANDERSON_ID}/client")))

    def _presence(self) -> str:
        presence = _ok(self.api.get(f"/directory/users/{ART}/presence"))["presence"]
        return f"{presence['availability']}/{presence['activity']}"

    def _operate(self, what: str, method: str, path: str, **kwargs: Any) -> None:
        result = _ok(self.api.request(method, path, **kwargs))
        outcome = result["outcome"]
        if outcome is None or not outcome["succeeded"]:
            raise click.ClickException(f"{what} did not succeed: {outcome}")
        self.say(f"✓  operator {what}: {outcome['explanation']}")

    def _timelines(self, call_key: str, correlation_id: str) -> None:
        entries = _ok(self.api.get(f"/calls/{call_key}"))["timeline"]
        self.say("\n[bold]The service's timeline[/bold]")
        for entry in entries:
            self.say(f"  {entry['at'][11:23]}  {entry['kind']:<8} {entry['summary']}")
        journal = _ok(self.cloud.get("/journal", params={"correlationId": correlation_id}))["value"]
        wide = Console(width=max(self.out.width, 120))
        wide.print(timeline_table(journal, "\nOn the wire (the local cloud's journal)"))


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise click.ClickException(f"{response.request.method} {response.request.url} failed: {response.text}")
    return response.json()


def _wait(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise click.ClickException(f"timed out waiting for {what}")
