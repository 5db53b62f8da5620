"""A service restarted mid-call picks the call up from its store: the same callback URL, the same call, on it goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from callbridge.emulator.seed import ART_ANDERSON_ID
from callbridge.service.local import local_cloud_settings
from callbridge.service.server import RunningService
from tests.support.scenario import CALLER, Cloud, eventually
from tests.support.service import API_KEY, ServiceEnv


class Instances:
    """Service processes started one after the other on the same store; whichever still runs is stopped at the end."""

    def __init__(self, cloud: Cloud, tmp_path: Path) -> None:
        self.cloud = cloud
        self.tmp_path = tmp_path
        self.running: list[ServiceEnv] = []

    def start(self, store_url: str, port: int = 0) -> ServiceEnv:
        settings = local_cloud_settings(self.cloud.info, self.tmp_path, API_KEY, port=port)
        env = ServiceEnv(self.cloud, RunningService(settings.model_copy(update={"store_url": store_url})))
        self.running.append(env)
        return env

    def stop(self, env: ServiceEnv) -> None:
        self.running.remove(env)
        env.service.close()
        env.close()

    def close(self) -> None:
        for env in reversed(self.running):
            self.stop(env)


@pytest.fixture
def instances(cloud: Cloud, tmp_path: Path) -> Iterator[Instances]:
    started = Instances(cloud, tmp_path)
    yield started
    started.close()


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kept' / 'service.db'}"
    return str(request.getfixturevalue("fresh_redis"))


def people(detail: dict[str, object]) -> list[str]:
    call = detail["call"]
    assert isinstance(call, dict)
    return [p["displayName"] for p in call["participants"] if not p["isApp"]]


def test_a_restarted_service_carries_on_with_the_call_it_answered(instances: Instances, store_url: str) -> None:
    first = instances.start(store_url)
    first.subscribe()
    key = first.answered()
    first.wait_for(key, lambda d: people(d) == [CALLER, "Art Anderson"], "Art Anderson to join")
    port = urlsplit(first.url).port
    assert port is not None

    instances.stop(first)
    second = instances.start(store_url, port=port)

    assert second.url == first.url
    detail = second.call(key)
    assert detail["call"]["state"] == "connected"
    assert people(detail) == [CALLER, "Art Anderson"]
    assert [c["callKey"] for c in second.calls()] == [key]

    removed = second.cloud.ok(second.api.delete(f"/calls/{key}/participants/Art Anderson", params={"wait": True}))
    assert removed.json()["outcome"]["explanation"] == "Art Anderson was removed"
    after = second.wait_for(
        key,
        lambda d: people(d) == [CALLER] and f"participants: {CALLER}" in [e["summary"] for e in d["timeline"]][-3:],
        "ParticipantsUpdated without Art Anderson",
    )
    assert [(o["operation"], o["explanation"]) for o in after["call"]["outcomes"]] == [
        ("add", "Art Anderson joined"),
        ("remove", "Art Anderson was removed"),
    ]
    timeline = [entry["summary"] for entry in after["timeline"]]
    removed_at = timeline.index("RemoveParticipantSucceeded: Art Anderson was removed")
    assert "participants: +14255550123" in timeline[removed_at:]
    assert eventually(lambda: not second.cloud.teams_client(ART_ANDERSON_ID).get("activeCall"), what="Art to leave")

    added = second.cloud.ok(second.api.post(f"/calls/{key}/participants", json={"user": "Megan Bowen", "wait": True}))
    assert added.json()["outcome"]["explanation"] == "Megan Bowen declined (603)"
    server_call_id = detail["call"]["serverCallId"]
    second.cloud.ok(second.cloud.control.post(f"/pstn/calls/{server_call_id}:hangUp", json={}))
    ended = second.wait_for(key, lambda d: d["call"]["state"] == "ended", "the call to end after the caller hangs up")
    assert ended["call"]["endedAt"] is not None
    assert second.calls() == []
    audit = second.cloud.ok(second.api.get("/audit")).json()["value"]
    assert [a["action"] for a in audit] == ["add", "remove"]


def test_an_event_sent_while_the_service_was_down_is_handled_when_acs_retries(
    instances: Instances, store_url: str
) -> None:
    """Art hangs up during the restart: ACS's first delivery fails, its retry (0.5 s later) reaches the new process."""
    first = instances.start(store_url)
    first.subscribe()
    key = first.answered()
    first.wait_for(key, lambda d: people(d) == [CALLER, "Art Anderson"], "Art Anderson to join")
    connection = first.call(key)["call"]["callConnectionId"]
    port = urlsplit(first.url).port
    assert port is not None

    def roster_deliveries() -> list[tuple[int, int | None]]:
        return [
            (entry["detail"]["attempt"], entry["detail"]["status"])
            for entry in first.cloud.journal(kind="callback", callConnectionId=connection)
            if entry["summary"].startswith("ParticipantsUpdated")
        ]

    instances.stop(first)
    delivered = len(roster_deliveries())
    first.cloud.ok(first.cloud.control.post(f"/teams/users/{ART_ANDERSON_ID}/client:hangUp", json={}))
    failed = eventually(lambda: roster_deliveries()[delivered:], what="ACS to try the stopped service")
    assert failed == [(1, None)], "the first delivery should have found nobody listening"
    second = instances.start(store_url, port=port)

    after = second.wait_for(key, lambda d: people(d) == [CALLER], "the roster without Art Anderson", timeout=10)
    assert after["call"]["state"] == "connected"
    retried = eventually(lambda: roster_deliveries()[delivered:][-1][1], what="the retry to be journaled")
    assert retried == 200
    assert "participants: +14255550123" in [entry["summary"] for entry in after["timeline"]]
