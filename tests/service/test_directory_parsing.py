"""The directory's Graph client on Graph's real JSON shapes: users, licences, presence and the error envelope,
served by an in-process transport behind msgraph-core's middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from callbridge.service.directory import (
    AmbiguousUser,
    Directory,
    DirectoryError,
    DirectoryUser,
    Throttled,
    UserNotFound,
)
from callbridge.service.graph import GraphClient, GraphError, GraphUser, Presence, PresencePage, UserPage, user_path
from callbridge.service.settings import ServiceSettings

pytestmark = pytest.mark.anyio

ART_ID = "fc4ccb5f-8046-4812-803f-6c344a5d1560"
ART = {
    "businessPhones": [],
    "displayName": "Art Anderson",
    "givenName": "Art",
    "jobTitle": None,
    "mail": "artanderson@contoso.com",
    "mobilePhone": None,
    "officeLocation": None,
    "preferredLanguage": None,
    "surname": "Anderson",
    "userPrincipalName": "artanderson@contoso.com",
    "id": ART_ID,
    "department": "Sales",
    "userType": "Member",
    "accountEnabled": True,
}
USERS_PAGE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
    "@odata.count": 1,
    "value": [ART],
    "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$top=1&$skiptoken=RFNwdAIAAQAAAC",
}
THROTTLED = {
    "error": {
        "code": "Request_ThrottledTemporarily",
        "message": "Too many requests from Identifier:app under category:throttle.aad.ags.appId.large.",
        "innerError": {"date": "2026-01-01T00:00:00", "request-id": "r", "client-request-id": "c"},
    }
}
NOT_FOUND = {
    "error": {
        "code": "Request_ResourceNotFound",
        "message": f"Resource '{ART_ID}' does not exist or one of its queried reference-property objects are not "
        "present.",
        "innerError": {"date": "2026-01-01T00:00:00", "request-id": "r", "client-request-id": "c"},
    }
}
Handler = Callable[[httpx.Request], httpx.Response]


def graph_serving(handler: Handler, seen: list[httpx.Request] | None = None) -> GraphClient:
    """A Graph client whose requests ``handler`` answers in-process (recorded into ``seen``)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    transport = httpx.MockTransport(answer)
    return GraphClient(httpx.AsyncClient(base_url="https://graph.microsoft.com/v1.0", transport=transport))


def directory_serving(handler: Handler, seen: list[httpx.Request] | None = None) -> Directory:
    """A Directory on ``graph_serving(handler)`` (its credential is never asked for a token)."""
    settings = ServiceSettings(
        graph_tenant_id="contoso", graph_client_id="app", graph_client_secret=SecretStr("secret")
    )
    directory = Directory(settings)
    directory.graph = graph_serving(handler, seen)
    return directory


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(status, json=body, headers=headers)


async def test_a_page_of_users_reads_the_selected_properties_and_ignores_the_rest() -> None:
    page = await graph_serving(json_answer(200, USERS_PAGE)).get("/users", UserPage)

    [art] = page.value
    assert DirectoryUser.from_graph(art) == DirectoryUser(
        id=ART_ID,
        display_name="Art Anderson",
        user_principal_name="artanderson@contoso.com",
        mail="artanderson@contoso.com",
        job_title=None,
        department="Sales",
        user_type="Member",
        account_enabled=True,
    )


async def test_a_user_without_a_display_name_is_shown_by_id() -> None:
    user = GraphUser.model_validate({"id": ART_ID, "displayName": None})

    assert DirectoryUser.from_graph(user).display_name == ART_ID


async def test_an_empty_page_and_a_page_without_value_have_no_users() -> None:
    assert UserPage.model_validate({"@odata.context": "…#users", "value": []}).value == []
    assert UserPage.model_validate({"@odata.context": "…#users"}).value == []


async def test_a_user_without_an_id_is_an_unreadable_answer() -> None:
    client = graph_serving(json_answer(200, {"value": [{"displayName": "Nobody"}]}))

    with pytest.raises(GraphError) as refused:
        await client.get("/users", UserPage)

    assert (refused.value.status, refused.value.code) == (200, "UnreadableResponse")


async def test_teams_phone_is_an_enabled_mcoev_plan_in_assigned_plans() -> None:
    def plan(service_plan_id: str, status: str) -> dict[str, str]:
        return {
            "assignedDateTime": "2026-01-01T00:00:00Z",
            "capabilityStatus": status,
            "service": "MicrosoftCommunicationsOnline",
            "servicePlanId": service_plan_id,
        }

    mcoev, teams = "4828C8EC-DC2E-4779-B502-87AC9CE28AB7", "57ff2da0-773e-42df-b2af-ffb7a2317929"
    answers = {
        "licensed": [plan(teams, "Enabled"), plan(mcoev, "Enabled")],
        "suspended": [plan(mcoev, "Suspended")],
        "teams-only": [plan(teams, "Enabled")],
    }
    seen: list[httpx.Request] = []
    directory = directory_serving(
        lambda request: httpx.Response(
            200, json={"id": ART_ID, "assignedPlans": answers[request.url.path.split("/")[-1]]}
        ),
        seen,
    )

    assert [await directory.has_teams_phone(user) for user in answers] == [True, False, False]
    assert seen[0].url.params["$select"] == "id,assignedPlans"


async def test_presence_of_one_user_and_of_a_batch() -> None:
    one = {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{ART_ID}')/presence/$entity",
        "id": ART_ID,
        "availability": "Busy",
        "activity": "InACall",
        "statusMessage": None,
        "sequenceNumber": "C2D6F4A1",
        "outOfOfficeSettings": {"message": None, "isOutOfOffice": False},
    }
    batch = {"value": [one, {"id": "other", "availability": "Offline", "activity": "OffWork"}]}

    assert Presence.model_validate(one) == Presence(id=ART_ID, availability="Busy", activity="InACall")
    assert [p.availability for p in PresencePage.model_validate(batch).value] == ["Busy", "Offline"]


async def test_batch_presence_posts_the_ids_and_fills_what_graph_leaves_out() -> None:
    seen: list[httpx.Request] = []
    answer = {"value": [{"id": ART_ID, "availability": "Available", "activity": "Available"}, {"id": "x"}]}
    directory = directory_serving(json_answer(200, answer), seen)

    found = await directory.presence([ART_ID, "x"])

    assert (seen[0].method, seen[0].url.path) == ("POST", "/v1.0/communications/getPresencesByUserId")
    assert httpx.Response(200, content=seen[0].content).json() == {"ids": [ART_ID, "x"]}
    assert {k: (v.availability, v.reachable) for k, v in found.items()} == {
        ART_ID: ("Available", True),
        "x": ("PresenceUnknown", True),
    }


async def test_a_name_search_asks_with_consistency_level_through_the_graph_middleware() -> None:
    seen: list[httpx.Request] = []
    directory = directory_serving(json_answer(200, USERS_PAGE), seen)

    assert (await directory.find("Art Anderson")).id == ART_ID

    [request] = seen
    assert dict(request.url.params) == {
        "$select": "id,displayName,userPrincipalName,mail,jobTitle,department,userType,accountEnabled",
        "$top": "25",
        "$search": '"displayName:Art Anderson"',
        "$count": "true",
    }
    assert b"displayName%3AArt%20Anderson" in request.url.query, "spaces go as %20, never an ambiguous +"
    assert request.headers["ConsistencyLevel"] == "eventual"
    assert "client-request-id" in request.headers, "msgraph-core's telemetry middleware ran"


async def test_several_people_by_one_name_are_refused() -> None:
    twin = ART | {"id": "0c9b5a44-0ba4-4f7e-9d4c-50d4c5e1f0b1", "userPrincipalName": "art2@contoso.com"}
    directory = directory_serving(json_answer(200, {"value": [ART, twin]}))

    with pytest.raises(AmbiguousUser, match="matches several people: Art Anderson"):
        await directory.find("Art Anderson")


async def test_a_upn_is_one_escaped_path_segment_and_404_means_not_found() -> None:
    guest = "art_fabrikam.com#EXT#@contoso.onmicrosoft.com"
    seen: list[httpx.Request] = []
    directory = directory_serving(
        lambda request: (
            httpx.Response(404, json=NOT_FOUND)
            if request.url.path != "/v1.0/users"
            else httpx.Response(200, json={"value": []})
        ),
        seen,
    )

    with pytest.raises(UserNotFound, match=f"no user {guest!r} in the directory"):
        await directory.find(guest)

    assert user_path(guest) == "/users/art_fabrikam.com%23EXT%23%40contoso.onmicrosoft.com"
    assert seen[0].url.raw_path.startswith(b"/v1.0/users/art_fabrikam.com%23EXT%23%40contoso.onmicrosoft.com?")
    assert seen[1].url.params["$filter"] == f"mail eq '{guest}'"


async def test_throttling_surfaces_as_throttled_with_retry_after() -> None:
    # A Retry-After above the middleware's 180 s ceiling is not retried, so the 429 surfaces at once.
    directory = directory_serving(json_answer(429, THROTTLED, {"Retry-After": "600"}))

    with pytest.raises(Throttled) as throttled:
        await directory.presence([ART_ID], fresh=True)

    assert str(throttled.value) == "Graph is throttling this app (Request_ThrottledTemporarily); retry after 600.0 s"
    assert throttled.value.retry_after == 600.0


async def test_refusals_say_which_permissions_to_grant() -> None:
    denied = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges."}}
    directory = directory_serving(json_answer(403, denied))

    with pytest.raises(DirectoryError) as refused:
        await directory.has_teams_phone(ART_ID)

    assert str(refused.value) == (
        "Graph refused (Authorization_RequestDenied: Insufficient privileges.); grant the app User.Read.All and "
        "Presence.Read.All application permissions with admin consent"
    )


def test_error_envelopes_in_either_spelling_and_bodies_that_are_not_graph_errors() -> None:
    lower = {"error": {"code": "accessDenied", "message": "Denied.", "innererror": {"code": "x"}}}

    denied = GraphError.from_response(httpx.Response(403, json=lower))
    gateway = GraphError.from_response(httpx.Response(502, text="<html>Bad Gateway</html>"))
    throttled = GraphError.from_response(httpx.Response(429, json=THROTTLED, headers={"retry-after": "soon"}))

    assert (denied.status, denied.code, denied.message) == (403, "accessDenied", "Denied.")
    assert (gateway.status, gateway.code, gateway.message) == (502, "", "Bad Gateway")
    assert (throttled.code, throttled.retry_after) == ("Request_ThrottledTemporarily", None)
