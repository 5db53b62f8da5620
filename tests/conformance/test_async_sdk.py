"""The core Teams-user flows through the official async SDK (aiohttp transport, its own HMAC path signing)."""

from __future__ import annotations

import pytest
from azure.communication.callautomation import MicrosoftTeamsUserIdentifier, PhoneNumberIdentifier
from azure.communication.callautomation.aio import CallAutomationClient as AsyncCallAutomationClient
from azure.communication.callautomation.aio import CallConnectionClient as AsyncCallConnectionClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support.scenario import ALEX, ART, CALLER, MEGAN, Cloud, eventually

pytestmark = pytest.mark.anyio

JACK = "Jack (Contoso Tech Support)"
ART_RAW = f"8:orgid:{ART}"


def _teams(user_id: str) -> MicrosoftTeamsUserIdentifier:
    return MicrosoftTeamsUserIdentifier(user_id=user_id)


async def _answer(cloud: Cloud, client: AsyncCallAutomationClient) -> tuple[AsyncCallConnectionClient, str]:
    incoming = cloud.incoming_call()
    answer = await client.answer_call(
        incoming["data"]["incomingCallContext"], cloud.callback_url(), operation_context="async-answer"
    )
    assert answer.call_connection_state == "connecting"
    connected = cloud.app.wait_event("CallConnected", answer.call_connection_id)
    assert connected["data"]["operationContext"] == "async-answer"
    return client.get_call_connection(answer.call_connection_id), answer.call_connection_id


async def _raw_ids(connection: AsyncCallConnectionClient) -> set[str]:
    return {p.identifier.raw_id async for p in connection.list_participants()}


async def test_answer_add_list_remove_and_hang_up(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    async with cloud.async_client() as client:
        connection, call_id = await _answer(cloud, client)
        assert (await connection.get_call_properties()).call_connection_state == "connected"

        added = await connection.add_participant(_teams(ART), source_display_name=JACK, operation_context="add")
        assert added.invitation_id and added.participant.identifier.raw_id == ART_RAW
        toast = eventually(lambda: cloud.teams_client(ART)["incomingCalls"], what="Art's toast")[0]
        assert toast["sourceDisplayName"] == JACK
        cloud.advance(1)
        succeeded = cloud.app.wait_event("AddParticipantSucceeded", call_id)
        assert succeeded["data"]["operationContext"] == "add"
        assert await _raw_ids(connection) == {f"4:{CALLER}", f"4:{cloud.number}", ART_RAW}

        removed = await connection.remove_participant(_teams(ART), operation_context="remove")
        assert removed.operation_context == "remove"
        cloud.app.wait_event("RemoveParticipantSucceeded", call_id)
        assert await _raw_ids(connection) == {f"4:{CALLER}", f"4:{cloud.number}"}

        await connection.hang_up(is_for_everyone=False)
        assert cloud.app.wait_event("CallDisconnected", call_id)["data"]["resultInformation"]["subCode"] == 7000
        with pytest.raises(ResourceNotFoundError):
            await connection.get_call_properties()


async def test_transfer_hands_the_caller_to_the_teams_user(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    async with cloud.async_client() as client:
        connection, call_id = await _answer(cloud, client)

        result = await connection.transfer_call_to_participant(_teams(ART), operation_context="xfer")

        assert result.operation_context == "xfer"
        assert (await connection.get_call_properties()).call_connection_state == "transferring"
        cloud.advance(1)
        accepted = cloud.app.wait_event("CallTransferAccepted", call_id)
        assert accepted["data"]["transferTarget"]["rawId"] == ART_RAW
        assert accepted["data"]["transferee"]["rawId"] == f"4:{CALLER}"
        cloud.app.wait_event("CallDisconnected", call_id)
        roster = eventually(lambda: cloud.teams_client(ART)["activeCall"], what="Art in the call")["roster"]
        assert {p["rawId"] for p in roster} == {f"4:{CALLER}", ART_RAW}


async def test_failed_transfer_leaves_the_app_connected(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    async with cloud.async_client() as client:
        connection, call_id = await _answer(cloud, client)

        await connection.transfer_call_to_participant(_teams(MEGAN))
        cloud.advance(1)

        assert cloud.app.wait_event("CallTransferFailed", call_id)["data"]["resultInformation"]["code"] == 603
        assert (await connection.get_call_properties()).call_connection_state == "connected"


async def test_cancel_add_of_a_user_who_never_answers(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    async with cloud.async_client() as client:
        connection, call_id = await _answer(cloud, client)
        added = await connection.add_participant(_teams(ALEX), source_display_name=JACK)
        eventually(lambda: cloud.teams_client(ALEX)["incomingCalls"], what="Alex's toast")
        cloud.advance(30)

        cancelled = await connection.cancel_add_participant_operation(added.invitation_id, operation_context="stop")

        assert cancelled.invitation_id == added.invitation_id
        event = cloud.app.wait_event("CancelAddParticipantSucceeded", call_id)
        assert event["data"]["invitationId"] == added.invitation_id
        assert event["data"]["operationContext"] == "stop"
        assert cloud.teams_client(ALEX)["incomingCalls"] == []
        cloud.advance(180)
        assert not cloud.app.events("AddParticipantFailed", call_id)
        assert ALEX not in {i.removeprefix("8:orgid:") for i in await _raw_ids(connection)}


async def test_get_participant_on_a_teams_user_verifies_though_aiohttp_unescapes_the_path(
    virtual_cloud: Cloud,
) -> None:
    """The async SDK signs ``…/participants/8%3Aorgid%3A…`` but aiohttp/yarl sends ``…/participants/8:orgid:…``."""
    cloud = virtual_cloud
    async with cloud.async_client() as client:
        connection, call_id = await _answer(cloud, client)
        await connection.add_participant(_teams(ART))
        cloud.advance(1)
        cloud.app.wait_event("AddParticipantSucceeded", call_id)

        participant = await connection.get_participant(_teams(ART))
        caller = await connection.get_participant(PhoneNumberIdentifier(CALLER))

    assert participant.identifier.raw_id == ART_RAW
    assert participant.is_muted is False and participant.is_on_hold is False
    assert caller.identifier.raw_id == f"4:{CALLER}"
    gets = [
        e
        for e in cloud.journal(callConnectionId=call_id, kind="request")
        if e["detail"]["operation"] == "GetParticipant"
    ]
    targets = [e["detail"]["target"] for e in gets]
    assert any(f"/participants/{ART_RAW}?" in t for t in targets), targets
    statuses = [
        e["detail"]["status"]
        for e in cloud.journal(callConnectionId=call_id, kind="response")
        if e["summary"].endswith("GetParticipant")
    ]
    assert statuses == [200, 200]


async def test_async_errors_carry_the_service_code(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    async with cloud.async_client() as client:
        connection, _call_id = await _answer(cloud, client)

        with pytest.raises(ResourceNotFoundError) as missing:
            await connection.get_participant(_teams(ALEX))
        with pytest.raises(HttpResponseError) as refused:
            await connection.add_participant(_teams(ALEX), invitation_timeout=181)

    assert missing.value.error is not None and missing.value.error.code == "8522"
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == "8523"
