"""``callbridge tenant …`` against a running local cloud: the cmdlet-shaped admin surface."""

from __future__ import annotations

import json
import uuid

from azure.communication.callautomation import MicrosoftTeamsUserIdentifier
from click.testing import CliRunner, Result

from callbridge.cli import main
from tests.support.scenario import ALEX, ART, Cloud, eventually


def run(cloud: Cloud, *args: str) -> Result:
    return CliRunner().invoke(main, ["tenant", "--emulator", cloud.emulator.cloud.urls.http, *args])


def run_json(cloud: Cloud, *args: str) -> object:
    result = run(cloud, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_set_and_get_acs_federation(cloud: Cloud) -> None:
    other = str(uuid.uuid4())

    updated = run_json(
        cloud, "set-acs-federation", "--enable-acs-users", "--allowed-acs-resources", f"{cloud.resource_id},{other}"
    )

    assert updated == {"identity": "Global", "enableAcsUsers": True, "allowedAcsResources": [cloud.resource_id, other]}
    shown = run(cloud, "get-acs-federation")
    assert shown.exit_code == 0 and other in shown.output and "enableAcsUsers" in shown.output


def test_a_resource_name_instead_of_its_immutable_id_is_refused_as_by_the_cmdlet(cloud: Cloud) -> None:
    result = run(cloud, "set-acs-federation", "--allowed-acs-resources", "my-acs-resource")

    assert result.exit_code == 1
    assert "not an immutable resource id (a GUID)" in result.output


def test_policy_cmdlets_block_then_unblock_a_user(cloud: Cloud) -> None:
    assert run(cloud, "new-external-access-policy", "NoAcs", "--enable-acs-federation-access", "$false").exit_code == 0
    granted = run_json(cloud, "grant-external-access-policy", "--policy-name", "NoAcs", "--user", ART)
    assert granted["users"][ART] == "tag:NoAcs"  # type: ignore[index]
    connection, call_id = cloud.answered_call()
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    assert cloud.app.wait_event("AddParticipantFailed", call_id)["data"]["resultInformation"]["subCode"] == 7604

    revoked = run_json(cloud, "grant-external-access-policy", "--user", ART)
    assert ART not in revoked["users"]  # type: ignore[operator]
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    cloud.app.wait_event("AddParticipantSucceeded", call_id)


def test_users_add_list_and_change(cloud: Cloud) -> None:
    added = run_json(
        cloud, "users", "add", "Ada Lovelace", "--license", "ENTERPRISEPACK", "--no-voice", "--answer", "decline"
    )
    user_id = added["id"]  # type: ignore[index]
    assert added["enterpriseVoiceEnabled"] is False  # type: ignore[index]
    listing = run(cloud, "users", "list")
    assert "Ada Lovelace" in listing.output and "ENTERPRISEPACK" in listing.output

    assert run_json(cloud, "users", "set-license", user_id, "SPE_E5")["licenses"][0]["skuPartNumber"] == "SPE_E5"  # type: ignore[index]
    assert run_json(cloud, "users", "set-voice", user_id, "true")["enterpriseVoiceEnabled"] is True  # type: ignore[index]
    presence = run_json(cloud, "users", "set-presence", user_id, "Busy", "InAMeeting")["presence"]  # type: ignore[index]
    assert presence == {"availability": "Busy", "activity": "InAMeeting"}
    assert run_json(cloud, "users", "set-online", user_id, "off")["presence"]["availability"] == "Offline"  # type: ignore[index]


def test_bad_presence_value_is_explained(cloud: Cloud) -> None:
    result = run(cloud, "users", "set-presence", ART, "Sleeping")

    assert result.exit_code == 1
    assert "availability must be one of" in result.output


def test_apps_add_prints_client_id_and_secret(cloud: Cloud) -> None:
    created = run_json(
        cloud, "apps", "add", "my service", "--permission", "User.Read.All", "--permission", "Presence.Read.All"
    )

    assert uuid.UUID(created["clientId"])  # type: ignore[index]
    assert len(created["clientSecret"]) >= 30  # type: ignore[index]
    assert created["applicationPermissions"] == ["User.Read.All", "Presence.Read.All"]  # type: ignore[index]
    unknown = run(cloud, "apps", "add", "x", "--permission", "Calls.Teleport")
    assert unknown.exit_code == 1 and "unknown application permission" in unknown.output


def test_client_accept_and_hang_up(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.add_participant(
        MicrosoftTeamsUserIdentifier(user_id=ALEX), source_display_name="Jack (Contoso Tech Support)"
    )
    shown = eventually(
        lambda: "Jack (Contoso Tech Support)" in (out := run(cloud, "client", "show", ALEX).output) and out
    )
    assert "ringing" in shown

    accepted = run(cloud, "client", "accept", ALEX)

    assert accepted.exit_code == 0 and "in a call with" in accepted.output
    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    assert run(cloud, "client", "hang-up", ALEX).exit_code == 0
    nothing = run(cloud, "client", "accept", ALEX)
    assert nothing.exit_code == 1 and "nothing is ringing" in nothing.output


def test_unreachable_emulator_is_one_clear_line() -> None:
    result = CliRunner().invoke(main, ["tenant", "--emulator", "http://127.0.0.1:9", "get-acs-federation"])

    assert result.exit_code == 1
    assert "cannot reach the local cloud at http://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
