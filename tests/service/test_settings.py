"""Configuration from the environment and a TOML file; secrets never shown; bad rules refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from callbridge.cli import main
from callbridge.service.settings import RoutingRule, ServiceSettings

SECRET = "super-secret-access-key-value"


def test_environment_and_toml_file_combine_with_the_environment_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "callbridge.toml"
    config.write_text(
        'public_base_url = "https://calls.contoso.com/"\n'
        'store_url = "redis://cache:6379/0"\n'
        "[[routes]]\n"
        'number = "+18005550100"\n'
        'targets = ["Art Anderson"]\n'
        'strategy = "simultaneous"\n'
        'fallback = { action = "transfer", number = "+14255550111" }\n'
    )
    monkeypatch.setenv("CALLBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("CALLBRIDGE_STORE_URL", "sqlite:///tmp/x.db")
    monkeypatch.setenv("CALLBRIDGE_ACS_CONNECTION_STRING", f"endpoint=https://x/;accesskey={SECRET}")

    settings = ServiceSettings()

    assert settings.public_base_url == "https://calls.contoso.com"
    assert settings.store_url == "sqlite:///tmp/x.db"
    assert settings.rule_for("+18005550100") == settings.routes[0]
    assert settings.routes[0].fallback.number == "+14255550111"
    assert settings.rule_for("+18005550199") is None


def test_secrets_are_masked_in_describe_and_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBRIDGE_ACS_CONNECTION_STRING", SECRET)
    monkeypatch.setenv("CALLBRIDGE_GRAPH_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("CALLBRIDGE_OPERATOR_API_KEY", SECRET)
    settings = ServiceSettings()

    assert SECRET not in str(settings.describe())
    assert SECRET not in repr(settings)
    assert settings.describe()["graph_client_secret"] == "********"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"number": "555-0100"}, "E.164"),
        ({"strategy": "round-robin"}, "first-available"),
        ({"ring_timeout_seconds": 500}, "180"),
        ({"fallback": {"action": "transfer"}}, "needs number"),
        ({"targets": ["Art"], "unknown": 1}, "Extra inputs"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RoutingRule.model_validate(rule)


def test_serve_reports_a_bad_configuration_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBRIDGE_ROUTES", '[{"number": "nope"}]')

    result = CliRunner().invoke(main, ["serve"])

    assert result.exit_code == 1
    assert "invalid configuration: routes.0.number" in result.output
    assert "Traceback" not in result.output


def test_doctor_never_prints_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CALLBRIDGE_ACS_CONNECTION_STRING", f"endpoint=https://127.0.0.1:9/;accesskey={SECRET}")
    monkeypatch.setenv("CALLBRIDGE_GRAPH_CLIENT_SECRET", SECRET)

    result = CliRunner().invoke(main, ["doctor", "--configured"])

    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "acs_connection_string = ********" in result.output
