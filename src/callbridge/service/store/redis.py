"""The shared store for several replicas: Redis, with optimistic transactions and pub/sub."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from callbridge.service.models import AuditEntry, CallRecord, TimelineEntry
from callbridge.service.store import DAY, CallNotFound, Store, StoreError

T = TypeVar("T")

PREFIX = "callbridge:"
MAX_CONFLICT_RETRIES = 50
AUDIT_KEPT = 10_000


class RedisStore(Store):
    """Calls as JSON values, an index by start time and connection id, claims with SET NX."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    @classmethod
    async def open(cls, url: str) -> RedisStore:
        client = aioredis.Redis.from_url(url, decode_responses=True)
        try:
            await client.ping()
        except RedisError as exc:
            await client.aclose()
            raise StoreError(f"cannot reach Redis at {url}: {exc}") from None
        return cls(client)

    @staticmethod
    def _call(key: str) -> str:
        return f"{PREFIX}call:{key}"

    async def claim(self, key: str, ttl_seconds: int = DAY) -> bool:
        return bool(await self._redis.set(f"{PREFIX}claim:{key}", "1", nx=True, ex=ttl_seconds))

    async def create_call(self, record: CallRecord) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._call(record.call_key), record.model_dump_json())
            pipe.zadd(f"{PREFIX}calls", {record.call_key: record.started_at.timestamp()})
            if record.active:
                pipe.sadd(f"{PREFIX}active", record.call_key)
            if record.call_connection_id:
                pipe.set(f"{PREFIX}connection:{record.call_connection_id}", record.call_key)
            await pipe.execute()

    async def get_call(self, call_key: str) -> CallRecord | None:
        body = await self._redis.get(self._call(call_key))
        return CallRecord.model_validate_json(body) if body else None

    async def find_call(self, call_connection_id: str) -> CallRecord | None:
        key = await self._redis.get(f"{PREFIX}connection:{call_connection_id}")
        return await self.get_call(str(key)) if key else None

    async def update_call(self, call_key: str, change: Callable[[CallRecord], T]) -> tuple[CallRecord, T]:
        name = self._call(call_key)
        for _ in range(MAX_CONFLICT_RETRIES):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(name)
                    body = await pipe.get(name)
                    if body is None:
                        raise CallNotFound(f"no call {call_key!r}")
                    record = CallRecord.model_validate_json(body)
                    result = change(record)
                    record.version += 1
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(name, record.model_dump_json())
                    if record.active:
                        pipe.sadd(f"{PREFIX}active", call_key)
                    else:
                        pipe.srem(f"{PREFIX}active", call_key)
                    if record.call_connection_id:
                        pipe.set(f"{PREFIX}connection:{record.call_connection_id}", call_key)
                    await pipe.execute()
                    return record, result
                except WatchError:
                    continue
        raise StoreError(f"call {call_key} kept changing under {MAX_CONFLICT_RETRIES} attempts to update it")

    async def list_calls(self, active_only: bool = False, limit: int = 100) -> list[CallRecord]:
        if active_only:
            found: Any = await self._redis.smembers(f"{PREFIX}active")
        else:
            found = await self._redis.zrevrange(f"{PREFIX}calls", 0, limit - 1)
        keys = [str(k) for k in found]
        bodies = await self._redis.mget([self._call(k) for k in keys]) if keys else []
        records = [CallRecord.model_validate_json(b) for b in bodies if b]
        records.sort(key=lambda r: r.started_at, reverse=True)
        return records[:limit]

    async def append_timeline(self, call_key: str, entry: TimelineEntry) -> None:
        await self._redis.rpush(f"{PREFIX}timeline:{call_key}", entry.model_dump_json())

    async def timeline(self, call_key: str) -> list[TimelineEntry]:
        items = await self._redis.lrange(f"{PREFIX}timeline:{call_key}", 0, -1)
        return [TimelineEntry.model_validate_json(item) for item in items]

    async def audit(self, entry: AuditEntry) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(f"{PREFIX}audit", entry.model_dump_json())
            pipe.ltrim(f"{PREFIX}audit", 0, AUDIT_KEPT - 1)
            await pipe.execute()

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        items = await self._redis.lrange(f"{PREFIX}audit", 0, limit - 1)
        return [AuditEntry.model_validate_json(item) for item in items]

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(f"{PREFIX}{channel}", json.dumps(message))

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(f"{PREFIX}{channel}")

        async def messages() -> AsyncIterator[dict[str, Any]]:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self._redis.aclose()
