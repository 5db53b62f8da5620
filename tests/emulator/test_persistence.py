"""The data dir's files survive crashes: a write lands whole or not at all, and bad files are named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callbridge.emulator import persistence
from callbridge.emulator.persistence import StateFile, atomic_write


def test_interrupted_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")

    def crash(descriptor: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new" * 1000, 0o644)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["state.json"]


def test_write_sets_the_mode_and_replaces_the_content(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    atomic_write(target, b"one", 0o600)
    atomic_write(target, b"two", 0o600)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600


def test_state_round_trips_and_first_start_has_none(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json")
    assert state.load() is None
    state.save({"tenant": {"users": []}})
    assert state.load() == {"version": StateFile.VERSION, "tenant": {"users": []}}


def test_corrupt_state_is_an_error_that_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=str(path)):
        StateFile(path).load()


def test_state_from_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"version": 99}')
    with pytest.raises(ValueError, match="incompatible version"):
        StateFile(path).load()


def test_writer_lands_every_version_in_order_off_the_caller(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    writer = persistence.Writer(target)

    for version in range(50):
        writer.write(f'{{"v": {version}}}'.encode())
    writer.flush()

    assert target.read_text() == '{"v": 49}'
    writer.close()
