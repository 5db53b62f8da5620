"""The default store: one SQLite file in the data dir (WAL mode), for a single service process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from callbridge.service.models import AuditEntry, CallRecord, TimelineEntry
from callbridge.service.store import DAY, CallNotFound, Store

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_key TEXT PRIMARY KEY,
    call_connection_id TEXT,
    active INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_by_connection ON calls (call_connection_id);
CREATE INDEX IF NOT EXISTS calls_by_start ON calls (started_at);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS timeline (id INTEGER PRIMARY KEY AUTOINCREMENT, call_key TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS timeline_by_call ON timeline (call_key, id);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
"""


class SqliteStore(Store):
    """Serialised through one connection; notifications stay in this process."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    @classmethod
    async def open(cls, path: Path) -> SqliteStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await db.executescript(SCHEMA)
        return cls(db)

    async def claim(self, key: str, ttl_seconds: int = DAY) -> bool:
        now = time.time()
        async with self._lock, self._transaction():
            await self._db.execute("DELETE FROM claims WHERE key = ? AND expires < ?", (key, now))
            cursor = await self._db.execute(
                "INSERT OR IGNORE INTO claims (key, expires) VALUES (?, ?)", (key, now + ttl_seconds)
            )
            return cursor.rowcount == 1

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """A write transaction that holds SQLite's write lock from the start, so a read-modify-write done
        by another connection (another process on the same file) cannot interleave."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    async def create_call(self, record: CallRecord) -> None:
        async with self._lock, self._transaction():
            await self._db.execute(
                "INSERT INTO calls (call_key, call_connection_id, active, started_at, body) VALUES (?, ?, ?, ?, ?)",
                (record.call_key, record.call_connection_id, int(record.active), record.started_at.isoformat(),
                 record.model_dump_json()),
            )  # fmt: skip

    async def get_call(self, call_key: str) -> CallRecord | None:
        cursor = await self._db.execute("SELECT body FROM calls WHERE call_key = ?", (call_key,))
        row = await cursor.fetchone()
        return CallRecord.model_validate_json(row[0]) if row else None

    async def find_call(self, call_connection_id: str) -> CallRecord | None:
        cursor = await self._db.execute("SELECT body FROM calls WHERE call_connection_id = ?", (call_connection_id,))
        row = await cursor.fetchone()
        return CallRecord.model_validate_json(row[0]) if row else None

    async def update_call(self, call_key: str, change: Callable[[CallRecord], T]) -> tuple[CallRecord, T]:
        async with self._lock, self._transaction():
            record = await self.get_call(call_key)
            if record is None:
                raise CallNotFound(f"no call {call_key!r}")
            result = change(record)
            record.version += 1
            await self._db.execute(
                "UPDATE calls SET call_connection_id = ?, active = ?, body = ? WHERE call_key = ?",
                (record.call_connection_id, int(record.active), record.model_dump_json(), call_key),
            )
            return record, result

    async def list_calls(self, active_only: bool = False, limit: int = 100) -> list[CallRecord]:
        query = "SELECT body FROM calls" + (" WHERE active = 1" if active_only else "")
        cursor = await self._db.execute(query + " ORDER BY started_at DESC LIMIT ?", (limit,))
        return [CallRecord.model_validate_json(row[0]) for row in await cursor.fetchall()]

    async def append_timeline(self, call_key: str, entry: TimelineEntry) -> None:
        async with self._lock:
            await self._db.execute(
                "INSERT INTO timeline (call_key, body) VALUES (?, ?)", (call_key, entry.model_dump_json())
            )

    async def timeline(self, call_key: str) -> list[TimelineEntry]:
        cursor = await self._db.execute("SELECT body FROM timeline WHERE call_key = ? ORDER BY id", (call_key,))
        return [TimelineEntry.model_validate_json(row[0]) for row in await cursor.fetchall()]

    async def audit(self, entry: AuditEntry) -> None:
        async with self._lock:
            await self._db.execute("INSERT INTO audit (body) VALUES (?)", (entry.model_dump_json(),))

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        cursor = await self._db.execute("SELECT body FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [AuditEntry.model_validate_json(row[0]) for row in await cursor.fetchall()]

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for queue in self._listeners.get(channel, set()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            listeners = self._listeners.get(channel, set())
            listeners.discard(queue)
            if not listeners:
                self._listeners.pop(channel, None)

    async def close(self) -> None:
        await self._db.close()
