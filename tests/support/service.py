"""A test's handle on a running service: its operator API, and the local cloud it is wired to."""

from __future__ import annotations

from typing import Any

import httpx

from callbridge.service.server import RunningService
from tests.support.scenario import CALLER, Cloud, eventually

API_KEY = "test-operator-key"


class ServiceEnv:
    """The service plus the cloud; waits poll the operator API the way an operator would."""

    def __init__(self, cloud: Cloud, service: RunningService) -> None:
        self.cloud = cloud
        self.service = service
        self.api = httpx.Client(base_url=service.url + "/api", headers={"X-API-Key": API_KEY}, timeout=90)

    @property
    def url(self) -> str:
        return self.service.url

    def subscribe(self, name: str = "callbridge") -> None:
        self.cloud.ok(
            self.cloud.control.post(
                "/eventgrid/subscriptions", json={"name": name, "endpoint": self.url + "/eventgrid"}
            )
        )

    def dial(self, caller: str = CALLER) -> dict[str, Any]:
        return self.cloud.dial(caller)

    def calls(self, active: bool = True) -> list[dict[str, Any]]:
        return list(self.cloud.ok(self.api.get("/calls", params={"active": active})).json()["value"])

    def call(self, key: str) -> dict[str, Any]:
        return dict(self.cloud.ok(self.api.get(f"/calls/{key}")).json())

    def answered(self, caller: str = CALLER) -> str:
        """Dial the demo number and wait for the service to have the call connected; its key."""
        self.dial(caller)
        found = eventually(
            lambda: next((c for c in self.calls() if c["caller"] == caller and c["state"] == "connected"), None),
            what="the service to answer",
        )
        return str(found["callKey"])

    def wait_for(self, key: str, predicate: Any, what: str, timeout: float = 15.0) -> dict[str, Any]:
        """The call's detail once ``predicate(detail)`` holds and everything in flight has happened, so what the
        test asserts next (outcomes, timeline) is settled too."""

        def settled() -> dict[str, Any] | None:
            if not predicate(self.call(key)):
                return None
            detail = self.settled(key)
            return detail if predicate(detail) else None

        return dict(eventually(settled, timeout, what))

    def settled(self, key: str) -> dict[str, Any]:
        """The call's detail once everything in flight has happened (callbacks delivered and handled)."""
        self.cloud.idle()
        return self.call(key)

    def people(self, key: str) -> list[str]:
        return [p["displayName"] for p in self.call(key)["call"]["participants"] if not p["isApp"]]

    def outcomes(self, key: str) -> list[dict[str, Any]]:
        return list(self.call(key)["call"]["outcomes"])

    def close(self) -> None:
        self.api.close()
