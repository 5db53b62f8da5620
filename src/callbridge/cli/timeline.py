"""Print a call's journal as a readable timeline: who sent what to whom, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table


def timeline_table(entries: list[dict[str, Any]], title: str = "Timeline") -> Table:
    """One row per journal entry, times relative to the first."""
    table = Table(title=title, title_justify="left", show_lines=False, header_style="bold")
    table.add_column("t (s)", justify="right", style="dim")
    table.add_column("from → to", no_wrap=True)
    table.add_column("what")
    if not entries:
        return table
    entries = sorted(entries, key=lambda e: (e["time"], e["seq"]))
    start = datetime.fromisoformat(entries[0]["time"])
    for entry in entries:
        offset = (datetime.fromisoformat(entry["time"]) - start).total_seconds()
        same_lane = entry["source"] == entry["target"]
        lanes = entry["source"] if same_lane else f"{entry['source']} → {entry['target']}"
        table.add_row(f"{offset:7.3f}", lanes, entry["summary"])
    return table
