"""``GET /emulator/idle``: tests wait for the local cloud to have nothing left to do instead of sleeping."""

from __future__ import annotations

from tests.support.receiver import AppReceiver
from tests.support.scenario import Cloud


def attempts(cloud: Cloud) -> list[int]:
    """The attempts at delivering IncomingCall, in order (the journal also holds the subscription's handshake)."""
    entries = cloud.journal(kind="eventgrid")
    return [int(e["detail"]["attempt"]) for e in entries if str(e["detail"].get("eventType")).endswith("IncomingCall")]


def test_idle_answers_once_the_incoming_call_has_been_delivered(virtual_cloud: Cloud, app: AppReceiver) -> None:
    virtual_cloud.dial()

    virtual_cloud.idle()

    assert len(app.incoming_calls()) == 1, "idle must not answer while IncomingCall is still on its way"
    assert attempts(virtual_cloud) == [1]


def test_a_retry_waiting_for_its_timer_is_idle_and_runs_when_the_clock_moves(
    virtual_cloud: Cloud, app: AppReceiver
) -> None:
    app.eventgrid_statuses.extend([503])
    virtual_cloud.dial()

    virtual_cloud.idle()
    assert attempts(virtual_cloud) == [1], "the retry is not due yet"
    virtual_cloud.advance(60)
    virtual_cloud.idle()

    assert attempts(virtual_cloud) == [1, 2]
    first, second = app.incoming_calls()
    assert first["id"] == second["id"], "the refused delivery and its retry carry the same event"


def test_idle_refuses_a_timeout_that_is_not_a_number(virtual_cloud: Cloud) -> None:
    response = virtual_cloud.control.get("/idle", params={"timeoutSeconds": "soon"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
