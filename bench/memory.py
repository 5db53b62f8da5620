"""Resident memory of the emulator process per active call, with 1,000 answered calls.

The emulator runs in its own process, so the load generator and the app's receiver cost it nothing. RSS is
read from /proc after a full garbage collection in that process, once warm calls are up (before) and once
1,000 more are (after); the difference over 1,000 is the cost of an active call, including what the journal
keeps about it. Hanging the calls up again shows how much of that the process keeps.
"""

from __future__ import annotations

from pathlib import Path

from bench.acs import CallAutomation
from bench.emulator import SETUP_WORKERS, EmulatorUnderTest
from bench.load import spread
from bench.report import Benchmark, Section, Target

CALLS = 1000
WARM_CALLS = 20
MAX_BYTES_PER_CALL = 50_000  # 50 KB


async def _settled_rss(emulator: EmulatorUnderTest) -> int:
    await emulator.quiet()
    emulator.process.collect_garbage()
    return emulator.process.rss()


async def run(workdir: Path) -> Section:
    async with EmulatorUnderTest.running(workdir / "emulator") as emulator:
        idle = await _settled_rss(emulator)
        await emulator.answered_calls(WARM_CALLS)
        before = await _settled_rss(emulator)
        calls = await emulator.answered_calls(CALLS, first=WARM_CALLS)
        after = await _settled_rss(emulator)
        active = len((await emulator.call_control("GET", "/calls"))["value"])
        await spread(calls, emulator.clients(SETUP_WORKERS), CallAutomation.hang_up)
        after_hang_up = await _settled_rss(emulator)
        journal = len((await emulator.call_control("GET", "/journal"))["value"])
    per_call = (after - before) / CALLS
    data = {
        "calls": CALLS,
        "warm_calls": WARM_CALLS,
        "active_calls_after": active,
        "rss_idle_bytes": idle,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "bytes_per_call": round(per_call),
        "rss_after_hang_up_bytes": after_hang_up,
        "bytes_per_call_after_hang_up": round((after_hang_up - before) / CALLS),
        "journal_entries_at_end": journal,
    }
    lines = [
        f"memory              {CALLS} answered calls: +{(after - before) / 1e6:.1f} MB RSS,"
        f" {per_call / 1000:.1f} KB per call; {(after_hang_up - before) / CALLS / 1000:.1f} KB per call"
        " still held after hanging up",
    ]
    target = Target(
        "memory_bytes_per_call", "resident memory per active call", MAX_BYTES_PER_CALL, "bytes", per_call, False
    )
    return Section("memory", data, lines, [target])


BENCHMARK = Benchmark("memory", "emulator", run)
