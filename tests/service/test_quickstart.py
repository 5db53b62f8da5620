"""The quickstart through the service, end to end on real sockets: answer, find by name, ring, roster."""

from __future__ import annotations

from callbridge.emulator.seed import ART_ANDERSON_ID
from tests.support.scenario import CALLER, eventually
from tests.support.service import ServiceEnv


def test_incoming_call_is_answered_and_art_is_rung_by_name_as_jack(service: ServiceEnv) -> None:
    key = service.answered()

    toast = eventually(lambda: service.cloud.teams_client(ART_ANDERSON_ID)["incomingCalls"], what="Art's toast")[0]
    assert toast["sourceDisplayName"] == "Jack (Contoso Tech Support)"
    detail = service.wait_for(key, lambda d: len(service.people(key)) == 2, "Art in the call")
    assert service.people(key) == [CALLER, "Art Anderson"]
    assert [p["isApp"] for p in detail["call"]["participants"]].count(True) == 1
    roster = service.cloud.teams_client(ART_ANDERSON_ID)["activeCall"]["roster"]
    assert [p["displayName"] for p in roster] == [CALLER, "Art Anderson"]
    summaries = [entry["summary"] for entry in detail["timeline"]]
    assert summaries[:2] == [f"IncomingCall from {CALLER} to {service.cloud.number}", "answered (first-available)"]
    assert "AddParticipantSucceeded: Art Anderson joined" in summaries


def test_operator_removes_re_adds_and_transfers_with_outcomes(service: ServiceEnv) -> None:
    key = service.answered()
    service.wait_for(key, lambda d: len(service.people(key)) == 2, "Art in the call")

    removed = service.cloud.ok(
        service.api.delete(f"/calls/{key}/participants/Art Anderson", params={"wait": True})
    ).json()
    assert removed["outcome"]["explanation"] == "Art Anderson was removed"
    added = service.cloud.ok(
        service.api.post(f"/calls/{key}/participants", json={"user": "Megan Bowen", "wait": True})
    ).json()
    assert added["outcome"]["succeeded"] is False
    assert added["outcome"]["explanation"] == "Megan Bowen declined (603)"
    transferred = service.cloud.ok(
        service.api.post(f"/calls/{key}/transfer", json={"target": "artanderson@contoso.onmicrosoft.com", "wait": True})
    ).json()

    assert transferred["outcome"]["explanation"] == "transferred to Art Anderson"
    service.wait_for(key, lambda d: d["call"]["state"] == "transferred", "the call to show as transferred")
    audit = service.cloud.ok(service.api.get("/audit")).json()["value"]
    assert [a["action"] for a in audit][:3] == ["transfer", "add", "remove"]
