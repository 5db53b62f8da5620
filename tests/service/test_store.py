"""One conformance suite for both stores: SQLite (a file in tmp_path) and Redis (a real, freshly emptied server).

Every test opens stores through ``open_store`` exactly as the service does; "several instances" means several
connections to the same file or the same Redis, as a restarted process or a second replica would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from callbridge.service.models import AuditEntry, CallRecord, CallState, Outcome, TimelineEntry
from callbridge.service.store import CallNotFound, Store, open_store

pytestmark = pytest.mark.anyio

OpenStore = Callable[[], Awaitable[Store]]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the store lives; every instance opened on this URL shares the same data."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'service.db'}"
    return str(request.getfixturevalue("fresh_redis"))


@pytest.fixture
async def stores(store_url: str) -> AsyncIterator[OpenStore]:
    """Opens store instances on ``store_url``; each is closed after the test."""
    async with AsyncExitStack() as stack:

        async def open_one() -> Store:
            store = await open_store(store_url)
            stack.push_async_callback(store.close)
            return store

        yield open_one


def call(key: str, started: datetime = T0, connection: str | None = None, **fields: Any) -> CallRecord:
    return CallRecord(
        call_key=key,
        secret=f"secret-{key}",
        call_connection_id=connection,
        caller="+14255550123",
        called="+18005550100",
        started_at=started,
        **fields,
    )


async def next_message(messages: AsyncIterator[dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        return await anext(messages)


# ---------------------------------------------------------------------- claims


async def test_concurrent_claims_of_one_key_let_exactly_one_caller_win(stores: OpenStore) -> None:
    instances = [await stores() for _ in range(3)]

    results = await asyncio.gather(*(instances[i % 3].claim("callback:event-1") for i in range(60)))

    assert results.count(True) == 1, results
    assert await instances[1].claim("callback:event-2") is True, "a different key is still free"
    assert await instances[2].claim("callback:event-1") is False


async def test_a_claim_expires_after_its_ttl(stores: OpenStore) -> None:
    store = await stores()
    assert await store.claim("incoming:abc", ttl_seconds=1) is True
    assert await store.claim("incoming:abc", ttl_seconds=1) is False
    assert await store.claim("incoming:long") is True

    await anyio.sleep(1.3)

    assert await store.claim("incoming:abc", ttl_seconds=1) is True, "the claim should have expired after 1 s"
    assert await store.claim("incoming:abc", ttl_seconds=1) is False
    assert await store.claim("incoming:long") is False, "a claim with the default TTL (a day) is still held"


# ---------------------------------------------------------------------- calls


async def test_create_get_and_find_by_call_connection_id(stores: OpenStore) -> None:
    store, other = await stores(), await stores()
    record = call("k1", connection="conn-1", names={"4:+14255550123": "Caller"})
    await store.create_call(record)
    await store.create_call(call("k2"))

    got = await other.get_call("k1")
    assert got is not None
    assert got.model_dump() == record.model_dump()
    found = await other.find_call("conn-1")
    assert found is not None and found.call_key == "k1"
    assert await other.get_call("nope") is None
    assert await other.find_call("conn-unknown") is None


async def test_a_connection_id_learned_later_makes_the_call_findable(stores: OpenStore) -> None:
    store = await stores()
    await store.create_call(call("k1"))
    assert await store.find_call("conn-late") is None

    def learn(record: CallRecord) -> str:
        record.call_connection_id = "conn-late"
        return "learned"

    updated, result = await store.update_call("k1", learn)

    assert result == "learned"
    assert updated.version == 1
    found = await (await stores()).find_call("conn-late")
    assert found is not None and found.call_key == "k1" and found.version == 1


async def test_update_of_an_unknown_call_raises_call_not_found_without_running_the_change(stores: OpenStore) -> None:
    store = await stores()
    ran: list[CallRecord] = []

    with pytest.raises(CallNotFound):
        await store.update_call("missing", ran.append)

    assert ran == []
    assert await store.get_call("missing") is None


async def test_concurrent_updates_from_several_instances_lose_nothing(stores: OpenStore) -> None:
    """50 read-modify-write increments racing through three connections: each sees a distinct value."""
    instances = [await stores() for _ in range(3)]
    await instances[0].create_call(call("k1"))

    def increment(record: CallRecord) -> int:
        record.sequence_number += 1
        record.outcomes.append(
            Outcome(
                operation_context=f"op-{record.sequence_number}",
                operation="add",
                target="Art Anderson",
                succeeded=True,
                explanation="joined",
            )
        )
        return record.sequence_number

    results = await asyncio.gather(*(instances[i % 3].update_call("k1", increment) for i in range(50)))

    seen = sorted(result for _, result in results)
    assert seen == list(range(50)), f"lost or repeated updates: {seen}"
    final = await instances[1].get_call("k1")
    assert final is not None
    assert final.sequence_number == 49
    assert final.version == 50
    assert len(final.outcomes) == 50


async def test_concurrent_updates_through_one_instance_lose_nothing(stores: OpenStore) -> None:
    store = await stores()
    await store.create_call(call("k1"))

    def bump(record: CallRecord) -> int:
        record.sequence_number += 1
        return record.sequence_number

    await asyncio.gather(*(store.update_call("k1", bump) for _ in range(50)))

    final = await store.get_call("k1")
    assert final is not None and (final.sequence_number, final.version) == (49, 50)


async def test_list_calls_newest_first_with_active_filter_and_limit(stores: OpenStore) -> None:
    store = await stores()
    for i in range(6):
        await store.create_call(call(f"k{i}", started=T0 + timedelta(minutes=i)))
    await store.create_call(call("old-ended", started=T0 - timedelta(hours=1), state=CallState.ENDED))

    def end(record: CallRecord) -> None:
        record.state = CallState.ENDED

    await store.update_call("k4", end)
    await store.update_call("k1", end)

    everything = [r.call_key for r in await store.list_calls()]
    assert everything == ["k5", "k4", "k3", "k2", "k1", "k0", "old-ended"]
    active = [r.call_key for r in await store.list_calls(active_only=True)]
    assert active == ["k5", "k3", "k2", "k0"]
    assert [r.call_key for r in await store.list_calls(limit=3)] == ["k5", "k4", "k3"]
    assert [r.call_key for r in await store.list_calls(active_only=True, limit=2)] == ["k5", "k3"]

    def reconnect(record: CallRecord) -> None:
        record.state = CallState.CONNECTED

    await store.update_call("k4", reconnect)
    assert [r.call_key for r in await (await stores()).list_calls(active_only=True)] == ["k5", "k4", "k3", "k2", "k0"]


# ---------------------------------------------------------------------- timeline and audit


async def test_timeline_reads_back_in_append_order_per_call(stores: OpenStore) -> None:
    store = await stores()
    await store.create_call(call("a"))
    await store.create_call(call("b"))
    summaries = [f"step {i}" for i in range(12)]
    for i, summary in enumerate(summaries):
        await store.append_timeline("a" if i % 3 else "b", TimelineEntry(kind="event", summary=summary))

    timeline_a = await (await stores()).timeline("a")

    assert [t.summary for t in timeline_a] == [s for i, s in enumerate(summaries) if i % 3]
    assert [t.summary for t in await store.timeline("b")] == ["step 0", "step 3", "step 6", "step 9"]
    assert await store.timeline("none") == []


async def test_audit_log_is_newest_first_and_limited(stores: OpenStore) -> None:
    store = await stores()
    for i in range(5):
        await store.audit(AuditEntry(actor="operator", action=f"action {i}", call_key="k1", result="requested"))

    log = await (await stores()).audit_log()

    assert [a.action for a in log] == ["action 4", "action 3", "action 2", "action 1", "action 0"]
    assert [a.action for a in await store.audit_log(limit=2)] == ["action 4", "action 3"]
    assert log[0].call_key == "k1" and log[0].result == "requested"


# ---------------------------------------------------------------------- notifications


async def test_publish_reaches_listeners_only_while_they_listen(stores: OpenStore) -> None:
    store = await stores()
    await store.publish("outcome:op-1", {"n": "before"})

    async with store.listen("outcome:op-1") as messages:
        await store.publish("outcome:op-2", {"n": "other channel"})
        await store.publish("outcome:op-1", {"n": "first"})
        await store.publish("outcome:op-1", {"n": "second"})
        assert await next_message(messages) == {"n": "first"}
        assert await next_message(messages) == {"n": "second"}

    await store.publish("outcome:op-1", {"n": "after"})

    async with store.listen("outcome:op-1") as messages:
        await store.publish("outcome:op-1", {"n": "marker"})
        assert await next_message(messages) == {"n": "marker"}, "a message published while nobody listened arrived"


async def test_every_listener_of_a_channel_gets_each_message(stores: OpenStore) -> None:
    store = await stores()
    async with store.listen("outcome:x") as first, store.listen("outcome:x") as second:
        await store.publish("outcome:x", {"outcome": {"succeeded": True}})
        assert await next_message(first) == {"outcome": {"succeeded": True}}
        assert await next_message(second) == {"outcome": {"succeeded": True}}


async def test_redis_publish_reaches_a_listener_on_another_replica(fresh_redis: str) -> None:
    listener, publisher = await open_store(fresh_redis), await open_store(fresh_redis)
    try:
        async with listener.listen("outcome:op-9") as messages:
            await publisher.publish("outcome:op-9", {"explanation": "Art Anderson joined"})
            assert await next_message(messages) == {"explanation": "Art Anderson joined"}
    finally:
        await listener.close()
        await publisher.close()


# ---------------------------------------------------------------------- persistence


async def test_a_reopened_store_has_everything(store_url: str) -> None:
    first = await open_store(store_url)
    try:
        await first.create_call(call("k1", connection="conn-1"))
        await first.update_call("k1", lambda r: setattr(r, "state", CallState.CONNECTED))
        await first.append_timeline("k1", TimelineEntry(kind="event", summary="call connected"))
        await first.audit(AuditEntry(actor="operator", action="add", call_key="k1", result="requested"))
        assert await first.claim("callback:e1") is True
    finally:
        await first.close()

    async with reopened(store_url) as second:
        record = await second.find_call("conn-1")
        assert record is not None
        assert (record.call_key, record.state, record.version) == ("k1", CallState.CONNECTED, 1)
        assert [r.call_key for r in await second.list_calls(active_only=True)] == ["k1"]
        assert [t.summary for t in await second.timeline("k1")] == ["call connected"]
        assert [a.action for a in await second.audit_log()] == ["add"]
        assert await second.claim("callback:e1") is False, "a claim must survive a restart"


@asynccontextmanager
async def reopened(url: str) -> AsyncIterator[Store]:
    store = await open_store(url)
    try:
        yield store
    finally:
        await store.close()
