"""Helpers for end-to-end service tests: starting services on any local cloud (real or virtual clock), and
reading what the operator, the Teams clients, the phones and the wire would show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from callbridge.service.local import local_cloud_settings
from callbridge.service.models import CallRecord
from callbridge.service.server import RunningService
from callbridge.service.settings import Fallback, RoutingRule
from tests.support.scenario import CALLER, Cloud, eventually
from tests.support.service import API_KEY, ServiceEnv

SOURCE_NAME = "Jack (Contoso Tech Support)"
OUTSIDE_NUMBER = "+14255550199"  # not the resource's: the emulator's default endpoint rule accepts at once

NESTOR = "61a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8"
GRADY = "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a"
ISAIAH = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
PRADEEP = "5c4b3a29-1807-4f6e-8d5c-4b3a29180706"


class ServiceStarter:
    """Starts services wired to ``cloud`` (either clock); ``close`` stops them all."""

    def __init__(self, cloud: Cloud, tmp_path: Path) -> None:
        self.cloud = cloud
        self.tmp_path = tmp_path
        self.running: list[tuple[RunningService, ServiceEnv]] = []

    def start(
        self,
        routes: list[RoutingRule] | None = None,
        subscribe: bool = True,
        name: str = "callbridge",
        **overrides: Any,
    ) -> ServiceEnv:
        data_dir = self.tmp_path / f"service-{len(self.running)}"
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = local_cloud_settings(self.cloud.info, data_dir, API_KEY, routes=routes)
        if overrides:
            settings = settings.model_copy(update=overrides)
        service = RunningService(settings)
        env = ServiceEnv(self.cloud, service)
        self.running.append((service, env))
        if subscribe:
            env.subscribe(name)
        return env

    def close(self) -> None:
        for service, env in reversed(self.running):
            env.close()
            service.close()
        self.running.clear()

    def __enter__(self) -> ServiceStarter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def rule(
    cloud: Cloud,
    targets: list[str],
    strategy: str = "first-available",
    ring_timeout_seconds: int = 20,
    fallback: Fallback | None = None,
) -> RoutingRule:
    """A rule for the demo number, ringing as Jack of Contoso Tech Support."""
    return RoutingRule.model_validate(
        {
            "number": cloud.number,
            "targets": targets,
            "source_display_name": SOURCE_NAME,
            "strategy": strategy,
            "ring_timeout_seconds": ring_timeout_seconds,
            "fallback": fallback or Fallback(action="hangup"),
        }
    )


# ---------------------------------------------------------------------------------------------- the service


def summaries(detail: dict[str, Any]) -> list[str]:
    """The call's timeline, one line per entry, as the operator reads it."""
    return [str(entry["summary"]) for entry in detail["timeline"]]


def explanations(detail: dict[str, Any]) -> list[str]:
    return [str(outcome["explanation"]) for outcome in detail["call"]["outcomes"]]


def ringing(env: ServiceEnv, key: str) -> list[str]:
    """Who the service says it is ringing for the call."""
    summary = next(c for c in env.calls(active=False) if c["callKey"] == key)
    return list(summary["ringing"])


def stored_call(env: ServiceEnv, key: str) -> CallRecord:
    """The running service's own record of a call (holds the per-call secret the API never shows)."""
    running = env.service
    record = running.loop.call(running.service.store.get_call(key))
    assert record is not None, f"the service has no record of call {key}"
    return record


def settle(probe: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    return eventually(probe, timeout, what)


def holds_once_idle(cloud: Cloud, probe: Callable[[], bool], what: str = "the condition") -> None:
    """``probe()`` holds once everything in flight has happened (for things that must NOT happen)."""
    cloud.idle()
    assert probe(), f"{what} does not hold once the local cloud is idle"


# ---------------------------------------------------------------------------------------------- the local cloud


def toasts_shown(cloud: Cloud) -> list[str]:
    """Ids of the Teams users whose client showed an incoming-call toast, in order (from the journal)."""
    return [
        str(entry["detail"].get("userId"))
        for entry in cloud.journal(kind="client")
        if ": toast: " in str(entry["summary"])
    ]


def toasts(cloud: Cloud, user_id: str) -> list[dict[str, Any]]:
    """The incoming-call toasts on a user's Teams client right now."""
    return list(cloud.teams_client(user_id)["incomingCalls"])


def wait_toast(cloud: Cloud, user_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = settle(lambda: toasts(cloud, user_id), f"a toast on {user_id}'s client")
    return found[0]


def emulator_call(cloud: Cloud, server_call_id: str) -> dict[str, Any] | None:
    """The local cloud's server call (participants, app legs, ringing invitations), None once it ended."""
    calls = cloud.ok(cloud.control.get("/calls")).json()["value"]
    return next((c for c in calls if c["serverCallId"] == server_call_id), None)


def raw_ids(call: dict[str, Any] | None) -> list[str]:
    return [p["identifier"]["rawId"] for p in call["participants"]] if call else []


def phone_calls(cloud: Cloud, server_call_id: str) -> list[dict[str, Any]]:
    """What the phones in a call show (``ringing``, ``connected``, ``ended``)."""
    calls = cloud.ok(cloud.control.get("/pstn/calls")).json()["value"]
    return [c for c in calls if c["serverCallId"] == server_call_id]


def teams_user(cloud: Cloud, user: dict[str, Any]) -> dict[str, Any]:
    """Create a Teams user in the local cloud's tenant."""
    return dict(cloud.ok(cloud.control.post("/teams/users", json=user)).json())


def requests_named(cloud: Cloud, operation: str) -> list[dict[str, Any]]:
    """Call Automation requests of one operation (``AnswerCall``, ``AddParticipant``…) in the journal."""
    return [e for e in cloud.journal(kind="request") if e["detail"].get("operation") == operation]


def quiet_call(env: ServiceEnv, caller: str = CALLER) -> str:
    """Dial a service that rings nobody; once the operator sees the caller on the roster, nothing else is due."""
    key = env.answered(caller)
    env.wait_for(key, lambda d: env.people(key) == [caller], "the caller on the service's roster")
    return key
