"""The ``scope`` parameter as Entra reads it: one resource (here only Graph), its permissions, OIDC scopes."""

from __future__ import annotations

from dataclasses import dataclass

from callbridge.emulator.entra import errors
from callbridge.emulator.entra.apps import DELEGATED_PERMISSIONS, AppRegistration
from callbridge.emulator.entra.tokens import GRAPH_APP_ID, GRAPH_RESOURCE

OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
DEFAULT = ".default"
GRAPH = "graph"
KNOWN_DELEGATED = {name.lower(): name for name in DELEGATED_PERMISSIONS}


@dataclass(frozen=True)
class DelegatedScope:
    """A delegated request's ``scope``: the resource's permissions as sent, their names, the OIDC scopes."""

    raw: str
    audience: str
    requested: tuple[str, ...]
    names: tuple[str, ...]
    oidc: frozenset[str]

    @property
    def wants_all(self) -> bool:
        """``/.default``, or no resource scope at all: every permission consented for the app."""
        return not self.names or any(name.lower() == DEFAULT for name in self.names)


def app_audience(raw: str, tenant_name: str) -> str:
    """The audience of an app-only token for ``raw``, which must be exactly one ``{resource}/.default``."""
    scopes = [token for token in raw.split() if token.lower() not in OIDC_SCOPES]
    if len(scopes) != 1:
        raise errors.invalid_scope(raw)
    resource, _, name = scopes[0].rpartition("/")
    if not resource or name.lower() != DEFAULT:
        raise errors.default_scope_required(scopes[0])
    return audience(resource, tenant_name)


def delegated_scope(raw: str, tenant_name: str) -> DelegatedScope:
    """Split ``raw`` into one resource's permissions (bare names are Graph's) and the OIDC scopes."""
    oidc: set[str] = set()
    requested: list[str] = []
    names: list[str] = []
    resources: dict[str, str] = {}
    for token in raw.split():
        if token.lower() in OIDC_SCOPES:
            oidc.add(token.lower())
            continue
        resource, _, name = token.rpartition("/")
        if not name:
            raise errors.invalid_scope(raw)
        resource = resource or GRAPH_RESOURCE
        resources.setdefault(_resource_key(resource), resource)
        requested.append(token)
        names.append(name)
    if len(resources) > 1:
        raise errors.several_resources(raw)
    resource = next(iter(resources.values()), GRAPH_RESOURCE)
    scope = DelegatedScope(raw, audience(resource, tenant_name), tuple(requested), tuple(names), frozenset(oidc))
    if scope.wants_all and len(names) > 1:
        raise errors.invalid_scope(raw)
    return scope


def consented(app: AppRegistration, scope: DelegatedScope) -> list[str]:
    """The permissions a delegated token carries: all consented for ``/.default``, else the named ones if consented."""
    if scope.wants_all:
        return list(app.delegated_permissions)
    granted = {name.lower() for name in app.delegated_permissions}
    permissions: list[str] = []
    for token, name in zip(scope.requested, scope.names, strict=True):
        known = KNOWN_DELEGATED.get(name.lower())
        if known is None:
            raise errors.unknown_permission(token)
        if known.lower() not in granted:
            raise errors.consent_required(app.client_id, app.display_name)
        if known not in permissions:
            permissions.append(known)
    return permissions


def audience(resource: str, tenant_name: str) -> str:
    """The ``aud`` Entra puts in tokens for ``resource``; anything but Graph is unknown here (AADSTS500011)."""
    if _resource_key(resource) != GRAPH:
        raise errors.resource_not_found(resource, tenant_name)
    if resource.lower() == GRAPH_APP_ID:
        return GRAPH_APP_ID
    return GRAPH_RESOURCE + "/" if resource.endswith("/") else GRAPH_RESOURCE


def _resource_key(resource: str) -> str:
    lowered = resource.lower()
    if lowered.rstrip("/") == GRAPH_RESOURCE or lowered == GRAPH_APP_ID:
        return GRAPH
    return lowered.rstrip("/")
