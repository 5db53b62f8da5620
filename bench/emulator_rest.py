"""REST throughput and latency at 50 concurrent answered calls, against a bare endpoint on the same stack.

List participants runs in alternating rounds against the emulator and the bare baseline (a trivial Starlette
route on the same uvicorn/TLS stack, answering the same canned body to the same signed requests, in its own
process like the emulator); the ratio is the median of the per-round throughput ratios. Server CPU time per
request is reported too: on a small machine the load generator or the network path may bound both servers'
throughput, and the CPU ratio says what the ratio would be if each server were the bottleneck. The
add-then-remove cycle has no baseline: it is reported in cycles per second with the latency of each step.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.acs import CallAutomation
from bench.emulator import Cycle, EmulatorUnderTest
from bench.load import Run, closed_loop
from bench.report import Benchmark, Section, Target
from bench.servers import ServerProcess
from bench.stats import brief, median, milliseconds

CALLS = 50
ROUNDS = 3
ROUND_SECONDS = 2.5
WARM_UP_SECONDS = 1.0
IDLE_SECONDS = 1.0
CYCLE_SECONDS = 4.0
MIN_RATIO = 0.5


def _listing(client: CallAutomation, call_connection_id: str) -> Callable[[], Awaitable[float]]:
    async def list_once() -> float:
        started = time.perf_counter()
        await client.list_participants(call_connection_id)
        return time.perf_counter() - started

    return list_once


def _digest(runs: list[Run[float]], idle: Run[float]) -> dict[str, Any]:
    return {
        "throughput_rps": round(median([run.throughput for run in runs]), 1),
        "throughput_rps_per_round": [round(run.throughput, 1) for run in runs],
        "latency_ms": milliseconds([sample for run in runs for sample in run.samples]),
        "idle_latency_ms": milliseconds(idle.samples),
        "server_cpu_ms_per_request": round(median([run.server_cpu_ms_per_operation for run in runs]), 3),
        "client_cpu_ms_per_request": round(median([run.client_cpu_ms_per_operation for run in runs]), 3),
    }


async def list_participants(emulator: EmulatorUnderTest, calls: list[str], workdir: Path) -> dict[str, Any]:
    """Emulator and bare baseline in alternating rounds, each worker listing its own call on its own connection;
    before that, one worker alone on each for the latency of an unloaded server."""
    clients = emulator.clients(len(calls))
    canned = workdir / "participants.json"
    canned.write_bytes((await clients[0].list_participants(calls[0])).content)
    runs: dict[str, list[Run[float]]] = {"emulator": [], "bare": []}
    idle: dict[str, Run[float]] = {}
    with ServerProcess.bare(*emulator.server_certificate, canned) as bare:
        bare_clients = emulator.clients(len(calls), bare.urls["https"])
        targets = {
            "emulator": ([_listing(c, call) for c, call in zip(clients, calls, strict=True)], emulator.process),
            "bare": ([_listing(c, call) for c, call in zip(bare_clients, calls, strict=True)], bare),
        }
        for name, (operations, process) in targets.items():
            await closed_loop(operations, WARM_UP_SECONDS, process)
            idle[name] = await closed_loop(operations[:1], IDLE_SECONDS, process)
        for round_number in range(ROUNDS):
            for name in ("bare", "emulator") if round_number % 2 == 0 else ("emulator", "bare"):
                operations, process = targets[name]
                runs[name].append(await closed_loop(operations, ROUND_SECONDS, process))
    pairs = list(zip(runs["emulator"], runs["bare"], strict=True))
    ratios = [emulated.throughput / baseline.throughput for emulated, baseline in pairs]
    cpu_ratios = [
        baseline.server_cpu_ms_per_operation / emulated.server_cpu_ms_per_operation for emulated, baseline in pairs
    ]
    return {
        "calls": len(calls),
        "concurrency": len(calls),
        "rounds": ROUNDS,
        "seconds_per_round": ROUND_SECONDS,
        "emulator": _digest(runs["emulator"], idle["emulator"]),
        "bare": _digest(runs["bare"], idle["bare"]),
        "throughput_ratio": round(median(ratios), 3),
        "throughput_ratio_per_round": [round(ratio, 3) for ratio in ratios],
        "cpu_bound_throughput_ratio": round(median(cpu_ratios), 3),
    }


async def add_remove_cycles(emulator: EmulatorUnderTest, calls: list[str], users: list[str]) -> dict[str, Any]:
    """Every call adds its own Teams user and removes them again, back to back, on its own connection."""
    clients = emulator.clients(len(calls))
    cycling = [
        partial(emulator.cycle, client, call, user) for client, call, user in zip(clients, calls, users, strict=True)
    ]
    await closed_loop(cycling, WARM_UP_SECONDS, emulator.process)
    since = len(emulator.receiver.arrivals)
    run = await closed_loop(cycling, CYCLE_SECONDS, emulator.process)
    cycles: list[Cycle] = run.samples
    return {
        "calls": len(calls),
        "concurrency": len(calls),
        "seconds": CYCLE_SECONDS,
        "cycles": len(cycles),
        "cycles_per_second": round(run.throughput, 1),
        "add_request_ms": milliseconds([cycle.add for cycle in cycles]),
        "add_to_succeeded_ms": milliseconds([cycle.added for cycle in cycles]),
        "remove_request_ms": milliseconds([cycle.remove for cycle in cycles]),
        "cycle_ms": milliseconds([cycle.total for cycle in cycles]),
        "server_cpu_ms_per_cycle": round(run.server_cpu_ms_per_operation, 3),
        "client_cpu_ms_per_cycle": round(run.client_cpu_ms_per_operation, 3),
        "callback_latency_under_load_ms": milliseconds(emulator.receiver.latencies(since)),
    }


async def run(workdir: Path) -> Section:
    async with EmulatorUnderTest.running(workdir / "emulator") as emulator:
        users = await emulator.teams_users(CALLS)
        calls = await emulator.answered_calls(CALLS)
        listing = await list_participants(emulator, calls, workdir)
        cycling = await add_remove_cycles(emulator, calls, users)
    emulated, bare = listing["emulator"], listing["bare"]
    lines = [
        f"list participants   emulator {emulated['throughput_rps']:.0f} req/s ({brief(emulated['latency_ms'])})"
        f" | bare {bare['throughput_rps']:.0f} req/s ({brief(bare['latency_ms'])})",
        f"                    ratio {listing['throughput_ratio']:.2f}; by server CPU per request"
        f" {listing['cpu_bound_throughput_ratio']:.2f} ({emulated['server_cpu_ms_per_request']:.2f} vs"
        f" {bare['server_cpu_ms_per_request']:.2f} ms)",
        f"                    one request at a time: emulator {brief(emulated['idle_latency_ms'])}"
        f" | bare {brief(bare['idle_latency_ms'])}",
        f"add+remove cycle    {cycling['cycles_per_second']:.0f} cycles/s; cycle {brief(cycling['cycle_ms'])};"
        f" add {brief(cycling['add_request_ms'])}; remove {brief(cycling['remove_request_ms'])}",
        f"                    callbacks under this load {brief(cycling['callback_latency_under_load_ms'])}",
    ]
    target = Target(
        "list_participants_throughput_ratio",
        "list participants throughput vs the bare endpoint",
        MIN_RATIO,
        "x bare",
        listing["throughput_ratio"],
        higher_is_better=True,
    )
    return Section("rest", {"list_participants": listing, "add_remove_cycle": cycling}, lines, [target])


BENCHMARK = Benchmark("rest", "emulator", run)
