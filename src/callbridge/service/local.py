"""Settings that wire the service to a running local cloud, exactly as it would be wired to Azure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from callbridge.emulator.seed import DEMO_NUMBER
from callbridge.service.settings import Fallback, RoutingRule, ServiceSettings

DEMO_SOURCE_DISPLAY_NAME = "Jack (Contoso Tech Support)"


def demo_rule() -> RoutingRule:
    """Calls to the demo number ring Art Anderson, as Jack of Contoso Tech Support; nobody answers: hang up."""
    return RoutingRule(
        number=DEMO_NUMBER,
        targets=["Art Anderson"],
        source_display_name=DEMO_SOURCE_DISPLAY_NAME,
        strategy="first-available",
        ring_timeout_seconds=30,
        fallback=Fallback(action="hangup"),
    )


def local_cloud_settings(
    info: dict[str, Any],
    data_dir: Path,
    api_key: str,
    routes: list[RoutingRule] | None = None,
    port: int = 0,
    eventgrid_secret: str | None = None,
) -> ServiceSettings:
    """The local cloud's endpoints, CA, keys and demo app, from its ``/emulator/info``."""
    ca = Path(info["caCertificatePath"])
    graph = info["graph"]
    demo_app = graph.get("demoApp") or {}
    return ServiceSettings(
        acs_connection_string=SecretStr(info["acs"]["connectionString"]),
        acs_ca_file=ca,
        acs_immutable_resource_id=info["acs"]["immutableResourceId"],
        callback_jwks_url=info["acs"]["jwksUri"],
        callback_jwks_ca_file=ca,
        graph_tenant_id=graph["tenantId"],
        graph_client_id=demo_app.get("clientId"),
        graph_client_secret=SecretStr(demo_app["clientSecret"]) if demo_app.get("clientSecret") else None,
        graph_authority=graph["authority"],
        graph_base_url=graph["httpBaseUrl"],
        graph_disable_instance_discovery=True,
        graph_ca_file=ca,
        store_url=f"sqlite:///{data_dir / 'service.db'}",
        operator_api_key=SecretStr(api_key),
        eventgrid_secret=SecretStr(eventgrid_secret) if eventgrid_secret else None,
        routes=routes if routes is not None else [demo_rule()],
        port=port,
    )
