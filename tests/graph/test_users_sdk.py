"""User lookup through the official msgraph-sdk: $search, paging, licences and the documented errors."""

from __future__ import annotations

from typing import Any

import pytest
from azure.identity import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from callbridge.emulator.teams.licences import TEAMS_PHONE_PLAN
from tests.graph.support import QUIET_SDK, MintedCredential, app_minter, eventual, graph_client, register_app
from tests.support.scenario import ART, Cloud

pytestmark = [pytest.mark.anyio, *QUIET_SDK]

Query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters
TEAMS_PHONE_SKU = "e43b5b99-8dfb-405f-9987-dc307f34bcbd"


async def test_search_finds_art_anderson_with_the_consistency_header(cloud: Cloud, graph: GraphServiceClient) -> None:
    params = Query(search='"displayName:Art Anderson"', select=["id", "displayName", "mail"], count=True, top=25)

    page = await graph.users.get(request_configuration=eventual(params=params))

    assert page is not None and page.value is not None
    assert [u.id for u in page.value] == [ART]
    assert page.value[0].display_name == "Art Anderson"
    assert page.odata_count == 1
    assert page.odata_next_link is None


async def test_search_without_the_header_is_refused(cloud: Cloud, graph: GraphServiceClient) -> None:
    config = RequestConfiguration(query_parameters=Query(search='"displayName:Art"'))

    with pytest.raises(ODataError) as raised:
        await graph.users.get(request_configuration=config)

    error = raised.value
    assert error.response_status_code == 400
    assert error.error is not None and error.error.code == "Request_UnsupportedQuery"
    assert error.error.message == (
        "Request with $search query parameter only works through MSGraph with a special request header: "
        "'ConsistencyLevel: eventual'"
    )
    assert error.error.inner_error is not None and error.error.inner_error.request_id


async def test_unquoted_search_is_a_syntax_error(cloud: Cloud, graph: GraphServiceClient) -> None:
    with pytest.raises(ODataError) as raised:
        await graph.users.get(request_configuration=eventual(params=Query(search="displayName:aname")))

    assert raised.value.response_status_code == 400
    assert raised.value.error is not None and raised.value.error.code == "BadRequest"
    assert (
        raised.value.error.message == "Syntax error: character ':' is not valid at position 11 in 'displayName:aname'."
    )


async def test_pages_through_2500_users_with_next_links(cloud: Cloud, graph: GraphServiceClient) -> None:
    people = [{"displayName": f"Load Tester {n:04d}", "licenses": []} for n in range(2500)]
    cloud.ok(cloud.control.post("/teams/users", json={"value": people}))
    total = len(cloud.ok(cloud.control.get("/teams/users")).json()["value"])
    config = eventual(params=Query(top=999, count=True, select=["id", "displayName"]))

    page = await graph.users.get(request_configuration=config)
    assert page is not None and page.odata_count == total
    seen = [u.id for u in page.value or []]
    sizes = [len(page.value or [])]
    while page is not None and page.odata_next_link:
        assert page.odata_next_link.startswith(cloud.info["graph"]["httpBaseUrl"] + "/users?")
        page = await graph.users.with_url(page.odata_next_link).get(request_configuration=config)
        assert page is not None and page.odata_count is None
        seen.extend(u.id for u in page.value or [])
        sizes.append(len(page.value or []))

    assert sizes == [999, 999, total - 1998]
    assert len(seen) == len(set(seen)) == total


async def test_teams_phone_licence_through_assigned_plans_and_licence_details(
    cloud: Cloud, graph: GraphServiceClient
) -> None:
    cloud.set_user(ART, licenses=["ENTERPRISEPACK", {"skuId": TEAMS_PHONE_SKU, "disabledPlans": [TEAMS_PHONE_PLAN]}])
    select = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
        select=["id", "assignedPlans", "assignedLicenses"]
    )

    user = await graph.users.by_user_id(ART).get(request_configuration=RequestConfiguration(query_parameters=select))
    details = await graph.users.by_user_id(ART).license_details.get()

    assert user is not None and user.assigned_plans is not None and user.assigned_licenses is not None
    phone = [p for p in user.assigned_plans if str(p.service_plan_id) == TEAMS_PHONE_PLAN]
    assert [(p.capability_status, p.service) for p in phone] == [("Deleted", "MicrosoftCommunicationsOnline")]
    assert {str(lic.sku_id) for lic in user.assigned_licenses} == {
        TEAMS_PHONE_SKU,
        "6fd2c87f-b296-42f0-b197-1e91e994b900",
    }
    assert details is not None and details.value is not None
    by_sku = {d.sku_part_number: d for d in details.value}
    plan = next(p for p in by_sku["MCOEV"].service_plans or [] if str(p.service_plan_id) == TEAMS_PHONE_PLAN)
    assert (plan.service_plan_name, plan.provisioning_status, plan.applies_to) == ("MCOEV", "Disabled", "User")
    assert all(p.provisioning_status == "Success" for p in by_sku["ENTERPRISEPACK"].service_plans or [])


async def test_filter_on_an_assigned_plan_needs_advanced_parameters(cloud: Cloud, graph: GraphServiceClient) -> None:
    text = f"assignedPlans/any(a:a/servicePlanId eq {TEAMS_PHONE_PLAN})"
    with pytest.raises(ODataError) as raised:
        await graph.users.get(request_configuration=RequestConfiguration(query_parameters=Query(filter=text)))
    assert raised.value.error is not None and raised.value.error.code == "Request_UnsupportedQuery"

    page = await graph.users.get(request_configuration=eventual(params=Query(filter=text, count=True, select=["id"])))

    assert page is not None and page.value is not None and ART in {u.id for u in page.value}
    assert page.odata_count == len(page.value)


async def test_unknown_user_is_resource_not_found(cloud: Cloud, graph: GraphServiceClient) -> None:
    with pytest.raises(ODataError) as raised:
        await graph.users.by_user_id("nobody@contoso.onmicrosoft.com").get()

    assert raised.value.response_status_code == 404
    assert raised.value.error is not None and raised.value.error.code == "Request_ResourceNotFound"
    assert raised.value.error.message == (
        "Resource 'nobody@contoso.onmicrosoft.com' does not exist or one of its queried reference-property objects "
        "are not present."
    )


async def test_app_without_user_read_all_is_denied(cloud: Cloud) -> None:
    client_id = register_app(cloud, "Presence.Read.All")
    client = graph_client(cloud.emulator, MintedCredential(app_minter(cloud.emulator, client_id)))

    with pytest.raises(ODataError) as raised:
        await client.users.by_user_id(ART).get()

    assert raised.value.response_status_code == 403
    assert raised.value.error is not None and raised.value.error.code == "Authorization_RequestDenied"
    assert raised.value.error.message == "Insufficient privileges to complete the operation."


async def test_expired_token_is_refused_with_the_bearer_challenge(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    token = app_minter(cloud.emulator)()
    client = graph_client(cloud.emulator, MintedCredential(lambda: token))
    assert (await client.users.by_user_id(ART).get()) is not None

    cloud.advance(3600)

    with pytest.raises(ODataError) as raised:
        await client.users.by_user_id(ART).get()
    assert raised.value.response_status_code == 401
    assert raised.value.error is not None and raised.value.error.code == "InvalidAuthenticationToken"
    assert raised.value.error.message == "Access token has expired or is not yet valid."
    challenge = _header(raised.value.response_headers, "www-authenticate")
    assert challenge.startswith('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/')
    assert "claims=" not in challenge


async def test_client_secret_credential_against_the_local_entra(cloud: Cloud) -> None:
    graph_info = cloud.info["graph"]
    credential = ClientSecretCredential(
        graph_info["tenantId"],
        graph_info["demoApp"]["clientId"],
        graph_info["demoApp"]["clientSecret"],
        authority=graph_info["authority"],
        disable_instance_discovery=True,
        connection_verify=cloud.ca_path,
    )
    client = graph_client(cloud.emulator, credential)

    page = await client.users.get(request_configuration=eventual(params=Query(search='"displayName:Art Anderson"')))

    assert page is not None and [u.id for u in page.value or []] == [ART]


def _header(headers: Any, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list | tuple | set) else value)
    raise AssertionError(f"no {name} header in {headers}")
