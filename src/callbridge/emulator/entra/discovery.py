"""Which tenant a URL names, and what MSAL reads before a token: OIDC discovery, instance and user realm."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from callbridge.emulator.entra import errors
from callbridge.emulator.teams.tenant import TeamsTenant

MULTI_TENANT = frozenset({"organizations", "common"})
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "cloud_instance_name",
    "cloud_instance_host_name",
    "cloud_graph_host_name",
    "msgraph_host",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "nonce",
    "preferred_username",
    "name",
    "tid",
    "ver",
    "at_hash",
    "c_hash",
    "email",
]


@dataclass(frozen=True)
class TenantPath:
    """The tenant segment of an Entra URL: this tenant (by id or domain), or ``organizations``/``common``."""

    segment: str
    tenant_id: str | None
    name: str

    @property
    def path(self) -> str:
        """What endpoint URLs carry: the tenant id, or the multi-tenant alias as given."""
        return self.tenant_id or self.segment.lower()


def resolve_tenant(tenant: TeamsTenant, segment: str, error: str = errors.INVALID_REQUEST) -> TenantPath:
    """This tenant when ``segment`` names it; AADSTS900023 when it names nothing, AADSTS90002 another tenant."""
    wanted = segment.lower()
    if wanted in MULTI_TENANT:
        return TenantPath(segment, None, tenant.domain)
    if wanted in (tenant.tenant_id.lower(), tenant.domain.lower()):
        return TenantPath(segment, tenant.tenant_id, tenant.domain)
    if not _is_guid(segment) and "." not in segment.strip("."):
        raise errors.malformed_tenant(segment, error)
    raise errors.tenant_not_found(segment, error)


def openid_configuration(origin: str, tenant: TenantPath) -> dict[str, Any]:
    """The v2.0 discovery document, every endpoint on ``origin``, in Entra's key order."""
    base = f"{origin}/{tenant.path}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(origin, tenant.tenant_id or "{tenantid}"),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{origin}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": list(CLAIMS_SUPPORTED),
        "tenant_region_scope": "NA" if tenant.tenant_id else None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": urlsplit(origin).netloc,
    }


def issuer(origin: str, tenant_id: str) -> str:
    """The v2.0 issuer of ID tokens and of the discovery document."""
    return f"{origin}/{tenant_id}/v2.0"


def instance_metadata(origin: str, authorization_endpoint: str | None) -> dict[str, Any]:
    """``/common/discovery/instance`` for an authority on this host (MSAL names it without the port)."""
    host = urlsplit(origin).netloc.lower()
    target = urlsplit(authorization_endpoint or "")
    tenant = target.path.strip("/").split("/")[0]
    if not tenant or target.hostname is None or target.hostname != urlsplit(origin).hostname:
        raise errors.unknown_instance()
    return {
        "tenant_discovery_endpoint": f"{origin}/{tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }


def user_realm(tenant: TeamsTenant, username: str) -> dict[str, Any]:
    """``/common/userrealm/{username}``: the tenant's own domain is managed (password sign-in), others unknown."""
    domain = username.rpartition("@")[2].lower()
    if domain != tenant.domain.lower():
        return {"ver": "1.0", "account_type": "Unknown", "cloud_instance_name": "microsoftonline.com"}
    return {
        "ver": "1.0",
        "account_type": "Managed",
        "domain_name": tenant.domain,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
