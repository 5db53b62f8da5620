"""Fixtures for the Entra tests: the demo tenant's authority, its demo app, and an HTTPS client trusting the CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.support.scenario import Cloud

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
ART_UPN = "artanderson@contoso.onmicrosoft.com"
PASSWORD = "callbridge"


@dataclass
class Entra:
    """The demo cloud's Entra as an app sees it: authority, tenant, demo app, and a raw HTTPS client."""

    cloud: Cloud
    http: httpx.Client

    @property
    def authority(self) -> str:
        return str(self.cloud.info["graph"]["authority"])

    @property
    def tenant_id(self) -> str:
        return str(self.cloud.info["graph"]["tenantId"])

    @property
    def domain(self) -> str:
        return str(self.cloud.info["graph"]["domain"])

    @property
    def client_id(self) -> str:
        return str(self.cloud.info["graph"]["demoApp"]["clientId"])

    @property
    def secret(self) -> str:
        return str(self.cloud.info["graph"]["demoApp"]["clientSecret"])

    @property
    def ca_path(self) -> str:
        return self.cloud.ca_path

    def token(
        self, form: dict[str, str], tenant: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST a form to the token endpoint over HTTPS."""
        return self.http.post(f"/{tenant or self.tenant_id}/oauth2/v2.0/token", data=form, headers=headers)

    def app_form(self, **changes: str) -> dict[str, str]:
        """A valid client-credentials form for the demo app, with ``changes`` applied."""
        return {
            "client_id": self.client_id,
            "client_secret": self.secret,
            "grant_type": "client_credentials",
            "scope": GRAPH_DEFAULT,
            **changes,
        }

    def password_form(self, **changes: str) -> dict[str, str]:
        """A valid ROPC form for Art Anderson through the demo app, with ``changes`` applied."""
        return {
            "client_id": self.client_id,
            "grant_type": "password",
            "username": ART_UPN,
            "password": PASSWORD,
            "scope": "https://graph.microsoft.com/User.Read.All offline_access openid profile",
            "client_info": "1",
            **changes,
        }

    def claims(self, token: str, audience: str = "https://graph.microsoft.com", issuer: str | None = None) -> Any:
        """Verify ``token`` as a relying party would: key from the JWKS the discovery document points to."""
        config = self.http.get(f"/{self.tenant_id}/v2.0/.well-known/openid-configuration").json()
        keys = jwt.PyJWKSet.from_dict(self.http.get(config["jwks_uri"]).json())
        key = keys[jwt.get_unverified_header(token)["kid"]].key
        expected_issuer = issuer or f"https://sts.windows.net/{self.tenant_id}/"
        return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=expected_issuer)


@pytest.fixture
def entra(cloud: Cloud) -> Iterator[Entra]:
    trust = ssl.create_default_context(cafile=cloud.ca_path)
    with httpx.Client(base_url=cloud.info["graph"]["authority"], verify=trust, timeout=30) as http:
        yield Entra(cloud, http)
