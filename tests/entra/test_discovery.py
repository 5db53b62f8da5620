"""What MSAL reads before a token, and what relying parties read after: discovery, keys, realm, userinfo; and the
delegated grants' extra tokens (refresh, ID, client_info) over raw HTTPS."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from tests.entra.conftest import ART_UPN, GRAPH_DEFAULT, Entra
from tests.entra.test_token_errors import assert_entra_error
from tests.support.scenario import ART

DISCOVERY_KEYS = [
    "token_endpoint",
    "token_endpoint_auth_methods_supported",
    "jwks_uri",
    "response_modes_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "response_types_supported",
    "scopes_supported",
    "issuer",
    "request_uri_parameter_supported",
    "userinfo_endpoint",
    "authorization_endpoint",
    "device_authorization_endpoint",
    "http_logout_supported",
    "frontchannel_logout_supported",
    "end_session_endpoint",
    "claims_supported",
    "tenant_region_scope",
    "cloud_instance_name",
    "cloud_graph_host_name",
    "msgraph_host",
]


def _discovery(entra: Entra, tenant: str) -> httpx.Response:
    return entra.http.get(f"/{tenant}/v2.0/.well-known/openid-configuration")


@pytest.mark.parametrize("spelling", ["id", "ID", "domain"])
def test_discovery_document_names_the_tenant_id_on_the_https_origin(entra: Entra, spelling: str) -> None:
    tenant = {"id": entra.tenant_id, "ID": entra.tenant_id.upper(), "domain": entra.domain}[spelling]

    config = _discovery(entra, tenant).json()

    assert list(config) == DISCOVERY_KEYS
    base = f"{entra.authority}/{entra.tenant_id}"
    assert config["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert config["jwks_uri"] == f"{base}/discovery/v2.0/keys"
    assert config["issuer"] == f"{base}/v2.0"
    urls = [v for v in config.values() if isinstance(v, str) and "://" in v]
    assert len(urls) == 7 and all(url.startswith(entra.authority + "/") for url in urls)
    assert config["msgraph_host"] == urlsplit(entra.authority).netloc


def test_multi_tenant_discovery_keeps_the_alias_and_a_placeholder_issuer(entra: Entra) -> None:
    config = _discovery(entra, "organizations").json()

    assert config["token_endpoint"] == f"{entra.authority}/organizations/oauth2/v2.0/token"
    assert config["issuer"] == f"{entra.authority}/{{tenantid}}/v2.0"


def test_discovery_over_plain_http_names_the_http_origin(entra: Entra) -> None:
    http_origin = entra.cloud.info["urls"]["http"]

    config = httpx.get(f"{http_origin}/{entra.tenant_id}/v2.0/.well-known/openid-configuration").json()

    assert config["token_endpoint"] == f"{http_origin}/{entra.tenant_id}/oauth2/v2.0/token"


def test_discovery_of_an_unknown_tenant_is_entra_s_invalid_tenant(entra: Entra) -> None:
    body = assert_entra_error(_discovery(entra, "fabrikam.onmicrosoft.com"), 400, "invalid_tenant", 90002)

    assert "Tenant 'fabrikam.onmicrosoft.com' not found." in body["error_description"]
    assert_entra_error(_discovery(entra, "not-a-tenant"), 400, "invalid_tenant", 900023)


def test_keys_publish_the_key_that_signs_the_tokens(entra: Entra) -> None:
    keys = entra.http.get(f"/{entra.tenant_id}/discovery/v2.0/keys").json()["keys"]
    token = entra.token(entra.app_form()).json()["access_token"]

    assert [key["kid"] for key in keys] == [jwt.get_unverified_header(token)["kid"]]
    assert {"kty", "use", "kid", "n", "e"} <= set(keys[0])
    assert entra.claims(token)["aud"] == "https://graph.microsoft.com"


def test_instance_discovery_points_msal_at_the_tenant_discovery_document(entra: Entra) -> None:
    host = urlsplit(entra.authority).hostname
    params = {"api-version": "1.0", "authorization_endpoint": f"https://{host}/{entra.tenant_id}/oauth2/v2.0/authorize"}

    found = entra.http.get("/common/discovery/instance", params=params).json()
    unknown = entra.http.get(
        "/common/discovery/instance", params={**params, "authorization_endpoint": "https://login.example/x/authorize"}
    )

    assert found["tenant_discovery_endpoint"] == (
        f"{entra.authority}/{entra.tenant_id}/v2.0/.well-known/openid-configuration"
    )
    assert found["api-version"] == "1.1" and found["metadata"][0]["aliases"]
    assert_entra_error(unknown, 400, "invalid_instance", 50049)


def test_user_realm_says_the_tenant_domain_is_managed(entra: Entra) -> None:
    managed = entra.http.get(f"/common/userrealm/{ART_UPN}", params={"api-version": "1.0"}).json()
    other = entra.http.get("/common/userrealm/someone@fabrikam.com", params={"api-version": "1.0"}).json()

    assert (managed["account_type"], managed["domain_name"]) == ("Managed", entra.domain)
    assert other["account_type"] == "Unknown"


def test_password_grant_returns_refresh_id_token_and_client_info(entra: Entra) -> None:
    body = entra.token(entra.password_form(scope=f"{GRAPH_DEFAULT} offline_access openid profile")).json()

    assert list(body) == [
        "token_type",
        "scope",
        "expires_in",
        "ext_expires_in",
        "access_token",
        "refresh_token",
        "id_token",
        "client_info",
    ]
    assert body["scope"] == f"{GRAPH_DEFAULT} openid profile"
    access = entra.claims(body["access_token"])
    assert set(access["scp"].split()) == {"User.Read.All", "Presence.Read.All", "openid", "profile"}
    issuer = f"{entra.authority}/{entra.tenant_id}/v2.0"
    identity = entra.claims(body["id_token"], audience=entra.client_id, issuer=issuer)
    assert (identity["oid"], identity["preferred_username"], identity["ver"]) == (ART, ART_UPN, "2.0")
    client_info = json.loads(base64.urlsafe_b64decode(body["client_info"] + "=="))
    assert client_info == {"uid": ART, "utid": entra.tenant_id}


def test_password_grant_without_offline_access_or_openid_returns_only_the_access_token(entra: Entra) -> None:
    body = entra.token(entra.password_form(scope="User.Read.All", client_info="0")).json()

    assert set(body) == {"token_type", "scope", "expires_in", "ext_expires_in", "access_token"}
    assert body["scope"] == "User.Read.All"


def test_refresh_token_grant_narrows_the_scope_and_rotates(entra: Entra) -> None:
    first = entra.token(entra.password_form(scope=f"{GRAPH_DEFAULT} offline_access")).json()

    refreshed = entra.token(
        entra.password_form(
            grant_type="refresh_token",
            refresh_token=first["refresh_token"],
            scope="https://graph.microsoft.com/Presence.Read.All offline_access",
        )
    ).json()

    assert entra.claims(refreshed["access_token"])["scp"] == "Presence.Read.All"
    assert refreshed["refresh_token"] != first["refresh_token"]


def test_userinfo_describes_the_signed_in_user(entra: Entra) -> None:
    user_token = entra.token(entra.password_form()).json()["access_token"]
    app_token = entra.token(entra.app_form()).json()["access_token"]

    info = entra.http.get("/oidc/userinfo", headers={"Authorization": f"Bearer {user_token}"})
    refused = entra.http.get("/oidc/userinfo", headers={"Authorization": f"Bearer {app_token}"})

    assert info.status_code == 200 and info.json()["name"] == "Art Anderson"
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "InvalidAuthenticationToken"
