"""A test's view of the local cloud: control API, official SDK clients and common call set-ups."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from azure.communication.callautomation import CallAutomationClient, CallConnectionClient
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient

from callbridge.emulator.seed import ART_ANDERSON_ID
from callbridge.emulator.server import RunningEmulator
from tests.support.receiver import AppReceiver

ART = ART_ANDERSON_ID
MEGAN = "2b7e8f4c-6d1a-4c3e-9f0b-5a8d7c6e1f20"  # declines
ALEX = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"  # lets it ring
DIEGO = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"  # offline
LYNNE = "4f3e2d1c-0b9a-4876-9543-210fedcba987"  # busy
CALLER = "+14255550123"


class Cloud:
    """A freshly reset demo cloud with the stand-in app subscribed to IncomingCall."""

    def __init__(self, emulator: RunningEmulator, app: AppReceiver) -> None:
        self.emulator = emulator
        self.app = app
        self.control = httpx.Client(base_url=emulator.cloud.urls.http + "/emulator", timeout=30)
        self.info: dict[str, Any] = self.ok(self.control.post("/reset")).json()
        self.ok(self.control.post("/eventgrid/subscriptions", json={"name": "app", "endpoint": app.url + "/eventgrid"}))

    def __enter__(self) -> Cloud:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.control.close()

    # ------------------------------------------------------------------ facts

    @property
    def connection_string(self) -> str:
        return str(self.info["acs"]["connectionString"])

    @property
    def ca_path(self) -> str:
        return str(self.info["caCertificatePath"])

    @property
    def number(self) -> str:
        return str(self.info["acs"]["phoneNumbers"][0])

    @property
    def resource_id(self) -> str:
        return str(self.info["acs"]["immutableResourceId"])

    def callback_url(self, name: str = "main") -> str:
        return f"{self.app.url}/callbacks/{name}"

    # ------------------------------------------------------------------ clients

    def client(self, **kwargs: Any) -> CallAutomationClient:
        return CallAutomationClient.from_connection_string(
            self.connection_string, connection_verify=self.ca_path, **kwargs
        )

    def async_client(self, **kwargs: Any) -> AsyncCallAutomationClient:
        return AsyncCallAutomationClient.from_connection_string(
            self.connection_string, connection_verify=self.ca_path, **kwargs
        )

    # ------------------------------------------------------------------ set-ups

    def dial(self, caller: str = CALLER) -> dict[str, Any]:
        return dict(self.ok(self.control.post("/pstn/calls", json={"from": caller, "to": self.number})).json())

    def incoming_call(self, caller: str = CALLER) -> dict[str, Any]:
        """Dial the resource's number and return the IncomingCall event the app received."""
        before = len(self.app.incoming_calls())
        self.dial(caller)
        return self.app.wait_incoming_call(before + 1)

    def answered_call(self, caller: str = CALLER) -> tuple[CallConnectionClient, str]:
        """A PSTN call answered by the app and connected: the SDK's connection client and its id."""
        incoming = self.incoming_call(caller)
        answer = self.client().answer_call(
            incoming_call_context=incoming["data"]["incomingCallContext"], callback_url=self.callback_url()
        )
        self.app.wait_event("CallConnected", answer.call_connection_id)
        return self.client().get_call_connection(answer.call_connection_id), answer.call_connection_id

    # ------------------------------------------------------------------ the local cloud's other parties

    def advance(self, seconds: float) -> None:
        self.ok(self.control.post("/clock:advance", json={"seconds": seconds}))

    def idle(self) -> None:
        """Wait until nothing is happening in the local cloud (nor, so, in a service wired to it): no request
        being handled, no delivery being sent, no timer due."""
        self.ok(self.control.get("/idle"))

    def teams_client(self, user_id: str) -> dict[str, Any]:
        return dict(self.ok(self.control.get(f"/teams/users/{user_id}/client")).json())

    def set_user(self, user_id: str, **changes: Any) -> None:
        self.ok(self.control.patch(f"/teams/users/{user_id}", json=changes))

    def set_federation(self, enable: bool, resources: list[str] | None = None) -> None:
        body = {"enableAcsUsers": enable, "allowedAcsResources": [self.resource_id] if resources is None else resources}
        self.ok(self.control.put("/teams/acs-federation", json=body))

    def journal(self, **params: str) -> list[dict[str, Any]]:
        return list(self.ok(self.control.get("/journal", params=params)).json()["value"])

    @staticmethod
    def ok(response: httpx.Response) -> httpx.Response:
        assert not response.is_error, (
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
        return response


def eventually(probe: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    """Poll until ``probe()`` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
