"""The Teams tenant: its users and the admin settings that decide whether ACS may ring them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callbridge.emulator.acs import results
from callbridge.emulator.acs.results import Result


class TenantError(ValueError):
    """A tenant change that cannot be made as asked."""


class AnswerAction(StrEnum):
    """What a simulated Teams user does when their client rings."""

    ACCEPT = "accept"
    DECLINE = "decline"
    BUSY = "busy"
    NO_ANSWER = "noAnswer"
    MANUAL = "manual"


@dataclass
class AnswerBehaviour:
    """The action a user takes and how long they let it ring first."""

    action: AnswerAction = AnswerAction.ACCEPT
    after_seconds: float = 1.0

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action.value, "afterSeconds": self.after_seconds}

    @classmethod
    def from_json(cls, data: object) -> AnswerBehaviour:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TenantError('answer must be an object like {"action": "accept", "afterSeconds": 1}')
        try:
            action = AnswerAction(data.get("action", AnswerAction.ACCEPT.value))
        except ValueError:
            choices = ", ".join(a.value for a in AnswerAction)
            raise TenantError(f"answer.action must be one of {choices}") from None
        after = data.get("afterSeconds", 1.0)
        if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
            raise TenantError("answer.afterSeconds must be a number of seconds >= 0")
        return cls(action, float(after))


@dataclass
class TenantUser:
    """A member of the tenant with a Teams client."""

    id: str
    display_name: str
    mail: str
    user_principal_name: str
    online: bool = True
    answer: AnswerBehaviour = field(default_factory=AnswerBehaviour)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "mail": self.mail,
            "userPrincipalName": self.user_principal_name,
            "online": self.online,
            "answer": self.answer.as_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], domain: str) -> TenantUser:
        """Build a user from the control API's shape, filling id, mail and UPN when left out."""
        display_name = data.get("displayName")
        if not isinstance(display_name, str) or not display_name.strip():
            raise TenantError("displayName is required")
        user_id = data.get("id") or str(uuid.uuid4())
        try:
            user_id = str(uuid.UUID(str(user_id)))
        except ValueError:
            raise TenantError(f"id {user_id!r} is not an Entra object id (a GUID)") from None
        alias = "".join(ch for ch in display_name.lower() if ch.isalnum()) or user_id[:8]
        upn = data.get("userPrincipalName") or f"{alias}@{domain}"
        mail = data.get("mail") or upn
        online = data.get("online", True)
        if not isinstance(online, bool):
            raise TenantError("online must be true or false")
        return cls(
            id=user_id,
            display_name=display_name.strip(),
            mail=str(mail),
            user_principal_name=str(upn),
            online=online,
            answer=AnswerBehaviour.from_json(data.get("answer")),
        )


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
        checked: list[str] = []
        for resource in allowed:
            try:
                checked.append(str(uuid.UUID(str(resource))))
            except ValueError:
                raise TenantError(
                    f"{resource!r} is not an immutable resource id (a GUID); an ARM path or resource name "
                    "is refused by the real cmdlet too"
                ) from None
        return cls(enable, checked)


class TeamsTenant:
    """Users and admin rules of one Microsoft 365 tenant."""

    def __init__(self, tenant_id: str | None = None, domain: str = "contoso.onmicrosoft.com") -> None:
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.domain = domain
        self.users: dict[str, TenantUser] = {}
        self.federation = AcsFederation()

    def add_user(self, user: TenantUser) -> TenantUser:
        if user.id in self.users:
            raise TenantError(f"a user with id {user.id} already exists")
        if any(u.user_principal_name.lower() == user.user_principal_name.lower() for u in self.users.values()):
            raise TenantError(f"userPrincipalName {user.user_principal_name} is already taken")
        self.users[user.id] = user
        return user

    def user(self, user_id: str) -> TenantUser | None:
        """Find a user by object id (any case) or userPrincipalName."""
        wanted = user_id.lower()
        return self.users.get(wanted) or next(
            (u for u in self.users.values() if u.user_principal_name.lower() == wanted), None
        )

    def gate(self, user: TenantUser, immutable_resource_id: str) -> Result | None:
        """The first admin rule that stops this resource from ringing the user, or None."""
        if not self.federation.allows(immutable_resource_id):
            return results.NOT_FEDERATED
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "domain": self.domain,
            "users": [u.as_json() for u in self.users.values()],
            "acsFederation": self.federation.as_json(),
        }

    def load(self, data: dict[str, Any]) -> None:
        self.tenant_id = data.get("tenantId", self.tenant_id)
        self.domain = data.get("domain", self.domain)
        self.users = {}
        for raw in data.get("users", []):
            self.add_user(TenantUser.from_json(raw, self.domain))
        self.federation = AcsFederation.from_json(data.get("acsFederation", {}))
