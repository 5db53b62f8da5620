"""The Teams tenant's control operations: users, groups, app registrations, Teams admin rules, Teams clients.

The endpoints mirror the admin cmdlets a Teams admin would run (``Set-CsTeamsAcsFederationConfiguration``,
``New-/Set-/Grant-CsExternalAccessPolicy``) so the emulator teaches the real procedure.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callbridge.emulator.cloud import LocalCloud
from callbridge.emulator.control.base import ControlError, Guard, read_json
from callbridge.emulator.entra.apps import AppRegistration
from callbridge.emulator.teams.policies import ExternalAccessPolicy, policy_identity
from callbridge.emulator.teams.tenant import AcsFederation, Group
from callbridge.emulator.teams.users import TenantUser


class TenantControl:
    """Handlers over the cloud's tenant and its Teams clients."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def routes(self) -> list[BaseRoute]:
        g = Guard(self.cloud.journal)
        return [
            Route("/teams/users", g(self.users), methods=["GET", "POST"]),
            Route("/teams/users/{user_id}", g(self.user), methods=["GET", "PATCH"]),
            Route("/teams/users/{user_id}/client", g(self.client_view), methods=["GET"]),
            Route("/teams/users/{user_id}/gates", g(self.gates), methods=["GET"]),
            Route("/teams/users/{user_id}/client:{action}", g(self.client_action), methods=["POST"]),
            Route("/teams/groups", g(self.groups), methods=["GET", "POST"]),
            Route("/teams/acs-federation", g(self.federation), methods=["GET", "PUT"]),
            Route("/teams/external-access-policies", g(self.policies), methods=["GET", "POST"]),
            Route("/teams/external-access-policies:grant", g(self.grant), methods=["POST"]),
            Route("/teams/external-access-policies/{identity}", g(self.policy), methods=["GET", "PATCH", "DELETE"]),
            Route("/teams/settings", g(self.settings), methods=["GET", "PATCH"]),
            Route("/entra/apps", g(self.apps), methods=["GET", "POST"]),
        ]

    def _now_iso(self) -> str:
        return self.cloud.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    # ------------------------------------------------------------------ users

    def user_json(self, user: TenantUser) -> dict[str, Any]:
        """A user as the control API shows them: profile, gates, client state, effective presence (``presence``)
        and the presence they set (``preferredPresence``)."""
        return {
            **user.as_json(),
            "presence": self.cloud.teams.presence(user).as_json(),
            "preferredPresence": user.presence.as_json(),
        }

    async def users(self, request: Request) -> Response:
        tenant = self.cloud.tenant
        if request.method == "GET":
            return JSONResponse({"value": [self.user_json(u) for u in tenant.users.values()]})
        body = await read_json(request)
        batch = body.get("value")
        if isinstance(batch, list):
            created = [
                tenant.add_user(TenantUser.from_json(_object(item), tenant.domain, self._now_iso())) for item in batch
            ]
            self.cloud.save()
            return JSONResponse({"value": [self.user_json(u) for u in created]}, status_code=201)
        user = tenant.add_user(TenantUser.from_json(body, tenant.domain, self._now_iso()))
        self.cloud.save()
        return JSONResponse(self.user_json(user), status_code=201)

    def _user(self, request: Request) -> TenantUser:
        key = request.path_params["user_id"]
        user = self.cloud.tenant.user(key)
        if user is None:
            raise ControlError(404, "NotFound", f"No Teams user {key!r} in the tenant.")
        return user

    async def user(self, request: Request) -> Response:
        user = self._user(request)
        if request.method == "PATCH":
            self.cloud.tenant.update_user(user.id, await read_json(request))
            self.cloud.save()
        return JSONResponse(self.user_json(user))

    async def gates(self, request: Request) -> Response:
        """Each admin gate for this resource and the user, as in force now, and the first that would fail."""
        user = self._user(request)
        tenant = self.cloud.tenant
        resource = self.cloud.resource.immutable_id
        blocked = tenant.gate(user, resource)
        policy = tenant.effective_policy(user)
        return JSONResponse(
            {
                "userId": user.id,
                "federationAllowsResource": tenant.federation.allows(resource),
                "externalAccessPolicy": policy.identity,
                "enableAcsFederationAccess": policy.enable_acs_federation_access,
                "teamsPhone": user.has_teams_phone,
                "enterpriseVoiceEnabled": user.enterprise_voice_enabled,
                "userType": user.user_type,
                "online": user.online,
                "blockedBy": {"code": blocked.code, "subCode": blocked.sub_code, "message": blocked.message}
                if blocked
                else None,
                "pendingChanges": tenant.propagation.pending(),
            }
        )

    async def client_view(self, request: Request) -> Response:
        return JSONResponse(self.cloud.teams.view(self._user(request).id))

    async def client_action(self, request: Request) -> Response:
        user = self._user(request)
        action = request.path_params["action"]
        invitation_id = (await read_json(request)).get("invitationId")
        teams = self.cloud.teams
        if action == "accept":
            teams.accept(user.id, invitation_id)
        elif action == "decline":
            teams.decline(user.id, invitation_id)
        elif action == "hangUp":
            teams.hang_up(user.id)
        else:
            raise ControlError(404, "NotFound", f"Unknown client action {action!r}; use :accept, :decline or :hangUp.")
        return JSONResponse(teams.view(user.id))

    async def groups(self, request: Request) -> Response:
        tenant = self.cloud.tenant
        if request.method == "GET":
            return JSONResponse({"value": [g.as_json() for g in tenant.groups.values()]})
        body = await read_json(request)
        name = body.get("displayName")
        members = body.get("members", [])
        if not isinstance(name, str) or not name.strip():
            raise ControlError(400, "BadRequest", "displayName is required.")
        if not isinstance(members, list):
            raise ControlError(400, "BadRequest", "members must be a list of user ids or userPrincipalNames.")
        member_ids = {tenant.require_user(str(m)).id for m in members}
        group = tenant.add_group(Group(str(body.get("id") or uuid.uuid4()), name.strip(), member_ids))
        self.cloud.save()
        return JSONResponse(group.as_json(), status_code=201)

    # ------------------------------------------------------------------ Teams admin

    async def federation(self, request: Request) -> Response:
        """``Get-/Set-CsTeamsAcsFederationConfiguration``."""
        tenant = self.cloud.tenant
        if request.method == "PUT":
            tenant.set_federation(AcsFederation.from_json(await read_json(request)))
            self.cloud.save()
        return JSONResponse(tenant.federation.as_json())

    async def policies(self, request: Request) -> Response:
        """``Get-CsExternalAccessPolicy`` (GET) and ``New-CsExternalAccessPolicy`` (POST)."""
        tenant = self.cloud.tenant
        if request.method == "GET":
            return JSONResponse(
                {
                    "value": [p.as_json() for p in tenant.policies.values()],
                    "assignments": tenant.assignments.as_json(),
                    "pending": tenant.propagation.pending(),
                }
            )
        policy = ExternalAccessPolicy.from_json(await read_json(request))
        if policy.identity in tenant.policies:
            raise ControlError(409, "Conflict", f"{policy.identity} already exists; change it with PATCH.")
        tenant.save_policy(policy)
        self.cloud.save()
        return JSONResponse(policy.as_json(), status_code=201)

    async def policy(self, request: Request) -> Response:
        """``Get-``, ``Set-`` (PATCH) and ``Remove-CsExternalAccessPolicy`` (DELETE)."""
        tenant = self.cloud.tenant
        identity = policy_identity(request.path_params["identity"])
        current = tenant.policy(identity)
        if request.method == "PATCH":
            current = current.changed(await read_json(request))
            tenant.save_policy(current)
            self.cloud.save()
        elif request.method == "DELETE":
            tenant.remove_policy(identity)
            self.cloud.save()
            return Response(status_code=204)
        return JSONResponse(current.as_json())

    async def grant(self, request: Request) -> Response:
        """``Grant-CsExternalAccessPolicy``: ``{"policyName", "user"}``, ``{"policyName", "group", "rank"}`` or
        ``{"policyName", "global": true}``; a null policyName revokes."""
        body = await read_json(request)
        policy = body.get("policyName")
        rank = body.get("rank")
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int)):
            raise ControlError(400, "BadRequest", "rank must be a whole number (1 wins).")
        assignments = self.cloud.tenant.grant_policy(
            str(policy) if policy is not None else None,
            user=_optional_str(body, "user"),
            group=_optional_str(body, "group"),
            rank=rank,
            to_global=body.get("global") is True,
        )
        self.cloud.save()
        return JSONResponse(assignments.as_json())

    async def settings(self, request: Request) -> Response:
        tenant = self.cloud.tenant
        if request.method == "PATCH":
            tenant.settings.update(await read_json(request))
            self.cloud.save()
        return JSONResponse({**tenant.settings.as_json(), "tenantId": tenant.tenant_id, "domain": tenant.domain})

    # ------------------------------------------------------------------ Entra

    async def apps(self, request: Request) -> Response:
        """App registrations; creating one returns its client secret (shown once, as Entra does)."""
        tenant = self.cloud.tenant
        if request.method == "GET":
            return JSONResponse({"value": [a.as_json() for a in tenant.apps.values()]})
        body = await read_json(request)
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise ControlError(400, "BadRequest", "displayName is required.")
        app = AppRegistration.create(
            name.strip(),
            _str_list(body, "applicationPermissions"),
            _str_list(body, "delegatedPermissions"),
        )
        tenant.add_app(app)
        self.cloud.save()
        return JSONResponse({**app.as_json(), "clientSecret": app.secrets[0]}, status_code=201)


def _object(item: object) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ControlError(400, "BadRequest", "each user must be a JSON object")
    return item


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, "BadRequest", f"{key} must be a string.")
    return value


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlError(400, "BadRequest", f"{key} must be a list of permission names.")
    return value
