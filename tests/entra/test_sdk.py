"""The official azure-identity credentials and raw MSAL get tokens from the local Entra, unchanged."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, EnvironmentCredential, UsernamePasswordCredential
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from msal.authority import Authority

from tests.entra.conftest import ART_UPN, GRAPH_DEFAULT, PASSWORD, Entra
from tests.support.scenario import ART

DEMO_ROLES = {"User.Read.All", "Presence.Read.All"}


def _secret_credential(entra: Entra, secret: str | None = None) -> ClientSecretCredential:
    return ClientSecretCredential(
        entra.tenant_id,
        entra.client_id,
        secret or entra.secret,
        authority=entra.authority,
        disable_instance_discovery=True,
        connection_verify=entra.ca_path,
    )


def _token_requests(entra: Entra) -> list[dict[str, Any]]:
    return [e for e in entra.cloud.journal() if e["kind"] == "request" and "/oauth2/v2.0/token" in e["summary"]]


def test_client_secret_credential_gets_an_app_token_with_the_consented_roles(entra: Entra) -> None:
    token = _secret_credential(entra).get_token(GRAPH_DEFAULT)

    claims = entra.claims(token.token)
    assert set(claims["roles"]) == DEMO_ROLES
    assert (claims["appid"], claims["tid"], claims["idtyp"], claims["ver"]) == (
        entra.client_id,
        entra.tenant_id,
        "app",
        "1.0",
    )
    assert token.expires_on - claims["iat"] == pytest.approx(3599, abs=5)
    principal = entra.cloud.emulator.cloud.tokens.verify(token.token)
    assert principal.is_app_only and principal.roles == DEMO_ROLES


def test_cae_request_marks_the_token_capable_of_claims_challenges(entra: Entra) -> None:
    token = _secret_credential(entra).get_token(GRAPH_DEFAULT, enable_cae=True)

    assert entra.claims(token.token)["xms_cc"] == ["CP1"]
    assert "xms_cc" not in entra.claims(_secret_credential(entra).get_token(GRAPH_DEFAULT).token)


def test_only_discovery_and_token_reach_the_emulator(entra: Entra) -> None:
    _secret_credential(entra).get_token(GRAPH_DEFAULT)

    requests = [e["summary"] for e in entra.cloud.journal() if e["kind"] == "request"]
    assert requests[-2:] == [
        f"GET /{entra.tenant_id}/v2.0/.well-known/openid-configuration",
        f"POST /{entra.tenant_id}/oauth2/v2.0/token (client_credentials)",
    ]


def test_a_wrong_secret_raises_client_authentication_error_with_the_aadsts_text(entra: Entra) -> None:
    with pytest.raises(ClientAuthenticationError) as raised:
        _secret_credential(entra, secret="not-the-secret").get_token(GRAPH_DEFAULT)

    assert "AADSTS7000215: Invalid client secret provided." in str(raised.value)


@pytest.mark.anyio
async def test_async_client_secret_credential_posts_straight_to_the_token_endpoint(entra: Entra) -> None:
    async with AsyncClientSecretCredential(
        entra.tenant_id,
        entra.client_id,
        entra.secret,
        authority=entra.authority,
        disable_instance_discovery=True,
        connection_verify=entra.ca_path,
    ) as credential:
        token = await credential.get_token(GRAPH_DEFAULT)

    requests = [e["summary"] for e in entra.cloud.journal() if e["kind"] == "request"]
    assert requests[-1] == f"POST /{entra.tenant_id}/oauth2/v2.0/token (client_credentials)"
    assert not any("openid-configuration" in str(summary) for summary in requests)
    assert set(entra.claims(token.token)["roles"]) == DEMO_ROLES


@pytest.mark.anyio
async def test_async_credential_with_a_wrong_secret_raises_the_aadsts_text(entra: Entra) -> None:
    async with AsyncClientSecretCredential(
        entra.tenant_id,
        entra.client_id,
        "not-the-secret",
        authority=entra.authority,
        disable_instance_discovery=True,
        connection_verify=entra.ca_path,
    ) as credential:
        with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
            await credential.get_token(GRAPH_DEFAULT)


def test_environment_credential_with_the_authority_host(entra: Entra, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TENANT_ID", entra.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", entra.client_id)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", entra.secret)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", entra.authority)

    credential = EnvironmentCredential(disable_instance_discovery=True, connection_verify=entra.ca_path)

    assert set(entra.claims(credential.get_token(GRAPH_DEFAULT).token)["roles"]) == DEMO_ROLES


@pytest.fixture
def no_user_realm_probe(entra: Entra, monkeypatch: pytest.MonkeyPatch) -> None:
    """MSAL's ROPC first asks ``https://{host}/common/userrealm/…`` with the port dropped (so port 443); marking
    the host as one without user realm discovery is the only in-process way past it."""
    host = urlsplit(entra.authority).hostname
    monkeypatch.setattr(Authority, "_domains_without_user_realm_discovery", {host})


@pytest.mark.usefixtures("no_user_realm_probe")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_username_password_credential_gets_a_delegated_token_then_refreshes(entra: Entra) -> None:
    credential = UsernamePasswordCredential(
        entra.client_id,
        ART_UPN,
        PASSWORD,
        tenant_id=entra.tenant_id,
        authority=entra.authority,
        disable_instance_discovery=True,
        connection_verify=entra.ca_path,
    )

    first = entra.claims(credential.get_token("https://graph.microsoft.com/User.Read.All").token)
    second = entra.claims(credential.get_token("https://graph.microsoft.com/Presence.Read.All").token)

    assert (first["idtyp"], first["oid"], first["upn"]) == ("user", ART, ART_UPN)
    assert "User.Read.All" in first["scp"].split() and "Presence.Read.All" not in first["scp"].split()
    assert "Presence.Read.All" in second["scp"].split()
    grants = [e["detail"]["form"]["grant_type"] for e in _token_requests(entra)]
    assert grants == ["password", "refresh_token"]
    principal = entra.cloud.emulator.cloud.tokens.verify(credential.get_token(GRAPH_DEFAULT).token)
    assert principal.user_id == ART and principal.scopes >= DEMO_ROLES


@pytest.mark.usefixtures("no_user_realm_probe")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_username_password_credential_with_a_wrong_password_raises_aadsts50126(entra: Entra) -> None:
    credential = UsernamePasswordCredential(
        entra.client_id,
        ART_UPN,
        "wrong",
        tenant_id=entra.tenant_id,
        authority=entra.authority,
        disable_instance_discovery=True,
        connection_verify=entra.ca_path,
    )

    with pytest.raises(ClientAuthenticationError, match="AADSTS50126"):
        credential.get_token(GRAPH_DEFAULT)


def test_raw_msal_with_the_emulator_as_instance_discovery_endpoint(
    entra: Entra, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests lets REQUESTS_CA_BUNDLE override a session's verify=, so MSAL's own `verify` is not enough here
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", entra.ca_path)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    app = msal.ConfidentialClientApplication(
        entra.client_id,
        client_credential=entra.secret,
        authority=f"{entra.authority}/{entra.domain}",
        instance_discovery=f"{entra.authority}/common/discovery/instance",
    )

    result = app.acquire_token_for_client([GRAPH_DEFAULT])

    assert [e["summary"] for e in entra.cloud.journal() if e["kind"] == "request"][-3:] == [
        "GET /common/discovery/instance",
        f"GET /{entra.domain}/v2.0/.well-known/openid-configuration",
        f"POST /{entra.tenant_id}/oauth2/v2.0/token (client_credentials)",
    ]
    assert set(entra.claims(result["access_token"])["roles"]) == DEMO_ROLES


def test_the_journal_keeps_token_requests_without_secrets_or_tokens(entra: Entra) -> None:
    token = _secret_credential(entra).get_token(GRAPH_DEFAULT, enable_cae=True).token

    entries = entra.cloud.journal()
    request = _token_requests(entra)[-1]
    response = next(e for e in entries if e["kind"] == "response" and e["exchange"] == request["exchange"])
    assert (request["source"], request["target"], response["source"], response["target"]) == (
        "app",
        "emulator",
        "emulator",
        "app",
    )
    assert request["detail"]["form"]["client_secret"] == "[redacted]"
    assert response["detail"]["body"]["access_token"] == "[redacted]"
    assert response["detail"]["accessTokenClaims"]["roles"] == ["User.Read.All", "Presence.Read.All"]
    text = json.dumps(entries)
    assert entra.secret not in text and token not in text
