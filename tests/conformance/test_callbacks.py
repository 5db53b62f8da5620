"""Mid-call callbacks as an app receives them: signed JWTs, CloudEvents envelopes, retries, recorded shapes."""

from __future__ import annotations

import socket
import ssl
import uuid
from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest
from azure.communication.callautomation import FileSource, MicrosoftTeamsUserIdentifier, PhoneNumberIdentifier
from azure.core.messaging import CloudEvent

from tests.support.receiver import Received
from tests.support.scenario import ALEX, CALLER, Cloud, eventually

ISSUER = "https://acscallautomation.communication.azure.com"
ENVELOPE_KEYS = {"id", "source", "type", "data", "time", "specversion", "datacontenttype", "subject"}
COMMON_DATA_KEYS = {"version", "callConnectionId", "serverCallId", "correlationId", "publicEventType"}
RESULT = "resultInformation"
OTHER_CALLER = "+14255550199"
PROMPT = FileSource(url="https://contoso.example/prompt.wav")


def _https(cloud: Cloud) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=cloud.ca_path), timeout=10)


def _jwks(cloud: Cloud) -> dict[str, Any]:
    with _https(cloud) as http:
        response = http.get(cloud.info["urls"]["https"] + "/calling/keys")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _verify(token: str, jwks: dict[str, Any], audience: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header = jwt.get_unverified_header(token)
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
    assert header["kid"] in keys, (header, list(keys))
    claims = jwt.decode(
        token,
        keys[header["kid"]],
        algorithms=["RS256"],
        audience=audience,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "aud"]},
    )
    return header, claims


def _bearer(received: Received) -> str:
    scheme, _, token = received.headers.get("authorization", "").partition(" ")
    assert scheme == "Bearer" and token, received.headers
    return token


def _wait_quiet_call(cloud: Cloud) -> tuple[Any, str]:
    """An answered call whose CallConnected and first ParticipantsUpdated have both arrived."""
    connection, call_id = cloud.answered_call()
    cloud.app.wait_event("ParticipantsUpdated", call_id)
    return connection, call_id


def _callback_attempts(cloud: Cloud, call_id: str, event_type: str) -> list[dict[str, Any]]:
    return [
        e for e in cloud.journal(callConnectionId=call_id, kind="callback") if e["summary"].startswith(f"{event_type} ")
    ]


# ---------------------------------------------------------------------- JWT


def test_every_callback_carries_a_bearer_jwt_that_verifies_against_the_published_keys(cloud: Cloud) -> None:
    connection, call_id = _wait_quiet_call(cloud)
    connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX))
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", call_id)
    jwks = _jwks(cloud)

    deliveries = [r for r in cloud.app.callbacks if r.body[0]["data"]["callConnectionId"] == call_id]

    assert len(deliveries) >= 3
    for received in deliveries:
        header, claims = _verify(_bearer(received), jwks, cloud.resource_id)
        assert header["alg"] == "RS256"
        assert claims["iss"] == ISSUER
        assert claims["aud"] == cloud.resource_id
        assert claims["exp"] - claims["iat"] == 300
        assert claims["iat"] <= datetime.now().timestamp() + 5


def test_a_token_for_another_audience_or_a_forged_key_does_not_verify(cloud: Cloud) -> None:
    _connection, _call_id = _wait_quiet_call(cloud)
    token = _bearer(cloud.app.callbacks[0])
    jwks = _jwks(cloud)

    with pytest.raises(jwt.InvalidAudienceError):
        _verify(token, jwks, str(uuid.uuid4()))
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-6]}AAAAAA"
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(forged, jwks, cloud.resource_id)


def test_openid_configuration_names_the_issuer_and_a_jwks_uri_that_serves_the_keys(cloud: Cloud) -> None:
    with _https(cloud) as http:
        config = http.get(cloud.info["urls"]["https"] + "/calling/.well-known/acsopenidconfiguration")
        assert config.status_code == 200, config.text
        document = config.json()
        keys = http.get(document["jwks_uri"])

    assert document["issuer"] == ISSUER
    assert keys.status_code == 200
    assert keys.json() == _jwks(cloud)
    assert all(k["kty"] == "RSA" and k.get("kid") for k in keys.json()["keys"])
    assert cloud.info["acs"]["callbackIssuer"] == ISSUER
    assert cloud.info["acs"]["jwksUri"] == document["jwks_uri"]


# ---------------------------------------------------------------------- envelope


def test_each_callback_is_an_array_of_one_cloudevent_with_the_recorded_envelope(cloud: Cloud) -> None:
    connection, call_id = _wait_quiet_call(cloud)
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", call_id)
    deliveries = [r for r in cloud.app.callbacks if r.body[0]["data"]["callConnectionId"] == call_id]
    subject = f"calling/callConnections/{call_id}"

    assert [r.body[0]["type"] for r in deliveries] == [
        "Microsoft.Communication.CallConnected",
        "Microsoft.Communication.ParticipantsUpdated",
        "Microsoft.Communication.CallDisconnected",
    ]
    ids = set()
    for received in deliveries:
        assert received.headers["content-type"].startswith("application/json")
        assert isinstance(received.body, list) and len(received.body) == 1
        event = received.body[0]
        assert set(event) == ENVELOPE_KEYS, set(event) ^ ENVELOPE_KEYS
        assert event["source"] == event["subject"] == subject
        assert event["specversion"] == "1.0"
        assert event["datacontenttype"] == "application/json"
        ids.add(str(uuid.UUID(event["id"])))
        assert datetime.fromisoformat(event["time"]).tzinfo is not None
        data = event["data"]
        assert set(data) >= COMMON_DATA_KEYS
        assert data["publicEventType"] == event["type"]
        assert data["callConnectionId"] == call_id
        assert data["version"] == "2026-03-12"
        parsed: CloudEvent[Any] = CloudEvent.from_dict(event)
        assert parsed.type == event["type"] and parsed.source == subject and parsed.id == event["id"]
        assert parsed.data == data and parsed.time is not None
    assert len(ids) == len(deliveries)
    assert len({r.body[0]["data"]["serverCallId"] for r in deliveries}) == 1
    assert len({r.body[0]["data"]["correlationId"] for r in deliveries}) == 1


# ---------------------------------------------------------------------- retries


def test_a_503_is_retried_until_the_app_takes_the_event(cloud: Cloud) -> None:
    connection, call_id = _wait_quiet_call(cloud)
    cloud.app.callback_statuses[:] = [503, 503]

    connection.send_dtmf_tones(["one"], PhoneNumberIdentifier(CALLER))

    cloud.app.wait_event("SendDtmfTonesCompleted", call_id, count=3, timeout=10)
    attempts = eventually(
        lambda: found if len(found := _callback_attempts(cloud, call_id, "SendDtmfTonesCompleted")) == 3 else None,
        what="three journalled attempts",
    )
    assert [a["detail"]["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["detail"]["status"] for a in attempts] == [503, 503, 200]
    assert [a["detail"]["final"] for a in attempts] == [False, False, True]
    assert attempts[-1]["detail"]["jwt"]["verdict"] == "accepted"
    delivered = cloud.app.events("SendDtmfTonesCompleted", call_id)
    assert len({e["id"] for e in delivered}) == 1, "a retry redelivers the same event"
    jwks = _jwks(cloud)
    tokens = [_bearer(r) for r in cloud.app.callbacks if r.body[0]["type"].endswith("SendDtmfTonesCompleted")]
    assert len(tokens) == 3
    for token in tokens:
        _verify(token, jwks, cloud.resource_id)


def test_a_401_is_not_retried_and_the_journal_says_the_app_rejected_the_token(cloud: Cloud) -> None:
    connection, call_id = _wait_quiet_call(cloud)
    cloud.app.callback_statuses[:] = [401]

    connection.send_dtmf_tones(["two"], PhoneNumberIdentifier(CALLER))
    connection.play_media(PROMPT, operation_context="after")

    cloud.app.wait_event("PlayStarted", call_id)
    attempts = _callback_attempts(cloud, call_id, "SendDtmfTonesCompleted")
    assert [a["detail"]["status"] for a in attempts] == [401]
    assert attempts[0]["detail"]["final"] is True
    assert attempts[0]["detail"]["jwt"]["verdict"] == "rejected by the app"
    assert len(cloud.app.events("SendDtmfTonesCompleted", call_id)) == 1


def _answer(cloud: Cloud, callback_url: str) -> str:
    """Answer a new PSTN call with the given callback URL; its call connection id."""
    incoming = cloud.incoming_call()
    context = incoming["data"]["incomingCallContext"]
    return str(cloud.client().answer_call(incoming_call_context=context, callback_url=callback_url).call_connection_id)


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/callbacks/gone"


def _event_types(attempts: list[dict[str, Any]]) -> list[str]:
    return [attempt["summary"].split(" ", 1)[0] for attempt in attempts]


def test_an_invalid_callback_uri_is_journalled_for_every_event_while_another_call_goes_on(cloud: Cloud) -> None:
    broken = _answer(cloud, "http://[::1")
    connection, fine = cloud.answered_call(OTHER_CALLER)

    cloud.client().get_call_connection(broken).hang_up(is_for_everyone=True)
    attempts = eventually(
        lambda: (
            found
            if (found := cloud.journal(callConnectionId=broken, kind="callback"))
            and _event_types(found)[-1] == "CallDisconnected"
            else None
        ),
        what="CallDisconnected attempted",
    )
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", fine)

    assert _event_types(attempts)[0] == "CallConnected"
    assert {(a["detail"]["attempt"], a["detail"]["status"], a["detail"]["final"]) for a in attempts} == {
        (1, None, True)
    }
    assert {a["detail"]["error"] for a in attempts} == {"InvalidURL: Invalid port: ':1'"}
    assert cloud.app.events(call_connection_id=broken) == []
    assert cloud.app.types(fine) == ["CallConnected", "ParticipantsUpdated", "CallDisconnected"]


def test_an_unreachable_app_gets_each_event_retried_on_the_clock_and_then_the_next(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    unreachable = _answer(cloud, _closed_port_url())
    connection, fine = cloud.answered_call(OTHER_CALLER)
    cloud.client().get_call_connection(unreachable).hang_up(is_for_everyone=True)

    attempts: list[dict[str, Any]] = []
    while not attempts or not (_event_types(attempts)[-1] == "CallDisconnected" and attempts[-1]["detail"]["final"]):
        seen = len(attempts)
        attempts = eventually(
            lambda seen=seen: (
                found if len(found := cloud.journal(callConnectionId=unreachable, kind="callback")) > seen else None
            ),
            what="the next attempt",
        )
        last = attempts[-1]["detail"]
        if not last["final"]:
            cloud.advance(0.5 if last["attempt"] == 1 else 2.0)  # the default back-off
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", fine)

    types = _event_types(attempts)
    assert types[0] == "CallConnected" and types[-1] == "CallDisconnected"
    assert types == [event_type for event_type in dict.fromkeys(types) for _ in range(3)]
    assert [a["detail"]["attempt"] for a in attempts] == [1, 2, 3] * (len(attempts) // 3)
    assert [a["detail"]["final"] for a in attempts] == [False, False, True] * (len(attempts) // 3)
    assert {a["detail"]["error"] for a in attempts} == {"connection refused"}
    assert cloud.app.types(fine) == ["CallConnected", "ParticipantsUpdated", "CallDisconnected"]


# ---------------------------------------------------------------------- recorded shapes


def _shape(value: Any) -> Any:
    """The key structure of a payload, ignoring ids, times and other values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def test_event_data_matches_the_recorded_service_payloads(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    invitation = connection.add_participant(MicrosoftTeamsUserIdentifier(user_id=ALEX)).invitation_id
    eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")
    connection.cancel_add_participant_operation(invitation)
    cloud.app.wait_event("CancelAddParticipantSucceeded", call_id)
    connection.hang_up(is_for_everyone=True)
    cloud.app.wait_event("CallDisconnected", call_id)

    def data(event_type: str) -> dict[str, Any]:
        return dict(cloud.app.wait_event(event_type, call_id)["data"])

    # Recorded (2024-04-15, test_add_participant_then_cancel_request) plus resultInformation, which the
    # service adds in later versions (reference §4.1-4.3).
    assert set(data("CallConnected")) == COMMON_DATA_KEYS | {RESULT}
    assert set(data("CancelAddParticipantSucceeded")) == COMMON_DATA_KEYS | {RESULT, "invitationId"}
    assert data("CancelAddParticipantSucceeded")["invitationId"] == invitation
    disconnected = data("CallDisconnected")
    assert set(disconnected) == COMMON_DATA_KEYS | {RESULT}
    assert disconnected[RESULT] == {
        "code": 200,
        "subCode": 7000,
        "message": "Call was ended by Azure Communication Service Call Automation API or a server bot. DiagCode: 0#7000.@",
    }
    updated = data("ParticipantsUpdated")
    assert set(updated) == COMMON_DATA_KEYS | {RESULT, "participants", "sequenceNumber"}
    assert updated[RESULT] == {"code": 200, "subCode": 0, "message": ""}
    assert isinstance(updated["sequenceNumber"], int)
    for participant in updated["participants"]:
        assert set(participant) == {"identifier", "isMuted", "isOnHold"}
        assert isinstance(participant["isMuted"], bool) and isinstance(participant["isOnHold"], bool)
        identifier = participant["identifier"]
        assert list(identifier)[:2] == ["rawId", "kind"]
        assert set(identifier) == {"rawId", "kind", identifier["kind"]}
    recorded_update = {
        "participants": [
            {
                "identifier": {"rawId": "str", "kind": "str", "phoneNumber": {"value": "str"}},
                "isMuted": "bool",
                "isOnHold": "bool",
            }
        ]
        * 2,
        "sequenceNumber": "int",
        RESULT: {"code": "int", "subCode": "int", "message": "str"},
        **dict.fromkeys(COMMON_DATA_KEYS, "str"),
    }
    assert _shape(updated) == recorded_update
