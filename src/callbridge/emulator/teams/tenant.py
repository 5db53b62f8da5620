"""The Microsoft 365 tenant: users, groups, app registrations, and the Teams admin rules that decide whether
an ACS resource may ring a user."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from callbridge.emulator.acs import results
from callbridge.emulator.acs.results import Result
from callbridge.emulator.entra.apps import AppRegistration
from callbridge.emulator.teams.policies import (
    GLOBAL,
    ExternalAccessPolicy,
    GroupGrant,
    PolicyAssignments,
    PolicyError,
    policy_identity,
)
from callbridge.emulator.teams.propagation import Propagation
from callbridge.emulator.teams.users import TenantError, TenantUser, parse_licences


@dataclass
class AcsFederation:
    """``Set-CsTeamsAcsFederationConfiguration``: which ACS resources may call the tenant's users."""

    enable_acs_users: bool = False
    allowed_acs_resources: list[str] = field(default_factory=list)

    def allows(self, immutable_resource_id: str) -> bool:
        wanted = immutable_resource_id.lower()
        return self.enable_acs_users and any(r.lower() == wanted for r in self.allowed_acs_resources)

    def as_json(self) -> dict[str, Any]:
        return {
            "identity": "Global",
            "enableAcsUsers": self.enable_acs_users,
            "allowedAcsResources": list(self.allowed_acs_resources),
        }

    @classmethod
    def from_json(cls, data: object) -> AcsFederation:
        if not isinstance(data, dict):
            raise TenantError("the federation setting must be an object with enableAcsUsers and allowedAcsResources")
        enable = data.get("enableAcsUsers", False)
        if not isinstance(enable, bool):
            raise TenantError("enableAcsUsers must be true or false")
        allowed = data.get("allowedAcsResources", [])
        if not isinstance(allowed, list):
            raise TenantError("allowedAcsResources must be a list of immutable resource ids")
        checked = []
        for resource in allowed:
            try:
                checked.append(str(uuid.UUID(str(resource))))
            except ValueError:
                raise TenantError(
                    f"{resource!r} is not an immutable resource id (a GUID); an ARM path or resource name "
                    "is refused by the real cmdlet too"
                ) from None
        return cls(enable, checked)


@dataclass
class Group:
    """A security group, used to grant policies by rank."""

    id: str
    display_name: str
    members: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "displayName": self.display_name, "members": sorted(self.members)}


@dataclass
class TenantSettings:
    """Tenant-wide behaviour of the emulated services."""

    propagation_delay_seconds: float = 0.0
    presence_delegated_only: bool = False
    presence_requests_per_window: int = 1500
    presence_window_seconds: float = 30.0

    def as_json(self) -> dict[str, Any]:
        return {
            "propagationDelaySeconds": self.propagation_delay_seconds,
            "presenceDelegatedOnly": self.presence_delegated_only,
            "presenceRequestsPerWindow": self.presence_requests_per_window,
            "presenceWindowSeconds": self.presence_window_seconds,
        }

    def update(self, data: dict[str, Any]) -> None:
        for key, attr, kind in (
            ("propagationDelaySeconds", "propagation_delay_seconds", float),
            ("presenceDelegatedOnly", "presence_delegated_only", bool),
            ("presenceRequestsPerWindow", "presence_requests_per_window", int),
            ("presenceWindowSeconds", "presence_window_seconds", float),
        ):
            if key not in data:
                continue
            value = data[key]
            if kind is bool:
                if not isinstance(value, bool):
                    raise TenantError(f"{key} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise TenantError(f"{key} must be a number >= 0")
            setattr(self, attr, kind(value))


class TeamsTenant:
    """Users, groups, apps and admin rules of one tenant; gate decisions honour the propagation delay."""

    def __init__(
        self, now: Callable[[], float], tenant_id: str | None = None, domain: str = "contoso.onmicrosoft.com"
    ) -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.domain = domain
        self.users: dict[str, TenantUser] = {}
        self._by_upn: dict[str, str] = {}
        self.groups: dict[str, Group] = {}
        self.apps: dict[str, AppRegistration] = {}
        self.federation = AcsFederation()
        self.policies: dict[str, ExternalAccessPolicy] = {GLOBAL: ExternalAccessPolicy(GLOBAL)}
        self.assignments = PolicyAssignments()
        self.settings = TenantSettings()
        self.propagation = Propagation(now, lambda: self.settings.propagation_delay_seconds)

    # ------------------------------------------------------------------ directory

    def add_user(self, user: TenantUser) -> TenantUser:
        if user.id in self.users:
            raise TenantError(f"a user with id {user.id} already exists")
        if user.user_principal_name.lower() in self._by_upn:
            raise TenantError(f"userPrincipalName {user.user_principal_name} is already taken")
        self.users[user.id] = user
        self._by_upn[user.user_principal_name.lower()] = user.id
        return user

    def user(self, key: str) -> TenantUser | None:
        """A user by object id (any case) or userPrincipalName."""
        wanted = key.lower()
        found = self.users.get(wanted)
        if found is None and wanted in self._by_upn:
            found = self.users.get(self._by_upn[wanted])
        return found

    def require_user(self, key: str) -> TenantUser:
        user = self.user(key)
        if user is None:
            raise TenantError(f"no user {key!r} in the tenant")
        return user

    def resource_account(self, app_id: str) -> TenantUser | None:
        wanted = app_id.lower()
        return next((u for u in self.users.values() if (u.resource_account_app_id or "").lower() == wanted), None)

    def add_group(self, group: Group) -> Group:
        if group.id in self.groups:
            raise TenantError(f"a group with id {group.id} already exists")
        for member in group.members:
            self.require_user(member)
        old = self._memberships()
        self.groups[group.id] = group
        self.propagation.changed("groups", old, self._memberships())
        return group

    def group(self, key: str) -> Group:
        wanted = key.lower()
        found = self.groups.get(wanted) or next(
            (g for g in self.groups.values() if g.display_name.lower() == wanted), None
        )
        if found is None:
            raise TenantError(f"no group {key!r} in the tenant")
        return found

    def _memberships(self) -> dict[str, frozenset[str]]:
        return {g.id: frozenset(g.members) for g in self.groups.values()}

    def add_app(self, app: AppRegistration) -> AppRegistration:
        if app.client_id in self.apps:
            raise TenantError(f"an app with client id {app.client_id} already exists")
        self.apps[app.client_id] = app
        return app

    # ------------------------------------------------------------------ admin rules (propagate)

    def set_federation(self, federation: AcsFederation) -> None:
        self.propagation.changed("federation", self.federation, federation)
        self.federation = federation

    def save_policy(self, policy: ExternalAccessPolicy) -> None:
        """``New-`` (a new identity) or ``Set-CsExternalAccessPolicy`` (an existing one)."""
        old = dict(self.policies)
        self.policies[policy.identity] = policy
        self.propagation.changed("policies", old, dict(self.policies))

    def policy(self, identity: str) -> ExternalAccessPolicy:
        key = policy_identity(identity)
        found = self.policies.get(key)
        if found is None:
            raise TenantError(f"no external access policy {key!r}; create it with new-external-access-policy")
        return found

    def remove_policy(self, identity: str) -> None:
        key = policy_identity(identity)
        if key == GLOBAL:
            raise TenantError("the Global policy cannot be removed; change its settings instead")
        self.policy(key)
        users = [u for u, p in self.assignments.users.items() if p == key]
        if users or any(g.policy == key for g in self.assignments.groups) or self.assignments.global_policy == key:
            raise TenantError(f"{key} is still granted; revoke it first")
        old = dict(self.policies)
        del self.policies[key]
        self.propagation.changed("policies", old, dict(self.policies))

    def grant_policy(
        self,
        policy: str | None,
        user: str | None = None,
        group: str | None = None,
        rank: int | None = None,
        to_global: bool = False,
    ) -> PolicyAssignments:
        """``Grant-CsExternalAccessPolicy``: one of user, group (with rank) or global; policy None revokes."""
        if sum((user is not None, group is not None, to_global)) != 1:
            raise TenantError("grant to exactly one of: a user, a group (with a rank), or the tenant (global)")
        identity = policy_identity(policy) if policy is not None else None
        if identity is not None:
            self.policy(identity)
        current = self.assignments
        if user is not None:
            users = dict(current.users)
            user_id = self.require_user(user).id
            if identity is None:
                users.pop(user_id, None)
            else:
                users[user_id] = identity
            updated = replace(current, users=users)
        elif group is not None:
            group_id = self.group(group).id
            grants = [g for g in current.groups if g.group_id != group_id]
            if identity is not None:
                if rank is None or rank < 1:
                    raise TenantError("a group grant needs a rank of 1 or more (1 wins)")
                grants.append(GroupGrant(group_id, identity, rank))
            updated = replace(current, groups=tuple(grants))
        else:
            updated = replace(current, global_policy=identity or GLOBAL)
        self.propagation.changed("assignments", current, updated)
        self.assignments = updated
        return updated

    def update_user(self, user_id: str, data: dict[str, Any]) -> TenantUser:
        """Change profile and client settings; licence, voice and userType changes propagate."""
        user = self.require_user(user_id)
        old = self._callable(user)
        old_upn = user.user_principal_name.lower()
        if "licenses" in data:
            user.licences = parse_licences(data["licenses"])
        user.update(data)
        if "userPrincipalName" in data and str(data["userPrincipalName"]).lower() != old_upn:
            raise TenantError("userPrincipalName cannot be changed here")
        self.propagation.changed(f"user:{user.id}", old, self._callable(user))
        return user

    @staticmethod
    def _callable(user: TenantUser) -> tuple[bool, bool, str]:
        return (user.has_teams_phone, user.enterprise_voice_enabled, user.user_type)

    # ------------------------------------------------------------------ decisions

    def effective_policy(self, user: TenantUser) -> ExternalAccessPolicy:
        """The user's external access policy as in force now (direct > group rank > global)."""
        assignments: PolicyAssignments = self.propagation.effective("assignments", self.assignments)
        policies: dict[str, ExternalAccessPolicy] = self.propagation.effective("policies", self.policies)
        memberships: dict[str, frozenset[str]] = self.propagation.effective("groups", self._memberships())
        groups = {gid for gid, members in memberships.items() if user.id in members}
        identity = assignments.effective(user.id, groups)
        return policies.get(identity) or policies[GLOBAL]

    def gate(self, user: TenantUser, immutable_resource_id: str) -> Result | None:
        """The first admin rule that stops this resource from ringing the user, in the service's order."""
        federation: AcsFederation = self.propagation.effective("federation", self.federation)
        if not federation.allows(immutable_resource_id):
            return results.NOT_FEDERATED
        if not self.effective_policy(user).enable_acs_federation_access:
            return results.POLICY_BLOCKED
        teams_phone, voice, user_type = self.propagation.effective(f"user:{user.id}", self._callable(user))
        if not teams_phone or not voice:
            return results.NO_TEAMS_PHONE
        if user_type != "Member":
            return results.NOT_A_TEAMS_ACCOUNT
        return None

    # ------------------------------------------------------------------ persistence

    def as_json(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "domain": self.domain,
            "users": [u.stored_json() for u in self.users.values()],
            "groups": [g.as_json() for g in self.groups.values()],
            "apps": [a.as_json(with_secrets=True) for a in self.apps.values()],
            "acsFederation": self.federation.as_json(),
            "externalAccessPolicies": [p.as_json() for p in self.policies.values()],
            "policyAssignments": self.assignments.as_json(),
            "settings": self.settings.as_json(),
        }

    def load(self, data: dict[str, Any], now_iso: str) -> None:
        """Replace everything with a saved tenant."""
        self.tenant_id = data.get("tenantId", self.tenant_id)
        self.domain = data.get("domain", self.domain)
        self.users, self._by_upn, self.groups, self.apps = {}, {}, {}, {}
        for raw in data.get("users", []):
            user = TenantUser.from_json({"licenses": [], **raw}, self.domain, now_iso)
            user.created_date_time = raw.get("createdDateTime", now_iso)
            self.add_user(user)
        for raw in data.get("groups", []):
            self.groups[raw["id"]] = Group(raw["id"], raw["displayName"], set(raw.get("members", [])))
        for raw in data.get("apps", []):
            self.add_app(AppRegistration.from_json(raw))
        self.federation = AcsFederation.from_json(data.get("acsFederation", {}))
        try:
            policies = [ExternalAccessPolicy.from_json(p) for p in data.get("externalAccessPolicies", [])]
            self.policies = {GLOBAL: ExternalAccessPolicy(GLOBAL), **{p.identity: p for p in policies}}
            self.assignments = PolicyAssignments.from_json(data.get("policyAssignments", {}))
        except (PolicyError, KeyError, TypeError) as exc:
            raise TenantError(f"saved policies are unreadable: {exc}") from None
        self.settings = TenantSettings()
        self.settings.update(data.get("settings", {}))
        self.propagation.clear()
