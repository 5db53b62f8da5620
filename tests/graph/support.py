"""Graph test helpers: the official msgraph-sdk pointed at the local cloud, with tokens minted by its Entra key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient

from callbridge.emulator.seed import DEMO_APP_CLIENT_ID
from callbridge.emulator.server import RunningEmulator
from tests.support.scenario import Cloud

GRAPH_SCOPES = ["https://graph.microsoft.com/.default"]
QUIET_SDK = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msgraph"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:kiota_abstractions"),
]


class MintedCredential:
    """A token credential that mints a fresh Graph token for the app on every call, so tests do not need the
    Entra token endpoint; ``get_token`` takes the keyword arguments kiota passes (claims, enable_cae)."""

    def __init__(self, mint: Callable[[], str]) -> None:
        self.mint = mint

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.mint(), int(time.time()) + 3600)


def app_minter(emulator: RunningEmulator, client_id: str = DEMO_APP_CLIENT_ID) -> Callable[[], str]:
    """Mint app-only tokens for a registration as it stands in the (possibly reset) tenant."""
    cloud = emulator.cloud
    return lambda: cloud.tokens.issue_app_token(cloud.tenant.apps[client_id])


def graph_client(emulator: RunningEmulator, credential: object) -> GraphServiceClient:
    """The official client, its base URL moved to the emulator's plain-HTTP Graph."""
    client = GraphServiceClient(credentials=credential, scopes=GRAPH_SCOPES)
    client.request_adapter.base_url = emulator.cloud.urls.http + "/v1.0"
    return client


def eventual(params: Any = None) -> RequestConfiguration[Any]:
    """A request configuration with ``ConsistencyLevel: eventual`` and the given query parameters object."""
    config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=params)
    config.headers.add("ConsistencyLevel", "eventual")
    return config


def raw_graph(cloud: Cloud, client_id: str = DEMO_APP_CLIENT_ID) -> httpx.Client:
    """Plain HTTP to the emulator's Graph with an app token for the registration."""
    emulator = cloud.emulator.cloud
    token = emulator.tokens.issue_app_token(emulator.tenant.apps[client_id])
    return httpx.Client(
        base_url=cloud.info["graph"]["httpBaseUrl"], headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def register_app(cloud: Cloud, *application_permissions: str, delegated: tuple[str, ...] = ()) -> str:
    """Register an app with admin consent for exactly these permissions; its client id."""
    body = {
        "displayName": "graph test app",
        "applicationPermissions": list(application_permissions),
        "delegatedPermissions": list(delegated),
    }
    return str(cloud.ok(cloud.control.post("/entra/apps", json=body)).json()["clientId"])
