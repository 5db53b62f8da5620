"""Bad input gets the service's status and error body, changes nothing, and the local cloud keeps serving."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from azure.communication.callautomation import (
    CallAutomationClient,
    CallConnectionClient,
    FileSource,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from tests.support.scenario import ALEX, ART, CALLER, MEGAN, Cloud, eventually
from tests.support.signing import RawAcs, assert_error, http_date, minutes_ago

CONNECTIONS = "/calling/callConnections"
SDK_API_VERSIONS = ["2023-03-06", "2023-10-15", "2024-04-15", "2024-09-15", "2025-05-15", "2025-06-15", "2026-03-12"]
PROMPT = FileSource(url="https://contoso.example/prompt.wav")


@pytest.fixture
def raw(cloud: Cloud) -> Iterator[RawAcs]:
    with RawAcs(cloud.connection_string, cloud.ca_path) as client:
        yield client


@pytest.fixture
def vraw(virtual_cloud: Cloud) -> Iterator[RawAcs]:
    with RawAcs(virtual_cloud.connection_string, virtual_cloud.ca_path) as client:
        yield client


def _teams(user_id: str) -> dict[str, Any]:
    return {"rawId": f"8:orgid:{user_id}", "microsoftTeamsUser": {"userId": user_id, "cloud": "PUBLIC"}}


def _raw_ids(connection: CallConnectionClient) -> set[str]:
    return {p.identifier.raw_id for p in connection.list_participants()}


def _sdk_error(refused: pytest.ExceptionInfo[HttpResponseError], status: int, code: str) -> None:
    assert refused.value.status_code == status, refused.value
    assert refused.value.error is not None and refused.value.error.code == code, refused.value


def _still_works(raw: RawAcs, connection: CallConnectionClient, call_id: str, participants: set[str]) -> None:
    """The same call answers a good request and nothing about it changed."""
    response = raw.get(f"{CONNECTIONS}/{call_id}")
    assert response.status_code == 200, response.text
    assert response.json()["callConnectionState"] == "connected"
    assert _raw_ids(connection) == participants


# ---------------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"participantToAdd": {"rawId": "8:orgid:x"', id="truncated-json"),
        pytest.param(b"participantToAdd=8:orgid:x", id="not-json"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'[{"participantToAdd": {"rawId": "4:+14255550111"}}]', id="json-array"),
        pytest.param(b'"just a string"', id="json-string"),
    ],
)
def test_malformed_json_body_is_400_8523_and_the_call_is_untouched(cloud: Cloud, raw: RawAcs, content: bytes) -> None:
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)

    response = raw.request("POST", f"{CONNECTIONS}/{call_id}/participants:add", content=content)

    assert_error(response, 400, "8523")
    _still_works(raw, connection, call_id, before)


def test_add_without_participant_to_add_is_400_8523_naming_the_field(cloud: Cloud, raw: RawAcs) -> None:
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)

    response = raw.post(f"{CONNECTIONS}/{call_id}/participants:add", {"sourceDisplayName": "Jack"})

    error = assert_error(response, 400, "8523")
    assert "participantToAdd" in error["message"]
    _still_works(raw, connection, call_id, before)
    assert cloud.teams_client(ART)["incomingCalls"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("participants:remove", {"operationContext": "x"}, id="remove-without-participantToRemove"),
        pytest.param(":transferToParticipant", {"operationContext": "x"}, id="transfer-without-targetParticipant"),
        pytest.param("participants:mute", {}, id="mute-without-targetParticipants"),
        pytest.param("participants:cancelAddParticipant", {}, id="cancel-without-invitationId"),
        pytest.param(":play", {"playSources": []}, id="play-without-sources"),
        pytest.param(":sendDtmfTones", {"tones": ["one"]}, id="dtmf-without-targetParticipant"),
    ],
)
def test_other_operations_missing_required_fields_are_400_8523(
    cloud: Cloud, raw: RawAcs, path: str, body: dict[str, Any]
) -> None:
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)
    separator = "/" if path.startswith("participants") else ""

    response = raw.post(f"{CONNECTIONS}/{call_id}{separator}{path}", body)

    assert_error(response, 400, "8523")
    _still_works(raw, connection, call_id, before)


@pytest.mark.parametrize(
    "identifier",
    [
        pytest.param(
            {"kind": "phoneNumber", "rawId": f"8:orgid:{ART}", "microsoftTeamsUser": {"userId": ART}},
            id="kind-does-not-match-sub-object",
        ),
        pytest.param({"rawId": "4:12345", "phoneNumber": {"value": "12345"}}, id="phone-not-e164"),
        pytest.param({"phoneNumber": {"value": "+1 (425) 555-0111"}}, id="phone-with-punctuation"),
        pytest.param(
            {"communicationUser": {"id": "8:acs:abc_def"}, "phoneNumber": {"value": "+14255550111"}},
            id="communicationUser-and-phoneNumber",
        ),
        pytest.param({"rawId": f"8:orgid:{ALEX}", "microsoftTeamsUser": {"userId": ART}}, id="rawId-mismatch"),
        pytest.param({"microsoftTeamsUser": {"cloud": "PUBLIC"}}, id="teams-user-without-userId"),
        pytest.param({"kind": "microsoftTeamsUser"}, id="kind-only"),
        pytest.param({"rawId": f"8:orgid:{ART}", "microsoftTeamsUser": {"userId": ART, "cloud": "MARS"}}, id="cloud"),
        pytest.param("8:orgid:" + ART, id="string-not-object"),
    ],
)
def test_wrong_identifier_shapes_are_400_8523_and_nobody_rings(
    virtual_cloud: Cloud, vraw: RawAcs, identifier: Any
) -> None:
    cloud, raw = virtual_cloud, vraw
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)

    response = raw.post(
        f"{CONNECTIONS}/{call_id}/participants:add",
        {"participantToAdd": identifier, "sourceCallerIdNumber": {"value": cloud.number}},
    )

    assert_error(response, 400, "8523")
    assert cloud.teams_client(ART)["incomingCalls"] == []
    _still_works(raw, connection, call_id, before)
    good = raw.post(f"{CONNECTIONS}/{call_id}/participants:add", {"participantToAdd": _teams(ART)})
    assert good.status_code == 202, good.text
    cloud.advance(1)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)


def test_sdk_phone_number_that_is_not_e164_is_refused_with_8523(cloud: Cloud) -> None:
    connection, _call_id = cloud.answered_call()

    with pytest.raises(HttpResponseError) as refused:
        connection.add_participant(
            PhoneNumberIdentifier("425-555-0111"), source_caller_id_number=PhoneNumberIdentifier(cloud.number)
        )

    _sdk_error(refused, 400, "8523")
    assert _raw_ids(connection) == {f"4:{CALLER}", f"4:{cloud.number}"}


# ---------------------------------------------------------------------- unknown calls and participants


def test_unknown_call_connection_is_404_8522_for_reads_and_actions(cloud: Cloud, raw: RawAcs) -> None:
    unknown = cloud.client().get_call_connection(str(uuid.uuid4()))

    with pytest.raises(ResourceNotFoundError) as read:
        unknown.get_call_properties()
    with pytest.raises(ResourceNotFoundError) as listed:
        list(unknown.list_participants())
    with pytest.raises(ResourceNotFoundError) as acted:
        unknown.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    with pytest.raises(ResourceNotFoundError) as hung_up:
        unknown.hang_up(is_for_everyone=False)

    for refused in (read, listed, acted, hung_up):
        _sdk_error(refused, 404, "8522")
    assert_error(raw.get(f"{CONNECTIONS}/{uuid.uuid4()}"), 404, "8522")
    connection, _call_id = cloud.answered_call()
    assert connection.get_call_properties().call_connection_state == "connected"


def test_unknown_participant_in_get_and_remove_is_404_8522(cloud: Cloud, raw: RawAcs) -> None:
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)

    with pytest.raises(ResourceNotFoundError) as got:
        connection.get_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX))
    with pytest.raises(ResourceNotFoundError) as removed:
        connection.remove_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX))
    with pytest.raises(ResourceNotFoundError) as got_phone:
        connection.get_participant(PhoneNumberIdentifier("+14255550999"))

    for refused in (got, removed, got_phone):
        _sdk_error(refused, 404, "8522")
    assert not cloud.app.events("RemoveParticipantSucceeded", call_id)
    assert not cloud.app.events("RemoveParticipantFailed", call_id)
    _still_works(raw, connection, call_id, before)
    assert connection.get_participant(PhoneNumberIdentifier(CALLER)).identifier.raw_id == f"4:{CALLER}"


# ---------------------------------------------------------------------- authentication


def test_wrong_key_is_401_denied_without_a_stack_trace(cloud: Cloud, raw: RawAcs) -> None:
    _connection, call_id = cloud.answered_call()
    wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmc="

    response = raw.get(f"{CONNECTIONS}/{call_id}", access_key=wrong_key)

    assert_error(response, 401, "Denied")
    assert raw.get(f"{CONNECTIONS}/{call_id}").status_code == 200


def test_sdk_with_the_wrong_key_raises_client_authentication_error(cloud: Cloud) -> None:
    connection, call_id = cloud.answered_call()
    endpoint = cloud.info["acs"]["endpoint"]
    stranger = CallAutomationClient(
        endpoint, AzureKeyCredential("d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="), connection_verify=cloud.ca_path
    )

    with pytest.raises(ClientAuthenticationError) as denied:
        stranger.get_call_connection(call_id).add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))

    _sdk_error(denied, 401, "Denied")
    assert cloud.teams_client(ART)["incomingCalls"] == []
    assert connection.get_call_properties().call_connection_state == "connected"


@pytest.mark.parametrize(
    "breakage",
    ["expired-date", "future-date", "missing-authorization", "tampered-body", "missing-content-hash", "garbage-scheme"],
)
def test_requests_that_do_not_verify_are_401_and_change_nothing(cloud: Cloud, raw: RawAcs, breakage: str) -> None:
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)
    path = f"{CONNECTIONS}/{call_id}/participants:add"
    body = {"participantToAdd": _teams(ART)}
    kwargs: dict[str, Any] = {}
    if breakage == "expired-date":
        kwargs["date"] = minutes_ago(20)
    elif breakage == "future-date":
        kwargs["date"] = minutes_ago(-20)
    elif breakage == "missing-authorization":
        kwargs["sign"] = False
    elif breakage == "tampered-body":
        kwargs["sent_content"] = json.dumps({"participantToAdd": _teams(MEGAN)}).encode()
    elif breakage == "missing-content-hash":
        kwargs["sign"] = False
        kwargs["headers"] = {"x-ms-date": http_date(), "Authorization": "HMAC-SHA256 SignedHeaders=x&Signature=AAAA"}
    else:
        kwargs["sign"] = False
        kwargs["headers"] = {"Authorization": "Basic dXNlcjpwYXNz"}

    response = raw.post(path, body, **kwargs)

    assert_error(response, 401, "Denied")
    assert cloud.teams_client(ART)["incomingCalls"] == []
    assert cloud.teams_client(MEGAN)["incomingCalls"] == []
    _still_works(raw, connection, call_id, before)
    assert raw.post(path, body).status_code == 202


# ---------------------------------------------------------------------- api-version


def test_malformed_api_version_is_400_invalid_api_version(cloud: Cloud, raw: RawAcs) -> None:
    _connection, call_id = cloud.answered_call()

    response = raw.get(f"{CONNECTIONS}/{call_id}", api_version="banana")

    assert_error(response, 400, "InvalidApiVersion")
    with pytest.raises(HttpResponseError) as refused:
        cloud.client(api_version="banana").get_call_connection(call_id).get_call_properties()
    _sdk_error(refused, 400, "InvalidApiVersion")
    assert raw.get(f"{CONNECTIONS}/{call_id}").status_code == 200


@pytest.mark.parametrize("api_version", ["", "2026-13-01", "2026-02-30", "2026-03-12-beta", "v1", "latest"])
def test_other_malformed_api_versions_are_400_invalid_api_version(
    virtual_cloud: Cloud, vraw: RawAcs, api_version: str
) -> None:
    _, call_id = virtual_cloud.answered_call()

    assert_error(vraw.get(f"{CONNECTIONS}/{call_id}", api_version=api_version), 400, "InvalidApiVersion")
    assert vraw.get(f"{CONNECTIONS}/{call_id}").status_code == 200


@pytest.mark.parametrize("api_version", ["2024-09-01-preview", "2023-10-03-preview", "2027-01-01"])
def test_preview_and_future_api_versions_are_accepted(virtual_cloud: Cloud, vraw: RawAcs, api_version: str) -> None:
    """Reference §9: accept any YYYY-MM-DD(-preview); the emulator's default policy is lenient."""
    _, call_id = virtual_cloud.answered_call()

    response = vraw.get(f"{CONNECTIONS}/{call_id}", api_version=api_version)

    assert response.status_code == 200, response.text
    assert response.json()["callConnectionId"] == call_id


def test_an_unknown_calling_operation_is_404_in_the_error_shape(virtual_cloud: Cloud, vraw: RawAcs) -> None:
    connection, call_id = virtual_cloud.answered_call()

    response = vraw.post(f"{CONNECTIONS}/{call_id}:explode", {})

    assert_error(response, 404, "NotFound")
    assert connection.get_call_properties().call_connection_state == "connected"


def test_missing_api_version_is_400_missing_api_version_parameter(cloud: Cloud, raw: RawAcs) -> None:
    _connection, call_id = cloud.answered_call()

    response = raw.get(f"{CONNECTIONS}/{call_id}", api_version=None)

    assert_error(response, 400, "MissingApiVersionParameter")
    assert raw.get(f"{CONNECTIONS}/{call_id}").status_code == 200


@pytest.mark.parametrize("api_version", SDK_API_VERSIONS)
def test_every_api_version_the_sdk_knows_answers_and_stamps_events(cloud: Cloud, api_version: str) -> None:
    incoming = cloud.incoming_call()
    client = cloud.client(api_version=api_version)

    answer = client.answer_call(incoming["data"]["incomingCallContext"], cloud.callback_url(), operation_context="v")
    call_id = answer.call_connection_id

    connected = cloud.app.wait_event("CallConnected", call_id)
    updated = cloud.app.wait_event("ParticipantsUpdated", call_id)
    assert connected["data"]["version"] == api_version
    assert updated["data"]["version"] == api_version
    connection = client.get_call_connection(call_id)
    assert _raw_ids(connection) == {f"4:{CALLER}", f"4:{cloud.number}"}
    answers = [
        e for e in cloud.journal(callConnectionId=call_id, kind="request") if e["detail"]["operation"] == "AnswerCall"
    ]
    assert [e["detail"]["target"].rpartition("api-version=")[2] for e in answers] == [api_version]
    connection.hang_up(is_for_everyone=True)
    assert cloud.app.wait_event("CallDisconnected", call_id)["data"]["version"] == api_version


# ---------------------------------------------------------------------- call state


def test_actions_before_the_call_is_established_are_400_8501(virtual_cloud: Cloud, vraw: RawAcs) -> None:
    """A created call stays ``connecting`` while its Teams target (Alex) lets it ring."""
    cloud = virtual_cloud
    created = cloud.client().create_call(MicrosoftTeamsUserIdentifier(user_id=ALEX), cloud.callback_url())
    call_id = created.call_connection_id
    assert created.call_connection_state == "connecting"
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")
    connection = cloud.client().get_call_connection(call_id)

    with pytest.raises(HttpResponseError) as add:
        connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    with pytest.raises(HttpResponseError) as play:
        connection.play_media(PROMPT)
    with pytest.raises(HttpResponseError) as transfer:
        connection.transfer_call_to_participant(MicrosoftTeamsUserIdentifier(user_id=ART))

    for refused in (add, play, transfer):
        _sdk_error(refused, 400, "8501")
    assert_error(
        vraw.post(
            f"{CONNECTIONS}/{call_id}:play", {"playSources": [{"kind": "file", "file": {"uri": "https://x/y.wav"}}]}
        ),
        400,
        "8501",
    )
    assert cloud.teams_client(ART)["incomingCalls"] == []
    assert connection.get_call_properties().call_connection_state == "connecting"
    assert len(cloud.teams_client(ALEX)["incomingCalls"]) == 1
    connection.hang_up(is_for_everyone=True)
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"] == [], what="Alex's toast to go")


def test_actions_on_a_terminated_call_are_400_8528_and_reads_are_404_8522(virtual_cloud: Cloud, vraw: RawAcs) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", call_id)

    with pytest.raises(HttpResponseError) as add:
        connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    with pytest.raises(HttpResponseError) as play:
        connection.play_media(PROMPT)
    with pytest.raises(HttpResponseError) as hang_up:
        connection.hang_up(is_for_everyone=True)
    with pytest.raises(ResourceNotFoundError) as read:
        connection.get_call_properties()

    for refused in (add, play, hang_up):
        _sdk_error(refused, 400, "8528")
    _sdk_error(read, 404, "8522")
    assert cloud.teams_client(ART)["incomingCalls"] == []
    assert cloud.app.types(call_id)[-1] == "CallDisconnected"
    second, _second_id = cloud.answered_call(caller="+14255550177")
    assert second.get_call_properties().call_connection_state == "connected"


# ---------------------------------------------------------------------- incomingCallContext


def test_answering_the_same_incoming_call_twice_is_400_8585(cloud: Cloud) -> None:
    incoming = cloud.incoming_call()
    context = incoming["data"]["incomingCallContext"]
    first = cloud.client().answer_call(context, cloud.callback_url())
    cloud.app.wait_event("CallConnected", first.call_connection_id)

    with pytest.raises(HttpResponseError) as again:
        cloud.client().answer_call(context, cloud.callback_url("second"))

    _sdk_error(again, 400, "8585")
    connection = cloud.client().get_call_connection(first.call_connection_id)
    assert connection.get_call_properties().call_connection_state == "connected"
    assert _raw_ids(connection) == {f"4:{CALLER}", f"4:{cloud.number}"}
    assert all(r.path.endswith("/main") for r in cloud.app.callbacks)


def test_answering_after_the_30_second_window_is_400_8587(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    incoming = cloud.incoming_call()
    cloud.advance(30)

    with pytest.raises(HttpResponseError) as late:
        cloud.client().answer_call(incoming["data"]["incomingCallContext"], cloud.callback_url())

    _sdk_error(late, 400, "8587")
    assert not cloud.app.events("CallConnected")
    connection, _call_id = cloud.answered_call(caller="+14255550178")
    assert connection.get_call_properties().call_connection_state == "connected"


def test_answering_just_inside_the_window_still_works(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    incoming = cloud.incoming_call()
    cloud.advance(29.5)

    answer = cloud.client().answer_call(incoming["data"]["incomingCallContext"], cloud.callback_url())

    cloud.app.wait_event("CallConnected", answer.call_connection_id)


def test_answering_after_the_caller_hung_up_is_400_8528(virtual_cloud: Cloud) -> None:
    """Reference §11.8 leaves this open; the emulator answers 400/8528 (call already terminated)."""
    cloud = virtual_cloud
    incoming = cloud.incoming_call()
    server_call_id = incoming["data"]["serverCallId"]
    cloud.ok(cloud.control.post(f"/pstn/calls/{quote(server_call_id, safe='')}:hangUp"))

    with pytest.raises(HttpResponseError) as gone:
        cloud.client().answer_call(incoming["data"]["incomingCallContext"], cloud.callback_url())

    _sdk_error(gone, 400, "8528")
    assert not cloud.app.events("CallConnected")
    connection, _ = cloud.answered_call(caller="+14255550179")
    assert connection.get_call_properties().call_connection_state == "connected"


@pytest.mark.parametrize("context", ["garbage", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJjYyI6Im5vcGUifQ.", "a" * 9000])
def test_a_garbage_incoming_call_context_is_400_8523(cloud: Cloud, context: str) -> None:
    incoming = cloud.incoming_call()

    with pytest.raises(HttpResponseError) as refused:
        cloud.client().answer_call(context, cloud.callback_url())

    _sdk_error(refused, 400, "8523")
    answer = cloud.client().answer_call(incoming["data"]["incomingCallContext"], cloud.callback_url())
    cloud.app.wait_event("CallConnected", answer.call_connection_id)


# ---------------------------------------------------------------------- participant operations


@pytest.mark.parametrize("timeout", [0, -1, 181, 3600])
def test_invitation_timeout_outside_1_to_180_is_400(virtual_cloud: Cloud, timeout: int) -> None:
    cloud = virtual_cloud
    connection, _call_id = cloud.answered_call()

    with pytest.raises(HttpResponseError) as refused:
        connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX), invitation_timeout=timeout)

    _sdk_error(refused, 400, "8523")
    assert cloud.teams_client(ALEX)["incomingCalls"] == []
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX), invitation_timeout=180)
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")


def test_adding_a_phone_number_without_source_caller_id_is_400(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    before = _raw_ids(connection)

    with pytest.raises(HttpResponseError) as refused:
        connection.add_participant(PhoneNumberIdentifier("+14255550111"))

    _sdk_error(refused, 400, "8523")
    assert _raw_ids(connection) == before
    connection.add_participant(
        PhoneNumberIdentifier("+14255550111"), source_caller_id_number=PhoneNumberIdentifier(cloud.number)
    )
    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    assert "4:+14255550111" in _raw_ids(connection)


def test_muting_a_teams_user_is_400_8523(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    cloud.advance(1)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    updates = cloud.app.wait_event("ParticipantsUpdated", call_id, count=2)["data"]["sequenceNumber"]

    with pytest.raises(HttpResponseError) as refused:
        connection.mute_participant(MicrosoftTeamsUserIdentifier(user_id=ART))

    _sdk_error(refused, 400, "8523")
    assert connection.get_participant(MicrosoftTeamsUserIdentifier(user_id=ART)).is_muted is False
    cloud.advance(1)
    assert cloud.app.events("ParticipantsUpdated", call_id)[-1]["data"]["sequenceNumber"] == updates


def test_transfer_in_a_group_call_without_transferee_is_400(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    cloud.advance(1)
    cloud.app.wait_event("AddParticipantSucceeded", call_id)
    before = _raw_ids(connection)

    with pytest.raises(HttpResponseError) as refused:
        connection.transfer_call_to_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX))

    _sdk_error(refused, 400, "8523")
    assert cloud.teams_client(ALEX)["incomingCalls"] == []
    assert connection.get_call_properties().call_connection_state == "connected"
    assert _raw_ids(connection) == before
    connection.transfer_call_to_participant(
        MicrosoftTeamsUserIdentifier(user_id=ALEX), transferee=PhoneNumberIdentifier(CALLER)
    )
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")


# ---------------------------------------------------------------------- repeatability


def test_same_repeatability_id_with_a_different_body_is_400_and_not_executed(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    headers = {"Repeatability-Request-ID": str(uuid.uuid4()), "Repeatability-First-Sent": http_date()}
    first = connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX), headers=dict(headers))

    with pytest.raises(HttpResponseError) as refused:
        connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=MEGAN), headers=dict(headers))

    _sdk_error(refused, 400, "RepeatabilityRequestMismatch")
    assert cloud.teams_client(MEGAN)["incomingCalls"] == []
    assert len(cloud.teams_client(ALEX)["incomingCalls"]) == 1
    replay = connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX), headers=dict(headers))
    assert replay.invitation_id == first.invitation_id
    connection.cancel_add_participant_operation(first.invitation_id)
    cloud.app.wait_event("CancelAddParticipantSucceeded", call_id)


def test_repeatability_first_sent_10_minutes_old_is_412_and_not_executed(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, _call_id = cloud.answered_call()
    headers = {"Repeatability-Request-ID": str(uuid.uuid4()), "Repeatability-First-Sent": minutes_ago(10)}

    with pytest.raises(HttpResponseError) as refused:
        connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX), headers=headers)

    _sdk_error(refused, 412, "RepeatabilityFirstSentOutOfWindow")
    assert cloud.teams_client(ALEX)["incomingCalls"] == []
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX))
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")
