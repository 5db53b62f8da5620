"""The local cloud keeps its tenant, numbers, subscriptions, rules and keys in the data dir across restarts."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
from azure.communication.callautomation import PhoneNumberIdentifier

from callbridge.emulator.config import EmulatorConfig
from callbridge.emulator.server import RunningEmulator
from tests.support.receiver import AppReceiver
from tests.support.scenario import Cloud


def _trust(info: dict[str, object]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(info["caCertificatePath"]))


def _config(data_dir: Path) -> EmulatorConfig:
    return EmulatorConfig(data_dir=data_dir, https_port=0, http_port=0, seed="demo")


def test_tenant_numbers_subscriptions_and_keys_survive_a_restart(tmp_path: Path, app: AppReceiver) -> None:
    with RunningEmulator(_config(tmp_path)) as first:
        control = httpx.Client(base_url=first.cloud.urls.http + "/emulator")
        before = control.get("/info").json()
        assert control.post("/phone-numbers", json={"phoneNumber": "+18005550199"}).status_code == 201
        assert control.post("/teams/users", json={"displayName": "Ada Lovelace"}).status_code == 201
        assert control.patch("/teams/users/fc4ccb5f-8046-4812-803f-6c344a5d1560", json={"online": False}).is_success
        subscription = {"name": "app", "endpoint": app.url + "/eventgrid"}
        assert control.post("/eventgrid/subscriptions", json=subscription).status_code == 201
        rules = {"rules": [{"pattern": "4:+1555*", "action": "decline"}]}
        assert control.put("/endpoints/rules", json=rules).is_success
        jwks = httpx.get(first.cloud.urls.https + "/calling/keys", verify=_trust(before)).json()

    with RunningEmulator(_config(tmp_path)) as second:
        control = httpx.Client(base_url=second.cloud.urls.http + "/emulator")
        after = control.get("/info").json()
        users = {u["displayName"]: u for u in control.get("/teams/users").json()["value"]}
        assert after["acs"]["immutableResourceId"] == before["acs"]["immutableResourceId"]
        assert after["acs"]["connectionString"].split(";")[1] == before["acs"]["connectionString"].split(";")[1]
        assert after["acs"]["phoneNumbers"] == ["+18005550100", "+18005550199"]
        assert "Ada Lovelace" in users and users["Art Anderson"]["online"] is False
        assert [s["name"] for s in control.get("/eventgrid/subscriptions").json()["value"]] == ["app"]
        assert control.get("/endpoints/rules").json()["rules"][0]["action"] == "decline"
        assert httpx.get(second.cloud.urls.https + "/calling/keys", verify=_trust(after)).json() == jwks


def test_a_broken_state_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{broken")

    try:
        RunningEmulator(_config(tmp_path)).close()
    except ValueError as exc:
        assert "state.json is not valid JSON" in str(exc)
    else:
        raise AssertionError("the emulator started over a corrupt state file")
    assert (tmp_path / "state.json").read_text() == "{broken"


def test_endpoint_rules_decide_how_outside_numbers_answer(cloud: Cloud) -> None:
    cloud.ok(cloud.control.put("/endpoints/rules", json={"rules": [{"pattern": "4:+1555*", "action": "decline"}]}))
    connection, call_id = cloud.answered_call()
    source = PhoneNumberIdentifier(cloud.number)

    connection.add_participant(PhoneNumberIdentifier("+15550000001"), source_caller_id_number=source)
    failed = cloud.app.wait_event("AddParticipantFailed", call_id)
    connection.add_participant(PhoneNumberIdentifier("+14255550111"), source_caller_id_number=source)
    succeeded = cloud.app.wait_event("AddParticipantSucceeded", call_id)

    assert failed["data"]["resultInformation"]["code"] == 603
    assert succeeded["data"]["participant"]["rawId"] == "4:+14255550111"
