"""How CLI commands show results: Rich tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def show(data: Any, as_json: bool, render: Callable[[Any], Table | str]) -> None:
    """Print ``data`` as JSON or through ``render``."""
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    console().print(render(data), highlight=False)


def console() -> Console:
    """The terminal's console (long lines left whole, for copy and paste); when piped, a wide one so tables keep
    one row per line."""
    terminal = Console(soft_wrap=True)
    return terminal if terminal.is_terminal else Console(width=200, soft_wrap=True)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], title: str | None = None) -> Table:
    """A table of ``rows`` with ``(header, key)`` columns; lists are joined, booleans shown as yes/no."""
    grid = Table(title=title, title_justify="left", header_style="bold")
    for header, _ in columns:
        grid.add_column(header)
    for row in rows:
        grid.add_row(*(_cell(row.get(key)) for _, key in columns))
    return grid


def fields(data: dict[str, Any], title: str | None = None) -> Table:
    """A two-column table of one object's fields."""
    grid = Table(title=title, title_justify="left", show_header=False)
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in data.items():
        grid.add_row(key, _cell(value))
    return grid


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)
