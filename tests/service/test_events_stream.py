"""The operator API's change stream (GET /api/events) stays open through quiet spells: heartbeats, then the
next change still arrives on the same connection."""

from __future__ import annotations

import pytest

from callbridge.service import api
from tests.support.service import ServiceEnv


def test_the_change_stream_outlives_its_heartbeats(service: ServiceEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "HEARTBEAT_SECONDS", 0.05)
    with service.api.stream("GET", "/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "retry: 1000"
        heartbeats = 0
        while heartbeats < 3:
            heartbeats += next(lines) == ": keep-alive"

        service.dial()

        assert "event: change" in (next(lines) for _ in range(1000))
