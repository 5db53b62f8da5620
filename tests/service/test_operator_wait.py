"""An operator waiting on an add learns how it ended, also when someone cancels the ring meanwhile."""

from __future__ import annotations

import threading

from tests.support.scenario import eventually
from tests.support.service import ServiceEnv

ALEX = "Alex Wilber"  # lets it ring


def test_a_waiting_add_returns_when_the_ring_is_cancelled(service: ServiceEnv) -> None:
    key = service.answered()
    service.wait_for(key, lambda d: len(service.people(key)) == 2, "Art in the call")
    result: dict[str, object] = {}

    def add_and_wait() -> None:
        response = service.api.post(f"/calls/{key}/participants", json={"user": ALEX, "wait": True})
        result.update(response.json())

    waiter = threading.Thread(target=add_and_wait)
    waiter.start()
    eventually(lambda: ALEX in service.calls()[0]["ringing"], what="Alex to ring")

    cancelled = service.cloud.ok(service.api.post(f"/calls/{key}/invitations/{ALEX}/cancel"))
    waiter.join(20)

    assert cancelled.json()["target"] == ALEX
    assert not waiter.is_alive(), "the waiting add must end when its ring is cancelled, not after 60 s"
    outcome = result["outcome"]
    assert isinstance(outcome, dict)
    assert outcome["succeeded"] is False and outcome["explanation"] == f"stopped ringing {ALEX}"
