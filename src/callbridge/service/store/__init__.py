"""The service's state behind one interface: SQLite for one process, Redis for several replicas."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from callbridge.service.models import AuditEntry, CallRecord, TimelineEntry

T = TypeVar("T")

DAY = 86_400


class StoreError(RuntimeError):
    """The store cannot do what was asked (unreachable, conflicting too often, unknown call)."""


class CallNotFound(StoreError):
    """No call with that key."""


class Store(ABC):
    """Calls, their timelines, the audit log, de-duplication claims and cross-replica notifications."""

    @abstractmethod
    async def claim(self, key: str, ttl_seconds: int = DAY) -> bool:
        """Atomically take ``key``; False when someone (any replica) took it before."""

    @abstractmethod
    async def create_call(self, record: CallRecord) -> None:
        """Store a new call."""

    @abstractmethod
    async def get_call(self, call_key: str) -> CallRecord | None:
        """A call by its key."""

    @abstractmethod
    async def find_call(self, call_connection_id: str) -> CallRecord | None:
        """A call by ACS call connection id."""

    @abstractmethod
    async def update_call(self, call_key: str, change: Callable[[CallRecord], T]) -> tuple[CallRecord, T]:
        """Apply ``change`` to the latest version atomically (retried on conflict); the new record and its result."""

    @abstractmethod
    async def list_calls(self, active_only: bool = False, limit: int = 100) -> list[CallRecord]:
        """Calls, newest first."""

    @abstractmethod
    async def append_timeline(self, call_key: str, entry: TimelineEntry) -> None:
        """Add to a call's history."""

    @abstractmethod
    async def timeline(self, call_key: str) -> list[TimelineEntry]:
        """A call's history in order."""

    @abstractmethod
    async def audit(self, entry: AuditEntry) -> None:
        """Record an operator action."""

    @abstractmethod
    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        """Operator actions, newest first."""

    @abstractmethod
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Tell every replica listening on ``channel``."""

    @abstractmethod
    def listen(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]:
        """Messages published on ``channel`` from now on, while the context is open."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""


async def open_store(url: str) -> Store:
    """``sqlite:///path/to/file.db`` or ``redis://host:port/db``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from callbridge.service.store.sqlite import SqliteStore

        path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else Path(parsed.path)
        return await SqliteStore.open(path)
    if parsed.scheme in ("redis", "rediss"):
        from callbridge.service.store.redis import RedisStore

        return await RedisStore.open(url)
    raise StoreError(f"unsupported store URL {url!r}; use sqlite:///path.db or redis://host:port/0")
