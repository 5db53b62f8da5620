"""``callbridge demo``: the quickstart end to end, with the official SDK, on a fresh local cloud."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx
from azure.communication.callautomation import CallAutomationClient, CallInvite, MicrosoftTeamsUserIdentifier
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from rich.console import Console
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callbridge.cli.timeline import print_timeline
from callbridge.emulator.config import EmulatorConfig
from callbridge.emulator.seed import ART_ANDERSON_ID
from callbridge.emulator.server import RunningEmulator
from callbridge.serving import BackgroundLoop, Listener, Serving, bind, wait_until

CALLER = "+14255550123"
SOURCE_DISPLAY_NAME = "Jack (Contoso Tech Support)"


class QuickstartApp:
    """The quickstart's web service: answers IncomingCall from Event Grid and records its callbacks."""

    def __init__(self, connection_string: str, ca_path: str) -> None:
        self.connection_string = connection_string
        self.ca_path = ca_path
        self.base_url = ""
        self.events: list[dict[str, Any]] = []
        self.call_connection_id: str | None = None
        self._changed = threading.Condition()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/incomingCall", self.incoming_call, methods=["POST"]),
                Route("/api/callbacks", self.callbacks, methods=["POST"]),
            ]
        )

    async def incoming_call(self, request: Request) -> Response:
        for event in json.loads(await request.body()):
            if event["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent":
                return JSONResponse({"validationResponse": event["data"]["validationCode"]})
            if event["eventType"] == "Microsoft.Communication.IncomingCall":
                async with AsyncCallAutomationClient.from_connection_string(
                    self.connection_string, connection_verify=self.ca_path
                ) as client:
                    answer = await client.answer_call(
                        incoming_call_context=event["data"]["incomingCallContext"],
                        callback_url=f"{self.base_url}/api/callbacks",
                    )
                self.call_connection_id = answer.call_connection_id
        return Response(status_code=200)

    async def callbacks(self, request: Request) -> Response:
        with self._changed:
            self.events.extend(json.loads(await request.body()))
            self._changed.notify_all()
        return Response(status_code=200)

    def wait_for(self, event_type: str, after: int = 0, timeout: float = 30.0) -> int:
        """Block until the event type arrives (beyond the first ``after`` events); returns the new count."""
        deadline = time.monotonic() + timeout
        full = f"Microsoft.Communication.{event_type}"
        with self._changed:
            while True:
                for index, event in enumerate(self.events[after:], start=after):
                    if event["type"] == full:
                        return index + 1
                if time.monotonic() > deadline:
                    raise click.ClickException(f"the app never received {event_type}")
                self._changed.wait(0.2)


@click.command()
@click.option("--keep", is_flag=True, help="Keep the local cloud's data dir instead of a temporary one.")
def demo(keep: bool) -> None:
    """Run the quickstart: PSTN call, answer, add Art Anderson, remove, re-add, transfer — and print the timeline."""
    console = Console()
    data_dir = Path(".callbridge/demo") if keep else Path(tempfile.mkdtemp(prefix="callbridge-demo-"))
    config = EmulatorConfig(data_dir=data_dir, https_port=0, http_port=0, seed="demo", profile="realistic")
    with RunningEmulator(config) as emulator:
        control = httpx.Client(base_url=emulator.cloud.urls.http + "/emulator", timeout=30)
        info = control.get("/info").json()
        app = QuickstartApp(info["acs"]["connectionString"], info["caCertificatePath"])
        loop = BackgroundLoop("quickstart-app")
        listener = Listener(app.app(), bind("127.0.0.1", 0))
        app.base_url = listener.url
        serving = Serving([listener])
        task = loop.submit(serving.run())
        try:
            loop.call(wait_until(lambda: serving.started))
            _run_quickstart(console, control, app, info)
        finally:
            loop.run_sync(serving.stop)
            task.result(10)
            loop.close()
    console.print("[green]Quickstart completed.[/green]")


def _run_quickstart(console: Console, control: httpx.Client, app: QuickstartApp, info: dict[str, Any]) -> None:
    say = console.print
    number = info["acs"]["phoneNumbers"][0]
    _expect(
        control.post(
            "/eventgrid/subscriptions", json={"name": "quickstart", "endpoint": f"{app.base_url}/api/incomingCall"}
        )
    )
    say(f"Event Grid subscription validated for {app.base_url}/api/incomingCall")
    call = _expect(control.post("/pstn/calls", json={"from": CALLER, "to": number})).json()
    say(f"{CALLER} dials {number}; the app answers the IncomingCall")
    seen = app.wait_for("CallConnected")
    client = CallAutomationClient.from_connection_string(
        info["acs"]["connectionString"], connection_verify=info["caCertificatePath"]
    )
    assert app.call_connection_id is not None
    connection = client.get_call_connection(app.call_connection_id)
    art = MicrosoftTeamsUserIdentifier(user_id=ART_ANDERSON_ID)
    client_url = f"/teams/users/{ART_ANDERSON_ID}/client"

    def add_and_wait(after: int) -> int:
        connection.add_participant(CallInvite(art, source_display_name=SOURCE_DISPLAY_NAME))
        toast = _wait(lambda: control.get(client_url).json()["incomingCalls"], "Art's toast")[0]
        say(
            f"Art Anderson's Teams client shows a toast: [bold]{toast['sourceDisplayName']}[/bold] is calling ({toast['caller']['displayName']})"
        )
        count = app.wait_for("AddParticipantSucceeded", after)
        say("Art accepts; AddParticipantSucceeded")
        return count

    seen = add_and_wait(seen)
    roster = _wait(lambda: control.get(client_url).json()["activeCall"], "Art's roster")["roster"]
    say("Art's roster (the app is hidden): " + ", ".join(p["displayName"] for p in roster))
    say("Call Automation participants: " + ", ".join(p.identifier.raw_id for p in connection.list_participants()))
    connection.remove_participant(art)
    seen = app.wait_for("RemoveParticipantSucceeded", seen)
    say("Art removed; RemoveParticipantSucceeded")
    seen = add_and_wait(seen)
    _expect(control.post(f"{client_url}:hangUp"))
    say("Art hangs up from his client")
    _wait(lambda: control.get(client_url).json()["activeCall"] is None, "Art to leave")
    connection.transfer_call_to_participant(art)
    app.wait_for("CallTransferAccepted", seen)
    app.wait_for("CallDisconnected", seen)
    say("Call transferred to Art; CallTransferAccepted, then CallDisconnected for the app")
    _expect(control.post(f"/pstn/calls/{call['serverCallId']}:hangUp"))
    say(f"{CALLER} hangs up")
    entries = control.get("/journal", params={"correlationId": call["correlationId"]}).json()["value"]
    print_timeline(entries, Console(width=max(Console().width, 120)), "Quickstart timeline")


def _expect(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise click.ClickException(f"{response.request.method} {response.request.url} failed: {response.text}")
    return response


def _wait(probe: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise click.ClickException(f"timed out waiting for {what}")
