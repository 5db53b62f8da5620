"""What a benchmark hands back (its report section and targets) and how a report file is written."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
STACK = ("uvicorn", "starlette", "h11", "httpx", "httpcore", "anyio")


@dataclass(frozen=True)
class Target:
    """A goal the issue set: met or not, it is reported and never fails the run."""

    name: str
    description: str
    limit: float
    unit: str
    measured: float
    higher_is_better: bool

    @property
    def met(self) -> bool:
        return self.measured >= self.limit if self.higher_is_better else self.measured < self.limit

    def as_json(self) -> dict[str, Any]:
        comparison = ">=" if self.higher_is_better else "<"
        return {
            "description": self.description,
            "target": f"{comparison} {self.limit:g} {self.unit}",
            "measured": round(self.measured, 3),
            "unit": self.unit,
            "met": self.met,
        }


@dataclass(frozen=True)
class Section:
    """One benchmark's part of a report: its key, its numbers, its targets and a few lines for people."""

    key: str
    data: dict[str, Any]
    lines: list[str]
    targets: list[Target] = field(default_factory=list)


@dataclass(frozen=True)
class Benchmark:
    """A runnable benchmark: its name on the command line, the report file it writes into, and the run."""

    name: str
    report: str
    run: Callable[[Path], Coroutine[Any, Any, Section]]


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine already was."""
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {name: version(name) for name in STACK},
    }


def write(report: str, sections: list[Section], started: datetime, host: dict[str, Any]) -> Path:
    """Write ``bench/results/<report>.json``: machine, time, each section under its key, then all targets."""
    body: dict[str, Any] = {
        "machine": host,
        "timestamp": started.isoformat(),
        "duration_seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "sections": [section.key for section in sections],
    }
    body.update((section.key, section.data) for section in sections)
    body["targets"] = {target.name: target.as_json() for section in sections for target in section.targets}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{report}.json"
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def summary(path: Path, sections: list[Section], host: dict[str, Any]) -> str:
    """The short human summary printed after a report is written."""
    cpus = f"{host['usable_cpus']} CPUs, load {host['load_average'][0]:g}"
    lines = [f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}  ({cpus})"]
    for section in sections:
        lines.extend(f"  {line}" for line in section.lines)
    targets = [target for section in sections for target in section.targets]
    if targets:
        lines.append("  targets:")
        for target in targets:
            verdict = "met    " if target.met else "NOT met"
            measured = f"{target.measured:,.0f}" if abs(target.measured) >= 1000 else f"{target.measured:.3g}"
            wanted = target.as_json()["target"]
            lines.append(f"    {verdict} {target.description}: {measured} {target.unit} (target {wanted})")
    return "\n".join(lines)
