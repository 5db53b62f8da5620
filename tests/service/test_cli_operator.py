"""The operator CLI against a running service: tables people read, JSON scripts parse, failures in one line."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from callbridge.cli import main
from tests.support.flows import OUTSIDE_NUMBER, phone_calls, quiet_call, rule, settle
from tests.support.scenario import ART, CALLER, MEGAN, Cloud
from tests.support.service import API_KEY, ServiceEnv

StartService = Callable[..., ServiceEnv]


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No `callbridge up` file and no service settings from the environment: only what the test passes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CALLBRIDGE_SERVICE_URL", raising=False)
    monkeypatch.delenv("CALLBRIDGE_OPERATOR_API_KEY", raising=False)


def cli(env: ServiceEnv | None, *args: str, url: str | None = None, key: str = API_KEY) -> Result:
    """``callbridge <args> --service <url> --api-key <key>``, as an operator would type it."""
    service = url or (env.url if env else "")
    return CliRunner().invoke(main, [*args, "--service", service, "--api-key", key], catch_exceptions=False)


def succeeded(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    return result.output


def operator_service(cloud: Cloud, start_service: StartService) -> tuple[ServiceEnv, str]:
    """A service that answers and leaves the call to the operator; the call's key."""
    env = start_service(routes=[rule(cloud, [], strategy="none")])
    return env, quiet_call(env)


def test_calls_shows_the_active_call_with_its_people_as_a_table_and_as_json(
    cloud: Cloud, start_service: StartService
) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env = start_service(routes=[rule(cloud, ["Art Anderson"])])
    key = env.answered()
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art in the call")

    table = succeeded(cli(env, "calls"))
    listed: list[dict[str, Any]] = json.loads(succeeded(cli(env, "calls", "--json")))

    row = next(line for line in table.splitlines() if CALLER in line)
    assert key in row and "connected" in row and "Art Anderson" in row and cloud.number in row
    assert [(c["callKey"], c["people"], c["state"]) for c in listed] == [(key, [CALLER, "Art Anderson"], "connected")]


def test_add_remove_and_transfer_on_the_latest_call(cloud: Cloud, start_service: StartService) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env, key = operator_service(cloud, start_service)
    server_call_id = env.call(key)["call"]["serverCallId"]

    added = succeeded(cli(env, "add", "latest", "Art Anderson"))
    assert added.strip() == "✓ Art Anderson joined"
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art in the call")
    removed = succeeded(cli(env, "remove", "latest", "artanderson@contoso.onmicrosoft.com"))
    assert removed.strip() == "✓ Art Anderson was removed"
    env.wait_for(key, lambda d: env.people(key) == [CALLER], "Art gone")
    again: dict[str, Any] = json.loads(succeeded(cli(env, "add", key, ART, "--json")))
    assert again["outcome"]["explanation"] == "Art Anderson joined" and again["target"] == "Art Anderson"
    env.wait_for(key, lambda d: env.people(key) == [CALLER, "Art Anderson"], "Art back in the call")
    transferred = succeeded(cli(env, "transfer", "latest", OUTSIDE_NUMBER, "--transferee", "Art Anderson"))

    assert transferred.strip() == f"✓ transferred to {OUTSIDE_NUMBER}"
    phones = settle(lambda: {p["phone"]: p["state"] for p in phone_calls(cloud, server_call_id)}, "the phones")
    assert phones == {CALLER: "connected", OUTSIDE_NUMBER: "connected"}
    assert [c["action"] for c in env.api.get("/audit").json()["value"]][:4] == ["transfer", "add", "remove", "add"]


@pytest.mark.parametrize(
    ("who", "explanation"),
    [
        ("Megan Bowen", "✗ Megan Bowen declined (603)"),
        (
            "Pradeep Gupta",
            "✗ Pradeep Gupta is a guest or consumer account and cannot be called as a Teams user (412/10119)",
        ),
    ],
    ids=["declines", "guest"],
)
def test_a_failed_add_exits_1_with_the_explanation(
    cloud: Cloud, start_service: StartService, who: str, explanation: str
) -> None:
    cloud.set_user(MEGAN, answer={"action": "decline", "afterSeconds": 0})
    env, key = operator_service(cloud, start_service)

    result = cli(env, "add", "latest", who)

    assert result.exit_code == 1, result.output
    assert result.output.strip() == explanation
    assert env.people(key) == [CALLER]


def test_users_search_and_presence_show_who_is_free(cloud: Cloud, start_service: StartService) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    env, key = operator_service(cloud, start_service)

    table = succeeded(cli(env, "users", "search", "A"))
    found: list[dict[str, Any]] = json.loads(succeeded(cli(env, "users", "search", "A", "--json")))
    before = succeeded(cli(env, "presence", "Art Anderson"))
    succeeded(cli(env, "add", key, "Art Anderson"))
    during: dict[str, Any] = json.loads(succeeded(cli(env, "presence", "Art Anderson", "--json")))
    in_call = succeeded(cli(env, "presence", "artanderson@contoso.onmicrosoft.com"))

    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.count("│") > 2}
    assert {"Art Anderson", "Alex Wilber", "Grady Archie"} <= set(rows)
    assert "Available/Available" in rows["Art Anderson"] and ART in rows["Art Anderson"]
    assert "Away/Away" in rows["Alex Wilber"]
    assert {u["displayName"] for u in found} == {"Art Anderson", "Alex Wilber", "Grady Archie"}
    assert "Available/Available" in before and "Art Anderson" in before
    assert during["presence"] == {"availability": "Busy", "activity": "InACall"}
    assert "Busy/InACall" in in_call


def test_latest_without_an_active_call_says_so(cloud: Cloud, start_service: StartService) -> None:
    env = start_service(routes=[rule(cloud, [], strategy="none")])

    result = cli(env, "add", "latest", "Art Anderson")

    assert result.exit_code == 1
    assert result.output.strip() == "Error: there is no active call"


def test_a_wrong_api_key_is_one_clear_line(cloud: Cloud, start_service: StartService) -> None:
    env, _ = operator_service(cloud, start_service)

    result = cli(env, "calls", key="not-the-key")

    assert result.exit_code == 1
    assert result.output.strip() == "Error: missing or wrong X-API-Key"


def test_an_unreachable_service_is_one_clear_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens here once the probe closes

    result = cli(None, "calls", url=url)

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: cannot reach the service at {url} (")
    assert lines[0].endswith("start it with `callbridge up` or `callbridge serve`")
    assert "Traceback" not in result.output
