"""The emulated Graph on the wire: envelopes, headers, OData options, paging, permissions and every refusal."""

from __future__ import annotations

import base64
import json
import random
import ssl
import uuid
from typing import Any

import httpx
import pytest

from callbridge.emulator.seed import BLOCKED_USER, QUEUE_APP_ID
from tests.graph.support import raw_graph, register_app
from tests.support.scenario import ALEX, ART, DIEGO, LYNNE, Cloud

EVENTUAL = {"ConsistencyLevel": "eventual"}
PRADEEP = "5c4b3a29-1807-4f6e-8d5c-4b3a29180706"
CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    assert error["innerError"]["client-request-id"] == response.headers["client-request-id"]
    return str(error["message"])


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["id"] for u in response.json()["value"]]


# ------------------------------------------------------------------ envelope, headers, auth


def test_success_carries_graph_headers_and_echoes_the_client_request_id(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        answer = graph.get(f"/users/{ART}", headers={"client-request-id": "my-correlation"})

    assert answer.status_code == 200
    assert answer.headers["client-request-id"] == "my-correlation"
    uuid.UUID(answer.headers["request-id"])
    assert "ServerInfo" in json.loads(answer.headers["x-ms-ags-diagnostic"])
    assert answer.headers["content-type"].startswith("application/json;odata.metadata=minimal")
    body = answer.json()
    assert body["@odata.context"] == f"{cloud.info['graph']['httpBaseUrl']}/$metadata#users/$entity"
    assert list(body) == [
        "@odata.context", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
    ]  # fmt: skip
    assert body["officeLocation"] is None and body["businessPhones"] == []


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer not-a-jwt", "CompactToken parsing failed with error code: 80049217"),
        ("Basic dXNlcjpwYXNz", "Access token is empty."),
    ],
    ids=["missing", "garbage", "not-bearer"],
)
def test_bad_tokens_get_401_with_the_bearer_challenge(cloud: Cloud, authorization: str | None, message: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = httpx.get(f"{cloud.info['graph']['httpBaseUrl']}/users", headers=headers)

    assert _error(answer, 401, "InvalidAuthenticationToken") == message
    assert answer.headers["www-authenticate"] == CHALLENGE


def test_a_tampered_signature_is_refused(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        token = graph.headers["Authorization"].removeprefix("Bearer ")
        head, claims, signature = token.split(".")
        flipped = base64.urlsafe_b64encode(bytes(b ^ 1 for b in base64.urlsafe_b64decode(signature + "=="))).decode()
        answer = graph.get("/users", headers={"Authorization": f"Bearer {head}.{claims}.{flipped.rstrip('=')}"})

    assert _error(answer, 401, "InvalidAuthenticationToken") == "Access token validation failure."


def test_unknown_segments_and_wrong_methods(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        groups = graph.get("/groups")
        manager = graph.get(f"/users/{ART}/manager")
        deleted = graph.delete(f"/users/{ART}")
        posted = graph.post("/users", json={"displayName": "New"})
        listed = graph.get("/communications/getPresencesByUserId")

    assert _error(groups, 400, "BadRequest") == "Resource not found for the segment 'groups'."
    assert _error(manager, 400, "BadRequest") == "Resource not found for the segment 'manager'."
    for refused in (deleted, posted, listed):
        assert (
            _error(refused, 405, "Request_BadRequest") == "Specified HTTP method is not allowed for the request target."
        )


def test_unknown_users_are_not_found_everywhere(cloud: Cloud) -> None:
    stranger = str(uuid.uuid4())
    with raw_graph(cloud) as graph:
        answers = [graph.get(f"/users/{stranger}{tail}") for tail in ("", "/presence", "/licenseDetails")]

    for answer in answers:
        assert _error(answer, 404, "Request_ResourceNotFound").startswith(f"Resource '{stranger}' does not exist")


def test_users_by_principal_name_in_any_case_and_guests_with_encoded_hash(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        art = graph.get("/users/ArtAnderson@Contoso.onmicrosoft.com")
        guest = graph.get(
            "/users/pradeep_fabrikam.com%23EXT%23@contoso.onmicrosoft.com", params={"$select": "id,userType"}
        )

    assert art.json()["id"] == ART
    assert guest.json() == {
        "@odata.context": f"{cloud.info['graph']['httpBaseUrl']}/$metadata#users(id,userType)/$entity",
        "id": PRADEEP,
        "userType": "Guest",
    }


def test_single_get_only_properties(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        single = graph.get(f"/users/{ART}", params={"$select": "aboutMe,skills"})
        listed = graph.get("/users", params={"$select": "id,aboutMe"})

    assert single.json()["aboutMe"] is None and single.json()["skills"] == []
    assert _error(listed, 501, "NotImplemented") == "This operation target is not yet supported."


# ------------------------------------------------------------------ query options


@pytest.mark.parametrize(
    ("params", "headers", "status", "code", "message"),
    [
        ({"$filter": "displayName eq"}, {}, 400, "Request_BadRequest", "Invalid filter clause: Syntax error"),
        ({"$filter": "shoeSize eq '42'"}, {}, 400, "Request_BadRequest",
         "Invalid filter clause: Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."),
        ({"$filter": "accountEnabled eq 'true'"}, {}, 400, "Request_BadRequest",
         "Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'"),
        ({"$filter": "assignedLicenses/any(a:a/skuId eq 'e43b5b99-8dfb-405f-9987-dc307f34bcbd')"}, {}, 400,
         "Request_BadRequest", "Found operand types 'Edm.Guid' and 'Edm.String'"),
        ({"$filter": "jobTitle ne 'Planner'"}, EVENTUAL, 400, "Request_UnsupportedQuery",
         "Operator 'ne' is not supported because the required parameters might be missing. Try adding $count=true"),
        ({"$filter": "endsWith(mail,'@contoso.onmicrosoft.com')"}, {}, 400, "Request_UnsupportedQuery",
         "Operator 'endsWith' is not supported because the required parameters might be missing."),
        ({"$filter": "endsWith(displayName,'son')", "$count": "true"}, EVENTUAL, 400, "Request_UnsupportedQuery",
         "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'."),
        ({"$filter": "not(userType eq 'Guest')"}, {}, 400, "Request_UnsupportedQuery", "Operator 'not'"),
        ({"$filter": "startsWith(preferredLanguage,'en')"}, {}, 400, "Request_UnsupportedQuery",
         "Unsupported or invalid query filter clause specified for property 'preferredLanguage'"),
        ({"$filter": "contains(displayName,'rt')"}, {}, 400, "Request_BadRequest",
         "An unknown function with name 'contains' was found."),
        ({"$top": "1000"}, {}, 400, "Request_UnsupportedQuery",
         "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."),
        ({"$top": "0"}, {}, 400, "Request_UnsupportedQuery", "Invalid page size specified: '0'."),
        ({"$top": "ten"}, {}, 400, "BadRequest", "Invalid value 'ten' for $top query option found."),
        ({"$skip": "5"}, {}, 400, "Request_BadRequest", "'$skip' is not supported by the service."),
        ({"$select": "id,shoeSize"}, {}, 400, "BadRequest",
         "Parsing OData Select and Expand failed: Could not find a property named 'shoeSize' on type "
         "'microsoft.graph.user'."),
        ({"$count": "maybe"}, {}, 400, "BadRequest", "'maybe' is not a valid count option."),
        ({"$orderby": "jobTitle"}, {}, 400, "Request_UnsupportedQuery", "Sorting not supported for current query."),
        ({"$orderby": "createdDateTime desc"}, {}, 400, "Request_UnsupportedQuery", "Sorting not supported"),
        ({"$filter": "userType eq 'Member'", "$orderby": "displayName"}, EVENTUAL, 400, "Request_UnsupportedQuery",
         "Sorting not supported for current query."),
        ({"$skiptoken": "bm90LW91cnM"}, {}, 400, "Directory_ExpiredPageToken",
         "The specified page token value has expired and can no longer be included in your request."),
        ({"$search": '"shoeSize:42"'}, EVENTUAL, 400, "Request_UnsupportedQuery",
         "Unsupported or invalid query filter clause specified for property 'shoeSize' of resource 'User'."),
        ({"$search": '"displayName:Art'}, EVENTUAL, 400, "BadRequest",
         "There is an unterminated string literal at position 0 in '\"displayName:Art'."),
        ({"$search": "Art"}, EVENTUAL, 400, "Request_UnsupportedQuery", "names no property"),
        ({"$search": '"displayName:a" NOT "mail:b"'}, EVENTUAL, 400, "Request_UnsupportedQuery", "NOT"),
        ({"$foo": "bar"}, {}, 400, "BadRequest", "The query parameter '$foo' is not supported."),
        ({"$expand": "manager"}, {}, 400, "Request_UnsupportedQuery", "$expand"),
    ],
)  # fmt: skip
def test_unsupported_queries_get_the_documented_errors(
    cloud: Cloud, params: dict[str, str], headers: dict[str, str], status: int, code: str, message: str
) -> None:
    with raw_graph(cloud) as graph:
        answer = graph.get("/users", params=params, headers=headers)

    assert message in _error(answer, status, code)


def test_a_repeated_option_is_refused(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        answer = graph.get("/users?$top=1&$TOP=2")

    assert "'$top' was specified more than once" in _error(answer, 400, "BadRequest")


def test_the_consistency_header_is_case_insensitive(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        answer = graph.get("/users", params={"$search": '"displayName:art"'}, headers={"consistencylevel": "Eventual"})

    assert _ids(answer) == [ART]


def test_count_needs_the_header(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        silent = graph.get("/users", params={"$count": "true", "$top": "1"})
        counted = graph.get("/users", params={"$count": "true", "$top": "1"}, headers=EVENTUAL)
        segment = graph.get("/users/$count")
        filtered = graph.get("/users/$count", params={"$filter": "userType eq 'Guest'"}, headers=EVENTUAL)

    assert "@odata.count" not in silent.json()
    assert counted.json()["@odata.count"] == len(cloud.emulator.cloud.tenant.users)
    assert _error(segment, 400, "Request_BadRequest") == "$count is not currently supported."
    assert filtered.headers["content-type"].startswith("text/plain")
    assert filtered.text == "1"


@pytest.mark.parametrize(
    ("params", "headers", "expected"),
    [
        ({"$search": '"displayName:wil"'}, EVENTUAL, {ALEX, "61a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8"}),
        ({"$search": '"displayName:ilber"'}, EVENTUAL, set()),
        ({"$search": '"displayName:art" OR "displayName:lynne"'}, EVENTUAL, {ART, LYNNE}),
        ({"$search": '"displayName:art" AND "mail:megan"'}, EVENTUAL, set()),
        ({"$search": '("displayName:art" OR "displayName:megan") AND "jobTitle:Support"'}, EVENTUAL, {ART}),
        ({"$search": '"mail:pradeep@fab"'}, EVENTUAL, {PRADEEP}),
        ({"$search": '"displayName:art"', "$filter": "userType eq 'Member'"}, EVENTUAL, {ART}),
        ({"$filter": "displayName eq 'art anderson'"}, {}, {ART}),
        ({"$filter": "startsWith(displayName,'Di') or startsWith(displayName,'Ly')"}, {}, {DIEGO, LYNNE}),
        ({"$filter": f"id in ('{ART}', '{DIEGO}')"}, {}, {ART, DIEGO}),
        ({"$filter": "userType eq 'Guest'"}, {}, {PRADEEP}),
        ({"$filter": "accountEnabled eq true and department eq 'HR'"}, {}, {DIEGO}),
        ({"$filter": "proxyAddresses/any(p:startsWith(p,'smtp:megan'))"}, {}, {"2b7e8f4c-6d1a-4c3e-9f0b-5a8d7c6e1f20"}),
        ({"$filter": "endsWith(mail,'@fabrikam.com')", "$count": "true"}, EVENTUAL, {PRADEEP}),
        ({"$filter": "department eq 'Microsoft Communication Application Instance'"}, {},
         {"e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908"}),
        ({"$filter": "not(startsWith(displayName,'a')) and startsWith(jobTitle,'p')", "$count": "true"}, EVENTUAL,
         {LYNNE}),
        ({"$filter": "assignedLicenses/any(a:a/skuId eq 440eaaa8-b3e0-484b-a8be-62870b9ba70a)"}, {},
         {"e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908"}),
        ({"$filter": "createdDateTime ge 2000-01-01T00:00:00Z and createdDateTime le 2001-01-01T00:00:00Z"}, {},
         set()),
        ({"$filter": "jobTitle eq null", "$count": "true"}, EVENTUAL, {PRADEEP, "e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908"}),
    ],
)  # fmt: skip
def test_search_and_filter_select_the_right_users(
    cloud: Cloud, params: dict[str, str], headers: dict[str, str], expected: set[str]
) -> None:
    with raw_graph(cloud) as graph:
        answer = graph.get("/users", params={**params, "$select": "id"}, headers=headers)

    assert set(_ids(answer)) == expected


def test_next_link_is_absolute_on_the_requests_own_origin_and_keeps_every_option(cloud: Cloud) -> None:
    base = cloud.info["graph"]["baseUrl"]
    client = raw_graph(cloud)
    verify = ssl.create_default_context(cafile=cloud.ca_path)
    params = {"$top": "4", "$select": "id,displayName", "$filter": "accountEnabled eq true"}
    with httpx.Client(base_url=base, headers=client.headers, verify=verify) as graph:
        first = graph.get("/users", params=params).json()
        link = first["@odata.nextLink"]
        second = graph.get(link).json()
        again = graph.get(link).json()

    assert link.startswith(f"{base}/users?") and "$skiptoken=" in link
    assert {"%24top=4", "%24select=id%2CdisplayName"} <= set(link.split("?", 1)[1].split("&"))
    assert second["@odata.context"] == f"{base}/$metadata#users(id,displayName)"
    assert len(second["value"]) == 4 and second == again
    assert not {u["id"] for u in first["value"]} & {u["id"] for u in second["value"]}


def test_the_consistency_header_must_be_resent_on_next_links(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        first = graph.get("/users", params={"$search": '"displayName:a"', "$top": "1"}, headers=EVENTUAL).json()
        without = graph.get(first["@odata.nextLink"])
        resent = graph.get(first["@odata.nextLink"], headers=EVENTUAL)

    assert "ConsistencyLevel: eventual" in _error(without, 400, "Request_UnsupportedQuery")
    assert len(resent.json()["value"]) == 1 and resent.json()["value"] != first["value"]


def test_ordered_pages_cover_everyone_once_in_order(cloud: Cloud) -> None:
    names: list[str] = []
    with raw_graph(cloud) as graph:
        url: str | None = "/users?$orderby=displayName desc&$top=3&$select=displayName&$count=true"
        while url:
            body = graph.get(url, headers=EVENTUAL).json()
            names.extend(u["displayName"] for u in body["value"])
            url = body.get("@odata.nextLink")

    assert names == sorted((u.display_name for u in cloud.emulator.cloud.tenant.users.values()), reverse=True)


def test_license_details_select(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        chosen = graph.get(f"/users/{ART}/licenseDetails", params={"$select": "skuPartNumber"})
        unknown = graph.get(f"/users/{ART}/licenseDetails", params={"$select": "price"})

    assert chosen.json()["value"] == [{"skuPartNumber": "SPE_E5"}]
    assert "'microsoft.graph.licenseDetails'" in _error(unknown, 400, "BadRequest")


# ------------------------------------------------------------------ presence batch


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Unable to read JSON request payload."),
        (b"[]", "Unable to read JSON request payload."),
        (b"{}", "The 'ids' parameter must be an array"),
        (b'{"ids": "abc"}', "The 'ids' parameter must be an array"),
        (b'{"ids": ["not-a-guid"]}', "'not-a-guid' is not a valid user object id"),
        (b'{"ids": [], "top": 1}', "The parameter 'top' in the request payload is not a valid parameter"),
        (json.dumps({"ids": [str(uuid.uuid4()) for _ in range(651)]}).encode(), "accepts at most 650"),
    ],
    ids=["bad-json", "array", "no-ids", "ids-not-list", "not-guid", "extra-parameter", "651-ids"],
)
def test_batch_presence_refuses_bad_bodies(cloud: Cloud, content: bytes, message: str) -> None:
    with raw_graph(cloud) as graph:
        answer = graph.post("/communications/getPresencesByUserId", content=content)

    assert message in _error(answer, 400, "BadRequest")


def test_batch_presence_takes_650_ids_and_answers_each_once(cloud: Cloud) -> None:
    ids = [ART, ART.upper()] + [str(uuid.uuid4()) for _ in range(648)]
    with raw_graph(cloud) as graph:
        answer = graph.post("/communications/getPresencesByUserId", json={"ids": ids})
        direct = graph.get(f"/communications/presences/{LYNNE}")

    values = answer.json()["value"]
    assert len(values) == 649 and values[0] == {"id": ART, "availability": "Available", "activity": "Available"}
    assert direct.json()["activity"] == "DoNotDisturb"
    assert direct.json()["@odata.context"].endswith("/$metadata#communications/presences/$entity")


# ------------------------------------------------------------------ permissions


def test_basic_profile_permission_sees_only_basic_properties(cloud: Cloud) -> None:
    client_id = register_app(cloud, "User.ReadBasic.All")
    with raw_graph(cloud, client_id) as graph:
        listed = graph.get("/users", params={"$top": "1"})
        searched = graph.get("/users", params={"$search": '"displayName:art"', "$select": "id"}, headers=EVENTUAL)
        selected = graph.get(f"/users/{ART}", params={"$select": "jobTitle"})
        filtered = graph.get("/users", params={"$filter": "jobTitle eq 'Planner'"})
        sorted_ = graph.get("/users", params={"$orderby": "createdDateTime", "$count": "true"}, headers=EVENTUAL)
        licences = graph.get(f"/users/{ART}/licenseDetails")

    assert set(listed.json()["value"][0]) == {"displayName", "givenName", "mail", "surname", "userPrincipalName", "id"}
    assert _ids(searched) == [ART]
    for refused in (selected, filtered, sorted_, licences):
        assert (
            _error(refused, 403, "Authorization_RequestDenied") == "Insufficient privileges to complete the operation."
        )


def test_delegated_tokens_read_their_own_user_and_presence(cloud: Cloud) -> None:
    emulator = cloud.emulator.cloud
    client_id = register_app(cloud, delegated=("User.Read", "Presence.Read"))
    token = emulator.tokens.issue_user_token(
        emulator.tenant.apps[client_id], emulator.tenant.users[ALEX], ["User.Read", "Presence.Read"]
    )
    with httpx.Client(base_url=cloud.info["graph"]["httpBaseUrl"], headers={"Authorization": f"Bearer {token}"}) as me:
        profile = me.get("/me")
        own = me.get("/me/presence")
        licences = me.get("/me/licenseDetails")
        other = me.get(f"/users/{ART}/presence")
        everyone = me.get("/users")
    with raw_graph(cloud) as app:
        app_me = app.get("/me")

    assert profile.json()["id"] == ALEX and own.json()["availability"] == "Away"
    assert licences.json()["value"][0]["skuPartNumber"] == "SPE_E5"
    _error(other, 403, "Authorization_RequestDenied")
    _error(everyone, 403, "Authorization_RequestDenied")
    assert _error(app_me, 400, "BadRequest") == "/me request is only valid with delegated authentication flow."


# ------------------------------------------------------------------ journal and robustness


def test_requests_are_journaled_without_tokens(cloud: Cloud) -> None:
    with raw_graph(cloud) as graph:
        token = graph.headers["Authorization"]
        graph.get(f"/users/{BLOCKED_USER}/presence", headers={"client-request-id": "journal-check"})

    entries = [e for e in cloud.journal() if e["summary"].startswith("Graph")]
    request, response = entries[-2:]
    assert (request["kind"], request["source"], request["target"]) == ("request", "app", "emulator")
    assert (response["kind"], response["source"], response["target"]) == ("response", "emulator", "app")
    assert request["exchange"] == response["exchange"]
    assert request["detail"]["clientRequestId"] == "journal-check"
    assert response["detail"]["body"]["availability"] == "Available"
    assert token.split()[1] not in json.dumps(entries)


def test_resource_accounts_have_presence_too(cloud: Cloud) -> None:
    queue = next(u for u in cloud.emulator.cloud.tenant.users.values() if u.resource_account_app_id == QUEUE_APP_ID)
    with raw_graph(cloud) as graph:
        answer = graph.get(f"/users/{queue.id}/presence")

    assert answer.status_code == 200


def test_random_queries_never_fail_with_a_server_error(cloud: Cloud) -> None:
    rng = random.Random(20261126)
    alphabet = "abcdeAZ09 '\"():,/\\$&=%+-_.*@#!?<>[]{}~李"
    words = ["displayName", "eq", "ne", "and", "or", "not", "any(a:a/skuId", "in", "startsWith(", "'x'", "null",
             "true", '"displayName:', "AND", "OR", "(", ")", "mail", "assignedPlans/", "e43b5b99-8dfb-405f-9987-dc307f34bcbd"]  # fmt: skip
    options = ["$filter", "$search", "$select", "$top", "$orderby", "$count", "$skiptoken"]
    statuses: set[int] = set()
    with raw_graph(cloud) as graph:
        for _ in range(200):
            pieces = [
                rng.choice(words) if rng.random() < 0.5 else rng.choice(alphabet) for _ in range(rng.randint(0, 12))
            ]
            params: dict[str, Any] = {rng.choice(options): " ".join(pieces)}
            answer = graph.get("/users", params=params, headers=EVENTUAL if rng.random() < 0.7 else {})
            statuses.add(answer.status_code)
            assert answer.status_code < 500, (params, answer.text)
    assert statuses <= {200, 400, 403, 501}
