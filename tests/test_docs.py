"""The docs keep up with the code: every emitted result code is in the fidelity table."""

from __future__ import annotations

from pathlib import Path

from callbridge.emulator.acs.results import ALL_RESULTS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_result_code_the_emulator_emits_is_in_the_fidelity_table() -> None:
    table = (DOCS / "fidelity.md").read_text()

    missing = [r.label for r in ALL_RESULTS if f"| {r.label}" not in table]

    assert not missing, f"add these to docs/fidelity.md: {missing}"


def test_readme_shows_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text()

    assert "make demo" in readme and "make test" in readme
