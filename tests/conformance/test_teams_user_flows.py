"""The quickstart's Teams-user flows through the official sync SDK: add, remove, transfer and every way they fail."""

from __future__ import annotations

import uuid

import pytest
from azure.communication.callautomation import CallInvite, MicrosoftTeamsUserIdentifier, PhoneNumberIdentifier
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support.scenario import ALEX, ART, CALLER, DIEGO, LYNNE, MEGAN, Cloud, eventually

JACK = "Jack (Contoso Tech Support)"


def _teams(user_id: str) -> MicrosoftTeamsUserIdentifier:
    return MicrosoftTeamsUserIdentifier(user_id=user_id)


def test_quickstart_add_shows_toast_then_roster_without_the_app(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()

    invite = CallInvite(MicrosoftTeamsUserIdentifier(user_id=ART), source_display_name=JACK)
    result = connection.add_participant(invite, operation_context="add-art")

    assert result.invitation_id
    assert result.participant.identifier.raw_id == f"8:orgid:{ART}"
    toast = eventually(lambda: cloud.teams_client(ART)["incomingCalls"], what="Art's toast")[0]
    assert toast["sourceDisplayName"] == JACK
    assert toast["caller"]["rawId"] == f"4:{CALLER}"
    succeeded = cloud.app.wait_event("AddParticipantSucceeded", call_id)
    assert succeeded["data"]["participant"]["rawId"] == f"8:orgid:{ART}"
    assert succeeded["data"]["operationContext"] == "add-art"
    assert succeeded["data"]["resultInformation"] == {"code": 200, "subCode": 0, "message": ""}
    roster = eventually(lambda: cloud.teams_client(ART)["activeCall"], what="Art in the call")["roster"]
    assert [p["rawId"] for p in roster] == [f"4:{CALLER}", f"8:orgid:{ART}"]
    raw_ids = {p.identifier.raw_id for p in connection.list_participants()}
    assert raw_ids == {f"4:{CALLER}", f"4:{cloud.number}", f"8:orgid:{ART}"}
    updated = cloud.app.wait_event("ParticipantsUpdated", call_id, count=2)
    assert f"8:orgid:{ART}" in {p["identifier"]["rawId"] for p in updated["data"]["participants"]}


def test_participants_updated_sequence_numbers_increase_per_call(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()
    connection.add_participant(_teams(ART), source_display_name=JACK)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    connection.remove_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    cloud.app.wait_event("ParticipantsUpdated", call_id, count=3)

    numbers = [e["data"]["sequenceNumber"] for e in cloud.app.events("ParticipantsUpdated", call_id)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_remove_takes_the_teams_user_out_of_the_call(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()
    connection.add_participant(_teams(ART), source_display_name=JACK)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)

    result = connection.remove_participant(MicrosoftTeamsUserIdentifier(user_id=ART), operation_context="bye")

    assert result.operation_context == "bye"
    removed = cloud.app.wait_event("RemoveParticipantSucceeded", call_id)
    assert removed["data"]["participant"]["rawId"] == f"8:orgid:{ART}"
    eventually(lambda: cloud.teams_client(ART)["activeCall"] is None, what="Art's client to drop the call")
    assert f"8:orgid:{ART}" not in {p.identifier.raw_id for p in connection.list_participants()}


@pytest.mark.parametrize(
    ("user_id", "code", "sub_code"),
    [(MEGAN, 603, 0), (DIEGO, 480, 10037), (LYNNE, 486, 8539)],
    ids=["declined", "offline", "busy"],
)
def test_add_fails_with_the_real_result_code(cloud: Cloud, user_id: str, code: int, sub_code: int) -> None:
    connection, call_id = cloud.answered_call()

    connection.add_participant(_teams(user_id), source_display_name=JACK)

    failed = cloud.app.wait_event("AddParticipantFailed", call_id)
    assert failed["data"]["participant"]["rawId"] == f"8:orgid:{user_id}"
    assert (failed["data"]["resultInformation"]["code"], failed["data"]["resultInformation"]["subCode"]) == (
        code,
        sub_code,
    )
    assert not cloud.app.events("AddParticipantSucceeded", call_id)
    assert f"8:orgid:{user_id}" not in {p.identifier.raw_id for p in connection.list_participants()}


def test_add_to_a_tenant_that_has_not_allowed_the_resource_fails_403_10124(cloud: Cloud) -> None:
    cloud.set_federation(enable=True, resources=[str(uuid.uuid4())])
    connection, call_id = cloud.answered_call()

    connection.add_participant(_teams(ART), source_display_name=JACK)

    failed = cloud.app.wait_event("AddParticipantFailed", call_id)
    assert failed["data"]["resultInformation"]["code"] == 403
    assert failed["data"]["resultInformation"]["subCode"] == 10124
    assert cloud.teams_client(ART)["incomingCalls"] == []


def test_no_answer_times_out_487_10004_on_the_virtual_clock(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.add_participant(_teams(ALEX), source_display_name=JACK, invitation_timeout=180)
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")

    cloud.advance(179)
    assert not cloud.app.events("AddParticipantFailed", call_id)
    cloud.advance(1)

    failed = cloud.app.wait_event("AddParticipantFailed", call_id)
    assert failed["data"]["resultInformation"]["code"] == 487
    assert failed["data"]["resultInformation"]["subCode"] == 10004
    assert cloud.teams_client(ALEX)["incomingCalls"] == []


def test_default_invitation_timeout_is_60_seconds(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.add_participant(_teams(ALEX), source_display_name=JACK)

    cloud.advance(59.5)
    assert not cloud.app.events("AddParticipantFailed", call_id)
    cloud.advance(0.5)
    assert cloud.app.wait_event("AddParticipantFailed", call_id)["data"]["resultInformation"]["subCode"] == 10004


def test_cancel_while_ringing_reports_cancel_succeeded_and_no_failure(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    invitation = connection.add_participant(_teams(ALEX), source_display_name=JACK).invitation_id
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")

    result = connection.cancel_add_participant_operation(invitation, operation_context="never-mind")

    assert result.invitation_id == invitation
    cancelled = cloud.app.wait_event("CancelAddParticipantSucceeded", call_id)
    assert cancelled["data"]["invitationId"] == invitation
    assert cancelled["data"]["operationContext"] == "never-mind"
    assert cloud.teams_client(ALEX)["incomingCalls"] == []
    cloud.advance(120)
    assert not cloud.app.events("AddParticipantFailed", call_id)


def test_manual_accept_from_the_teams_client(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.add_participant(_teams(ALEX), source_display_name=JACK)
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")

    cloud.ok(cloud.control.post(f"/teams/users/{ALEX}/client:accept"))

    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    assert cloud.teams_client(ALEX)["activeCall"] is not None


def test_transfer_of_a_one_to_one_call_hands_the_caller_over_and_drops_the_app(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()

    result = connection.transfer_call_to_participant(
        MicrosoftTeamsUserIdentifier(user_id=ART), operation_context="xfer"
    )

    assert result.operation_context == "xfer"
    toast = eventually(lambda: cloud.teams_client(ART)["incomingCalls"], what="Art's toast")[0]
    assert toast["caller"]["rawId"] == f"4:{CALLER}"
    accepted = cloud.app.wait_event("CallTransferAccepted", call_id)
    assert accepted["data"]["transferTarget"]["rawId"] == f"8:orgid:{ART}"
    assert accepted["data"]["transferee"]["rawId"] == f"4:{CALLER}"
    disconnected = cloud.app.wait_event("CallDisconnected", call_id)
    assert cloud.app.types(call_id)[-2:] == ["CallTransferAccepted", "CallDisconnected"]
    assert disconnected["data"]["resultInformation"]["subCode"] == 7015
    roster = eventually(lambda: cloud.teams_client(ART)["activeCall"], what="Art in the call")["roster"]
    assert {p["rawId"] for p in roster} == {f"4:{CALLER}", f"8:orgid:{ART}"}
    with pytest.raises(ResourceNotFoundError):
        connection.get_call_properties()


def test_failed_transfer_keeps_the_app_in_the_call(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()

    connection.transfer_call_to_participant(MicrosoftTeamsUserIdentifier(user_id=MEGAN))

    failed = cloud.app.wait_event("CallTransferFailed", call_id)
    assert failed["data"]["resultInformation"]["code"] == 603
    assert connection.get_call_properties().call_connection_state == "connected"


def test_hang_up_in_a_one_to_one_call_ends_it_for_the_caller_too(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()

    connection.hang_up(is_for_everyone=False)

    disconnected = cloud.app.wait_event("CallDisconnected", call_id)
    assert disconnected["data"]["resultInformation"]["subCode"] == 7000
    calls = cloud.ok(cloud.control.get("/pstn/calls")).json()["value"]
    assert calls[-1]["state"] == "ended"


def test_hang_up_leaves_a_group_call_running_but_terminate_ends_it(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()
    connection.add_participant(_teams(ART), source_display_name=JACK)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)

    connection.hang_up(is_for_everyone=False)

    cloud.app.wait_event("CallDisconnected", call_id)
    art_call = cloud.teams_client(ART)["activeCall"]
    assert art_call is not None and {p["rawId"] for p in art_call["roster"]} == {f"4:{CALLER}", f"8:orgid:{ART}"}

    second, second_id = cloud.answered_call(caller="+14255550199")
    second.add_participant(
        CallInvite(PhoneNumberIdentifier("+14255550111"), source_caller_id_number=PhoneNumberIdentifier(cloud.number))
    )
    cloud.app.wait_event("AddParticipantSucceeded", second_id)
    second.hang_up(is_for_everyone=True)
    assert cloud.app.wait_event("CallDisconnected", second_id)["data"]["resultInformation"]["subCode"] == 7000
    ended = eventually(
        lambda: [
            c
            for c in cloud.ok(cloud.control.get("/pstn/calls")).json()["value"]
            if c["phone"] == "+14255550199" and c["state"] == "ended"
        ],
        what="the caller's phone to hang up",
    )
    assert ended


def test_repeated_request_with_the_same_repeatability_id_is_replayed_not_executed_twice(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()
    request_id = str(uuid.uuid4())
    headers = {"Repeatability-Request-ID": request_id, "Repeatability-First-Sent": "Thu, 26 Nov 2026 22:38:21 GMT"}
    first_sent = cloud.emulator.cloud.clock.now().strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers["Repeatability-First-Sent"] = first_sent

    first = connection.add_participant(_teams(ART), source_display_name=JACK, headers=headers)
    second = connection.add_participant(_teams(ART), source_display_name=JACK, headers=headers)

    assert second.invitation_id == first.invitation_id
    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    adds = [
        e
        for e in cloud.journal(callConnectionId=call_id)
        if e["kind"] == "response" and "AddParticipant" in e["summary"]
    ]
    assert [e["detail"]["replayed"] for e in adds] == [False, True]
    rings = [e for e in cloud.journal(callConnectionId=call_id) if e["summary"].startswith("ringing")]
    assert len(rings) == 1


def test_operations_on_a_terminated_call_are_refused(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", call_id)

    with pytest.raises(HttpResponseError) as refused:
        connection.add_participant(_teams(ART), source_display_name=JACK)

    assert refused.value.status_code == 400
    assert refused.value.error.code == "8528"
