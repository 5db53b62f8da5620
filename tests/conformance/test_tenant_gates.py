"""Each Teams admin gate, switched off and on again, seen through the official Call Automation SDK."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from azure.communication.callautomation import (
    CallConnectionClient,
    MicrosoftTeamsAppIdentifier,
    MicrosoftTeamsUserIdentifier,
)

from tests.support.scenario import ART, Cloud, eventually

JACK = "Jack (Contoso Tech Support)"
NESTOR = "61a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8"  # E3 only: no Teams Phone
GRADY = "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a"  # Teams Phone, Enterprise Voice off
ISAIAH = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"  # under tag:AcsFederationBlocked
PRADEEP = "5c4b3a29-1807-4f6e-8d5c-4b3a29180706"  # guest
QUEUE_APP = "3f2e1d0c-9b8a-4766-8554-433221100ffe"  # resource account


def _add(cloud: Cloud, connection: CallConnectionClient, call_id: str, user_id: str, attempt: int) -> dict[str, object]:
    """Add the user and return the ``resultInformation`` of the attempt's outcome event."""
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=user_id), source_display_name=JACK)

    def outcome() -> dict[str, object] | None:
        outcomes = ("Microsoft.Communication.AddParticipantFailed", "Microsoft.Communication.AddParticipantSucceeded")
        events = [e for e in cloud.app.events(None, call_id) if e["type"] in outcomes]
        return events[attempt - 1]["data"]["resultInformation"] if len(events) >= attempt else None

    return dict(cloud.app.wait(outcome, what=f"outcome of add #{attempt}"))


def _code(result: dict[str, object]) -> tuple[object, object]:
    return result["code"], result["subCode"]


def _seeded_gate_users(cloud: Cloud) -> None:
    cloud.set_user(NESTOR, answer={"action": "accept", "afterSeconds": 0})
    cloud.set_user(GRADY, answer={"action": "accept", "afterSeconds": 0})
    cloud.set_user(ISAIAH, answer={"action": "accept", "afterSeconds": 0})
    cloud.set_user(PRADEEP, answer={"action": "accept", "afterSeconds": 0})


@pytest.mark.parametrize(
    ("user_id", "expected", "fix"),
    [
        (NESTOR, (403, 10391), lambda c: c.set_user(NESTOR, licenses=["ENTERPRISEPACK", "MCOEV"])),
        (GRADY, (403, 10391), lambda c: c.set_user(GRADY, enterpriseVoiceEnabled=True)),
        (
            ISAIAH,
            (403, 7604),
            lambda c: c.ok(
                c.control.post("/teams/external-access-policies:grant", json={"policyName": None, "user": ISAIAH})
            ),
        ),
        (PRADEEP, (412, 10119), lambda c: c.set_user(PRADEEP, userType="Member")),
    ],
    ids=["no-teams-phone", "voice-off", "blocked-by-policy", "guest"],
)
def test_seeded_gate_users_fail_until_the_admin_fixes_it(
    cloud: Cloud, user_id: str, expected: tuple[int, int], fix: Callable[[Cloud], object]
) -> None:
    _seeded_gate_users(cloud)
    connection, call_id = cloud.answered_call()

    assert _code(_add(cloud, connection, call_id, user_id, attempt=1)) == expected
    fix(cloud)

    assert _code(_add(cloud, connection, call_id, user_id, attempt=2)) == (200, 0)


def test_gates_apply_in_the_documented_order(cloud: Cloud) -> None:
    """A user failing several gates reports the first: federation, policy, licence/voice, guest, offline."""
    cloud.set_user(PRADEEP, licenses=["ENTERPRISEPACK"], online=False)
    cloud.ok(
        cloud.control.post(
            "/teams/external-access-policies:grant", json={"policyName": "AcsFederationBlocked", "user": PRADEEP}
        )
    )
    cloud.set_federation(enable=False)
    connection, call_id = cloud.answered_call()
    fixes = [
        ((403, 10124), lambda: cloud.set_federation(enable=True)),
        (
            (403, 7604),
            lambda: cloud.ok(
                cloud.control.post("/teams/external-access-policies:grant", json={"policyName": None, "user": PRADEEP})
            ),
        ),
        ((403, 10391), lambda: cloud.set_user(PRADEEP, licenses=["SPE_E5"])),
        ((412, 10119), lambda: cloud.set_user(PRADEEP, userType="Member")),
        ((480, 10037), lambda: cloud.set_user(PRADEEP, online=True, answer={"action": "accept", "afterSeconds": 0})),
    ]
    for attempt, (expected, fix) in enumerate(fixes, start=1):
        assert _code(_add(cloud, connection, call_id, PRADEEP, attempt)) == expected
        fix()
    assert _code(_add(cloud, connection, call_id, PRADEEP, len(fixes) + 1)) == (200, 0)


def test_group_policy_by_rank_and_direct_grant_precedence(cloud: Cloud) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    cloud.ok(
        cloud.control.post(
            "/teams/external-access-policies", json={"identity": "AcsAllowed", "enableAcsFederationAccess": True}
        )
    )
    group = cloud.ok(cloud.control.post("/teams/groups", json={"displayName": "Support", "members": [ART]})).json()
    blocked_group = cloud.ok(
        cloud.control.post("/teams/groups", json={"displayName": "Everyone", "members": [ART]})
    ).json()
    grant = "/teams/external-access-policies:grant"
    cloud.ok(
        cloud.control.post(grant, json={"policyName": "AcsFederationBlocked", "group": blocked_group["id"], "rank": 1})
    )
    cloud.ok(cloud.control.post(grant, json={"policyName": "AcsAllowed", "group": group["id"], "rank": 2}))
    connection, call_id = cloud.answered_call()

    assert _code(_add(cloud, connection, call_id, ART, attempt=1)) == (403, 7604)
    cloud.ok(cloud.control.post(grant, json={"policyName": "AcsAllowed", "user": ART}))
    assert _code(_add(cloud, connection, call_id, ART, attempt=2)) == (200, 0)


def test_global_policy_off_blocks_everyone_without_another_policy(cloud: Cloud) -> None:
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    cloud.ok(cloud.control.patch("/teams/external-access-policies/Global", json={"enableAcsFederationAccess": False}))
    connection, call_id = cloud.answered_call()

    assert _code(_add(cloud, connection, call_id, ART, attempt=1)) == (403, 7604)
    cloud.ok(cloud.control.post("/teams/external-access-policies", json={"identity": "tag:AcsOk"}))
    cloud.ok(cloud.control.post("/teams/external-access-policies:grant", json={"policyName": "AcsOk", "global": True}))
    assert _code(_add(cloud, connection, call_id, ART, attempt=2)) == (200, 0)


def test_a_fix_takes_effect_only_after_the_propagation_delay(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    cloud.set_user(ART, answer={"action": "accept", "afterSeconds": 0})
    cloud.ok(cloud.control.patch("/teams/settings", json={"propagationDelaySeconds": 600}))
    cloud.set_federation(enable=True, resources=[str(uuid.uuid4())])
    connection, call_id = cloud.answered_call()

    assert _code(_add(cloud, connection, call_id, ART, attempt=1)) == (200, 0), "the old setting is still in force"
    connection.remove_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    cloud.app.wait_event("RemoveParticipantSucceeded", call_id)
    cloud.advance(600)
    assert _code(_add(cloud, connection, call_id, ART, attempt=2)) == (403, 10124)
    cloud.set_federation(enable=True)
    cloud.advance(599)
    assert _code(_add(cloud, connection, call_id, ART, attempt=3)) == (403, 10124)
    cloud.advance(1)
    assert _code(_add(cloud, connection, call_id, ART, attempt=4)) == (200, 0)


def test_resource_account_is_reached_by_app_id_not_as_a_teams_user(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()

    assert _code(_add(cloud, connection, call_id, "e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908", attempt=1)) == (480, 10037)
    connection.add_participant(MicrosoftTeamsAppIdentifier(app_id=QUEUE_APP))
    succeeded = cloud.app.wait_event("AddParticipantSucceeded", call_id)
    assert succeeded["data"]["participant"]["rawId"] == f"28:orgid:{QUEUE_APP}"


def test_presence_follows_the_call(cloud: Cloud) -> None:
    def presence() -> dict[str, str]:
        return dict(cloud.ok(cloud.control.get(f"/teams/users/{ART}")).json()["presence"])

    cloud.set_user(ART, presence={"availability": "Away", "activity": "Away"})
    connection, call_id = cloud.answered_call()
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART), source_display_name=JACK)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)

    assert presence() == {"availability": "Busy", "activity": "InACall"}
    cloud.ok(cloud.control.post(f"/teams/users/{ART}/client:hangUp"))
    eventually(lambda: presence() == {"availability": "Away", "activity": "Away"}, what="Art back to Away")
