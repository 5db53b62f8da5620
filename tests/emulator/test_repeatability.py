"""Repeatable requests replay their first response within the window and are rejected when malformed."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from callbridge.emulator.acs.repeatability import (
    RepeatabilityError,
    RepeatabilityStore,
    StoredResponse,
)
from callbridge.emulator.clock import VirtualClock

REQUEST_ID = "9d087a84-0803-4f3a-9ae0-f467fbfea842"
START = 1_795_732_701.0
FIRST_SENT = "Thu, 26 Nov 2026 22:38:21 GMT"
FINGERPRINT = "POST /calling/callConnections/cc1/participants:add sha256=abc"
ADDED = StoredResponse(
    status=202,
    body=b'{"invitationId": "inv-1"}',
    headers=(("content-type", "application/json; charset=utf-8"), ("repeatability-result", "accepted")),
)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def store(clock: VirtualClock) -> RepeatabilityStore:
    return RepeatabilityStore(clock)


def rejection(
    store: RepeatabilityStore, request_id: str | None, first_sent: str | None, fingerprint: str = FINGERPRINT
) -> RepeatabilityError:
    with pytest.raises(RepeatabilityError) as caught:
        store.begin(request_id, first_sent, fingerprint)
    return caught.value


def test_request_without_headers_is_not_tracked(store: RepeatabilityStore) -> None:
    assert store.begin(None, None, FINGERPRINT) is None
    assert store.begin(None, None, FINGERPRINT) is None


def test_completed_request_is_replayed(store: RepeatabilityStore) -> None:
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) is None
    store.complete(REQUEST_ID, ADDED)
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) == ADDED
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) == ADDED


def test_client_error_is_replayed(store: RepeatabilityStore) -> None:
    not_found = StoredResponse(404, b'{"error": {"code": "8522", "message": "Call not found."}}', ())
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, not_found)
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) == not_found


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_not_replayed_so_a_retry_executes_again(store: RepeatabilityStore, status: int) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, StoredResponse(status, b"", ()))
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) is None
    store.complete(REQUEST_ID, ADDED)
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) == ADDED


def test_abandoned_request_executes_again(store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.abandon(REQUEST_ID)
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) is None


def test_retry_while_in_progress_is_a_conflict(store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    error = rejection(store, REQUEST_ID, FIRST_SENT)
    assert (error.status, error.code) == (409, "RepeatabilityRequestInProgress")
    assert "still being processed" in error.message


def test_same_id_for_a_different_request_is_rejected(store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, ADDED)
    error = rejection(store, REQUEST_ID, FIRST_SENT, "POST /calling/callConnections/cc1/participants:add sha256=def")
    assert (error.status, error.code) == (400, "RepeatabilityRequestMismatch")
    assert REQUEST_ID in error.message


def test_same_id_with_a_different_first_sent_is_rejected(store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, ADDED)
    error = rejection(store, REQUEST_ID, "Thu, 26 Nov 2026 22:38:22 GMT")
    assert (error.status, error.code) == (400, "RepeatabilityRequestMismatch")


def test_ids_are_independent(store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, ADDED)
    other = "0b4c8e0e-7d9a-4f1e-8a55-2f6b1f7f3a10"
    assert store.begin(other, FIRST_SENT, "DELETE /calling/callConnections/cc1") is None


@pytest.mark.parametrize(
    ("request_id", "first_sent", "named"),
    [
        (REQUEST_ID, None, "Repeatability-First-Sent is missing"),
        (None, FIRST_SENT, "Repeatability-Request-ID is missing"),
        ("request-1", FIRST_SENT, "'request-1' is not a UUID"),
        ("", FIRST_SENT, "'' is not a UUID"),
        (REQUEST_ID, "yesterday", "'yesterday' is not an RFC 1123 date"),
        (REQUEST_ID, "", "'' is not an RFC 1123 date"),
        (REQUEST_ID, "Thu, 99 Nov 2026 22:38:21 GMT", "is not an RFC 1123 date"),
    ],
)
def test_malformed_headers_are_rejected(
    store: RepeatabilityStore, request_id: str | None, first_sent: str | None, named: str
) -> None:
    error = rejection(store, request_id, first_sent)
    assert (error.status, error.code) == (400, "InvalidRepeatabilityHeaders")
    assert named in error.message


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_first_sent_outside_the_window_is_rejected(store: RepeatabilityStore, offset: float) -> None:
    error = rejection(store, REQUEST_ID, formatdate(START + offset, usegmt=True))
    assert (error.status, error.code) == (412, "RepeatabilityFirstSentOutOfWindow")
    assert "within 300 seconds" in error.message


@pytest.mark.parametrize("offset", [-300, 300])
def test_first_sent_at_the_window_edge_is_accepted(store: RepeatabilityStore, offset: float) -> None:
    assert store.begin(REQUEST_ID, formatdate(START + offset, usegmt=True), FINGERPRINT) is None


def test_replay_stops_when_the_window_closes(clock: VirtualClock, store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, ADDED)
    clock.advance(299)
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) == ADDED
    clock.advance(2)
    assert rejection(store, REQUEST_ID, FIRST_SENT).status == 412


def test_window_is_configurable(clock: VirtualClock) -> None:
    store = RepeatabilityStore(clock, window_seconds=60)
    error = rejection(store, REQUEST_ID, formatdate(START - 61, usegmt=True))
    assert error.status == 412
    assert "within 60 seconds" in error.message


def test_expired_records_are_purged(clock: VirtualClock, store: RepeatabilityStore) -> None:
    store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT)
    store.complete(REQUEST_ID, ADDED)
    clock.advance(400)
    fresh_first_sent = formatdate(clock.time(), usegmt=True)
    assert store.begin(REQUEST_ID, fresh_first_sent, "a later, different request") is None
    assert len(store) == 1


def test_memory_stays_bounded_over_many_windows(clock: VirtualClock, store: RepeatabilityStore) -> None:
    for index in range(3_000):
        request_id = f"00000000-0000-4000-8000-{index:012d}"
        store.begin(request_id, formatdate(clock.time(), usegmt=True), FINGERPRINT)
        store.complete(request_id, ADDED)
        clock.advance(1)
    assert len(store) <= 302


def test_completing_an_unknown_request_is_harmless(store: RepeatabilityStore) -> None:
    store.complete(REQUEST_ID, ADDED)
    store.abandon(REQUEST_ID)
    assert store.begin(REQUEST_ID, FIRST_SENT, FINGERPRINT) is None
