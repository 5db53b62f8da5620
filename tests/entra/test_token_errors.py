"""Every refusal of the token endpoint, over raw HTTPS: status, Entra's body shape and the AADSTS code."""

from __future__ import annotations

import base64
import re
import ssl
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from tests.entra.conftest import Entra
from tests.support.scenario import ART, Cloud

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$")
CORRELATION_ID = "6b1c0a47-2f7e-4e0a-9d43-2c5f1a8e9b70"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
Request = Callable[[Entra], httpx.Response]


def assert_entra_error(response: httpx.Response, status: int, error: str, code: int) -> dict[str, Any]:
    """The response is Entra's error body for ``code``, carrying our correlation id; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert list(body)[:7] == [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    ]
    assert body["error"] == error
    assert body["error_codes"] == [code]
    description = body["error_description"]
    assert description.startswith(f"AADSTS{code}: ")
    trace = (
        f"Trace ID: {body['trace_id']}\r\nCorrelation ID: {body['correlation_id']}\r\nTimestamp: {body['timestamp']}"
    )
    assert description.endswith("\r\n" + trace)
    assert TIMESTAMP.match(body["timestamp"])
    uuid.UUID(body["trace_id"])
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    assert response.headers["x-ms-request-id"] == body["trace_id"]
    assert response.headers["cache-control"] == "no-store, no-cache"
    return body


def _post(form: Callable[[Entra], dict[str, str]], tenant: Callable[[Entra], str] | None = None) -> Request:
    def send(entra: Entra) -> httpx.Response:
        headers = {"client-request-id": CORRELATION_ID}
        return entra.token(form(entra), tenant=tenant(entra) if tenant else None, headers=headers)

    return send


def _assertion(entra: Entra) -> str:
    return jwt.encode({"aud": "x"}, "k" * 32, algorithm="HS256", headers={"x5t": "q83vEjRWeJA"})


CASES: dict[str, tuple[Request, int, str, int]] = {
    "wrong secret": (_post(lambda e: e.app_form(client_secret="nope")), 401, "invalid_client", 7000215),
    "no secret": (_post(lambda e: {k: v for k, v in e.app_form().items() if k != "client_secret"}), 401,
                  "invalid_client", 7000216),
    "certificate assertion": (_post(lambda e: {**{k: v for k, v in e.app_form().items() if k != "client_secret"},
                                               "client_assertion_type": ASSERTION_TYPE,
                                               "client_assertion": _assertion(e)}), 401, "invalid_client", 700027),
    "unknown app": (_post(lambda e: e.app_form(client_id=str(uuid.uuid4()))), 400, "unauthorized_client", 700016),
    "no client id": (_post(lambda e: {k: v for k, v in e.app_form().items() if k != "client_id"}), 400,
                     "invalid_request", 900144),
    "permission scope on client credentials": (
        _post(lambda e: e.app_form(scope="https://graph.microsoft.com/User.Read.All")), 400, "invalid_scope", 1002012),
    "two resources on client credentials": (
        _post(lambda e: e.app_form(scope="https://graph.microsoft.com/.default https://vault.azure.net/.default")),
        400, "invalid_scope", 70011),
    "kiota's derived localhost scope": (
        _post(lambda e: e.app_form(scope="http://localhost/.default")), 400, "invalid_resource", 500011),
    "no scope": (_post(lambda e: {k: v for k, v in e.app_form().items() if k != "scope"}), 400,
                 "invalid_request", 900144),
    "unknown tenant": (_post(lambda e: e.app_form(), lambda e: str(uuid.uuid4())), 400, "invalid_request", 90002),
    "unknown tenant domain": (_post(lambda e: e.app_form(), lambda e: "fabrikam.onmicrosoft.com"), 400,
                              "invalid_request", 90002),
    "malformed tenant": (_post(lambda e: e.app_form(), lambda e: "contoso"), 400, "invalid_request", 900023),
    "client credentials on organizations": (_post(lambda e: e.app_form(), lambda e: "organizations"), 400,
                                            "invalid_request", 50059),
    "no grant type": (_post(lambda e: {k: v for k, v in e.app_form().items() if k != "grant_type"}), 400,
                      "invalid_request", 900144),
    "unsupported grant type": (_post(lambda e: e.app_form(grant_type="authorization_code")), 400,
                               "unsupported_grant_type", 70003),
    "unreadable claims": (_post(lambda e: e.app_form(claims="{not json")), 400, "invalid_request", 90100),
    "wrong password": (_post(lambda e: e.password_form(password="nope")), 400, "invalid_grant", 50126),
    "unknown user": (_post(lambda e: e.password_form(username="nobody@contoso.onmicrosoft.com")), 400,
                     "invalid_grant", 50034),
    "unconsented delegated scope": (
        _post(lambda e: e.password_form(scope="https://graph.microsoft.com/User.ReadWrite.All openid")), 400,
        "invalid_grant", 65001),
    "unknown delegated permission": (_post(lambda e: e.password_form(scope="https://graph.microsoft.com/Foo.Bar")),
                                     400, "invalid_scope", 70011),
    "delegated scopes of two resources": (
        _post(lambda e: e.password_form(scope="User.Read.All https://vault.azure.net/user_impersonation")), 400,
        "invalid_scope", 28000),
    "no username": (_post(lambda e: {k: v for k, v in e.password_form().items() if k != "username"}), 400,
                    "invalid_request", 900144),
    "password grant with a wrong secret": (_post(lambda e: e.password_form(client_secret="nope")), 401,
                                           "invalid_client", 7000215),
    "refresh token not issued here": (_post(lambda e: e.password_form(grant_type="refresh_token",
                                                                      refresh_token="0.AXkA-not-ours")),
                                      400, "invalid_grant", 9002313),
    "access token as refresh token": (
        _post(lambda e: e.password_form(grant_type="refresh_token", refresh_token=e.token(e.app_form()).json()[
            "access_token"])), 400, "invalid_grant", 9002313),
    "json body": (lambda e: e.http.post(f"/{e.tenant_id}/oauth2/v2.0/token", json=e.app_form(),
                                        headers={"client-request-id": CORRELATION_ID}),
                  400, "invalid_request", 900144),
    "GET": (lambda e: e.http.get(f"/{e.tenant_id}/oauth2/v2.0/token", headers={"client-request-id": CORRELATION_ID}),
            400, "invalid_request", 900561),
}  # fmt: skip


@pytest.mark.parametrize(("send", "status", "error", "code"), CASES.values(), ids=CASES.keys())
def test_refusal_has_entra_status_and_body(entra: Entra, send: Request, status: int, error: str, code: int) -> None:
    body = assert_entra_error(send(entra), status, error, code)

    assert body["correlation_id"] == CORRELATION_ID


def test_messages_name_what_was_wrong(entra: Entra) -> None:
    unknown = str(uuid.uuid4())
    app = entra.token(entra.app_form(client_id=unknown)).json()["error_description"]
    scope = entra.token(entra.app_form(scope="User.Read.All")).json()["error_description"]
    consent = entra.token(entra.password_form(scope="User.ReadWrite.All")).json()

    assert f"Application with identifier '{unknown}' was not found in the directory '{entra.domain}'" in app
    assert "Client credential flows must have a scope value with /.default suffixed" in scope
    assert consent["suberror"] == "consent_required"
    assert f"application with ID '{entra.client_id}' named 'callbridge demo service'" in consent["error_description"]


def test_a_disabled_user_cannot_sign_in(entra: Entra) -> None:
    entra.cloud.set_user(ART, accountEnabled=False)

    assert_entra_error(entra.token(entra.password_form()), 400, "invalid_grant", 50057)


def test_a_refresh_token_only_works_for_the_app_it_was_issued_to(entra: Entra) -> None:
    refresh_token = entra.token(entra.password_form()).json()["refresh_token"]
    other = entra.cloud.ok(
        entra.cloud.control.post("/entra/apps", json={"displayName": "other", "delegatedPermissions": ["User.Read"]})
    ).json()

    response = entra.token(
        {"client_id": other["clientId"], "grant_type": "refresh_token", "refresh_token": refresh_token}
    )

    assert_entra_error(response, 400, "invalid_grant", 70000)


def test_a_refresh_token_expires_after_ninety_days(virtual_cloud: Cloud) -> None:
    with httpx.Client(
        base_url=virtual_cloud.info["graph"]["authority"],
        verify=ssl.create_default_context(cafile=virtual_cloud.ca_path),
    ) as http:
        entra = Entra(virtual_cloud, http)
        refresh_token = entra.token(entra.password_form()).json()["refresh_token"]
        virtual_cloud.advance(91 * 86400)

        response = entra.token(entra.password_form(grant_type="refresh_token", refresh_token=refresh_token))

    body = assert_entra_error(response, 400, "invalid_grant", 700082)
    assert "was inactive for 91.00:00:00" in body["error_description"]


def test_http_basic_client_authentication_is_accepted(entra: Entra) -> None:
    basic = base64.b64encode(f"{entra.client_id}:{entra.secret}".encode()).decode()
    form = {"grant_type": "client_credentials", "scope": "00000003-0000-0000-c000-000000000000/.default"}

    response = entra.token(form, headers={"Authorization": f"Basic {basic}"})

    assert response.status_code == 200, response.text
    assert entra.claims(response.json()["access_token"], audience="00000003-0000-0000-c000-000000000000")
    bad = base64.b64encode(f"{entra.client_id}:nope".encode()).decode()
    refused = entra.token(form, headers={"Authorization": f"Basic {bad}"})
    assert_entra_error(refused, 401, "invalid_client", 7000215)
