"""Presence through the official msgraph-sdk: one user, the batch, a call making a user Busy, and throttling."""

from __future__ import annotations

import uuid

import httpx
import pytest
from azure.communication.callautomation import CallInvite, MicrosoftTeamsUserIdentifier
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options.retry_handler_option import RetryHandlerOption
from msgraph import GraphServiceClient
from msgraph.generated.communications.get_presences_by_user_id.get_presences_by_user_id_post_request_body import (
    GetPresencesByUserIdPostRequestBody,
)
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from tests.graph.support import QUIET_SDK, raw_graph
from tests.support.scenario import ALEX, ART, DIEGO, LYNNE, Cloud, eventually

pytestmark = [pytest.mark.anyio, *QUIET_SDK]


async def _presence(graph: GraphServiceClient, user_id: str) -> tuple[str | None, str | None]:
    presence = await graph.users.by_user_id(user_id).presence.get()
    assert presence is not None and presence.id == user_id
    return presence.availability, presence.activity


async def test_presence_of_one_user(cloud: Cloud, graph: GraphServiceClient) -> None:
    assert await _presence(graph, ART) == ("Available", "Available")
    assert await _presence(graph, LYNNE) == ("DoNotDisturb", "DoNotDisturb")
    assert await _presence(graph, DIEGO) == ("Offline", "Offline")


async def test_batch_presence_answers_every_id(cloud: Cloud, graph: GraphServiceClient) -> None:
    stranger = str(uuid.uuid4())
    body = GetPresencesByUserIdPostRequestBody(ids=[ART, ALEX, DIEGO, stranger])

    result = await graph.communications.get_presences_by_user_id.post(body)

    assert result is not None and result.value is not None
    assert {p.id: (p.availability, p.activity) for p in result.value} == {
        ART: ("Available", "Available"),
        ALEX: ("Away", "Away"),
        DIEGO: ("Offline", "Offline"),
        stranger: ("PresenceUnknown", "PresenceUnknown"),
    }


async def test_a_call_makes_the_user_busy_in_a_call_until_it_ends(cloud: Cloud, graph: GraphServiceClient) -> None:
    connection, call_id = cloud.answered_call()
    connection.add_participant(CallInvite(MicrosoftTeamsUserIdentifier(user_id=ART)), source_display_name="Jack")
    cloud.app.wait_event("AddParticipantSucceeded", call_id)

    assert await _presence(graph, ART) == ("Busy", "InACall")

    connection.remove_participant(MicrosoftTeamsUserIdentifier(user_id=ART))
    eventually(lambda: cloud.teams_client(ART)["activeCall"] is None, what="Art to leave the call")
    assert await _presence(graph, ART) == ("Available", "Available")


async def test_presence_is_throttled_per_app_with_retry_after(cloud: Cloud, graph: GraphServiceClient) -> None:
    cloud.ok(cloud.control.patch("/teams/settings", json={"presenceRequestsPerWindow": 2, "presenceWindowSeconds": 20}))
    await _presence(graph, ART)
    await _presence(graph, ART)
    no_retry = RequestConfiguration(options=[RetryHandlerOption(max_retries=0, should_retry=False)])

    with pytest.raises(ODataError) as raised:
        await graph.users.by_user_id(ART).presence.get(request_configuration=no_retry)

    assert raised.value.response_status_code == 429
    assert raised.value.error is not None and raised.value.error.code == "TooManyRequests"
    with raw_graph(cloud) as http:
        refused = http.get(f"/users/{ART}/presence")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 20


async def test_delegated_only_rule_refuses_app_tokens_but_not_users(cloud: Cloud, graph: GraphServiceClient) -> None:
    cloud.ok(cloud.control.patch("/teams/settings", json={"presenceDelegatedOnly": True}))

    with pytest.raises(ODataError) as raised:
        await graph.users.by_user_id(ART).presence.get()

    assert raised.value.response_status_code == 403
    emulator = cloud.emulator.cloud
    app = emulator.tenant.apps[cloud.info["graph"]["demoApp"]["clientId"]]
    token = emulator.tokens.issue_user_token(app, emulator.tenant.users[ALEX], ["Presence.Read.All"])
    answer = httpx.get(
        f"{cloud.info['graph']['httpBaseUrl']}/users/{ART}/presence", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.json()["availability"] == "Available"
