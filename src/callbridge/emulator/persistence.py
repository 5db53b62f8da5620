"""Crash-safe files: a write either lands whole or leaves the previous version in place."""

from __future__ import annotations

import json
import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class StateFile:
    """The local cloud's durable state (tenant, numbers, subscriptions) as one JSON document."""

    VERSION = 1

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None on first start; a corrupt file is an error that names the file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            state = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.path} is not valid JSON ({exc}); move it away to start fresh") from None
        if not isinstance(state, dict) or state.get("version") != self.VERSION:
            raise ValueError(f"{self.path} was written by an incompatible version; move it away to start fresh")
        return state

    def save(self, state: dict[str, Any]) -> None:
        atomic_write(self.path, self.encode(state))

    def encode(self, state: dict[str, Any]) -> bytes:
        """The file's bytes: compact JSON (a 10,000-user tenant is a few megabytes)."""
        return json.dumps({"version": self.VERSION, **state}, separators=(",", ":")).encode()


class Writer:
    """Writes a file's successive versions on one background thread, in order, so the event loop never
    waits for the disk; ``flush`` waits for the last one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-writer")
        self._last: Future[None] | None = None

    def write(self, data: bytes) -> None:
        self._last = self._pool.submit(atomic_write, self.path, data)

    def flush(self) -> None:
        """Wait for the pending write; raises what the write raised."""
        if self._last is not None:
            self._last.result()

    def close(self) -> None:
        self.flush()
        self._pool.shutdown(wait=True)
