"""Callback latency: from the emulator changing a call's state to the callback being in the app's hands.

The emulator stamps each CloudEvent's ``time`` from its clock when the state changes; the receiver notes
``time.time()`` once it has read the request. Both read the same host clock, so the difference is the whole
path: queueing, JWT signing, the HTTP POST and the receiver's own parsing. The load is open-loop and
moderate, add-then-remove cycles started at a steady rate round-robin over a few calls, so that the numbers
describe the path rather than a queue (``rest`` reports the latency under saturation).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

from bench.acs import CallAutomation
from bench.emulator import EmulatorUnderTest
from bench.report import Benchmark, Section, Target
from bench.stats import brief, milliseconds

CALLS = 10
CYCLES_PER_CALL = 20
INTERVAL_SECONDS = 0.02  # a cycle starts every 20 ms: 50 cycles, 200 callbacks a second
MAX_P99_MS = 20.0


async def _paced(emulator: EmulatorUnderTest, client: CallAutomation, call: str, user: str, start: float) -> None:
    """This call's cycles, each at its slot in the schedule (or as soon as the previous one ends, if late)."""
    loop = asyncio.get_running_loop()
    for k in range(CYCLES_PER_CALL):
        await asyncio.sleep(max(0.0, start + k * CALLS * INTERVAL_SECONDS - loop.time()))
        await emulator.cycle(client, call, user)


async def run(workdir: Path) -> Section:
    async with EmulatorUnderTest.running(workdir / "emulator") as emulator:
        users = await emulator.teams_users(CALLS)
        calls = await emulator.answered_calls(CALLS)
        parties = list(zip(emulator.clients(CALLS), calls, users, strict=True))
        for client, call, user in parties:
            await emulator.cycle(client, call, user)
        await emulator.quiet()
        since = len(emulator.receiver.arrivals)
        start = asyncio.get_running_loop().time()
        await asyncio.gather(
            *(
                _paced(emulator, client, call, user, start + n * INTERVAL_SECONDS)
                for n, (client, call, user) in enumerate(parties)
            )
        )
        await emulator.quiet()
        arrivals = emulator.receiver.arrivals[since:]
    by_type: defaultdict[str, list[float]] = defaultdict(list)
    for arrival in arrivals:
        by_type[arrival.event_type].append(arrival.latency)
    overall = milliseconds([arrival.latency for arrival in arrivals])
    data = {
        **overall,
        "by_event_type": {event_type: milliseconds(latencies) for event_type, latencies in sorted(by_type.items())},
        "load": f"{CALLS * CYCLES_PER_CALL} add-then-remove cycles, one every {INTERVAL_SECONDS * 1000:g} ms"
        f" round-robin over {CALLS} answered calls",
        "measured_from": "CloudEvent time (emulator clock at the state change)",
        "measured_to": "time.time() in the receiver once it has read the request body",
    }
    target = Target("callback_p99_ms", "callback latency p99", MAX_P99_MS, "ms", overall["p99"], higher_is_better=False)
    lines = [f"callback latency    {brief(overall)} (n={overall['n']}, {1 / INTERVAL_SECONDS:g} cycles/s)"]
    return Section("callback_latency_ms", data, lines, [target])


BENCHMARK = Benchmark("callbacks", "emulator", run)
