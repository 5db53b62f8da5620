"""``python -m bench [NAME ...]``: run every benchmark, or the named ones, and write their JSON reports."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import callbacks, emulator_rest, graph, memory, service
from bench.report import Benchmark, Section, machine, summary, write

BENCHMARKS: tuple[Benchmark, ...] = (
    emulator_rest.BENCHMARK,
    callbacks.BENCHMARK,
    memory.BENCHMARK,
    graph.BENCHMARK,
    service.BENCHMARK,
)


def main(names: list[str]) -> int:
    known = {benchmark.name: benchmark for benchmark in BENCHMARKS}
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(known)}", file=sys.stderr)
        return 2
    selected = [benchmark for benchmark in BENCHMARKS if not names or benchmark.name in names]
    reports: dict[str, list[Benchmark]] = {}
    for benchmark in selected:
        reports.setdefault(benchmark.report, []).append(benchmark)
    with tempfile.TemporaryDirectory(prefix="callbridge-bench-") as scratch:
        for report, benchmarks in reports.items():
            host = machine()
            started = datetime.now(UTC)
            sections: list[Section] = []
            for benchmark in benchmarks:
                print(f"running {benchmark.name} …", flush=True)
                sections.append(asyncio.run(benchmark.run(Path(scratch) / benchmark.name)))
            print(summary(write(report, sections, started, host), sections, host))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
