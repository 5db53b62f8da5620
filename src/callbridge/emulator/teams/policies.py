"""External access policies as Teams applies them: Global plus named ``tag:`` policies, granted per user,
per group with a rank, or as the tenant's global default."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

GLOBAL = "Global"


class PolicyError(ValueError):
    """A policy change the real cmdlets would refuse."""


def policy_identity(name: str) -> str:
    """``Global`` stays as is; ``Name`` and ``tag:Name`` both mean the per-user policy ``tag:Name``."""
    name = name.strip()
    if not name:
        raise PolicyError("a policy needs a name")
    if name.lower() == GLOBAL.lower():
        return GLOBAL
    bare = name[4:] if name.lower().startswith("tag:") else name
    if not bare or any(ch in bare for ch in ":/\\"):
        raise PolicyError(f"{name!r} is not a valid policy name")
    return f"tag:{bare}"


@dataclass(frozen=True)
class ExternalAccessPolicy:
    """``New-/Set-CsExternalAccessPolicy``: the settings ACS interop reads."""

    identity: str
    enable_acs_federation_access: bool = True
    enable_federation_access: bool = True
    enable_teams_consumer_access: bool = True
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "enableAcsFederationAccess": self.enable_acs_federation_access,
            "enableFederationAccess": self.enable_federation_access,
            "enableTeamsConsumerAccess": self.enable_teams_consumer_access,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExternalAccessPolicy:
        policy = cls(policy_identity(str(data.get("identity", ""))))
        return policy.changed(data)

    def changed(self, data: dict[str, Any]) -> ExternalAccessPolicy:
        """A copy with the settings present in ``data`` applied; other keys are refused by name."""
        fields = {
            "enableAcsFederationAccess": "enable_acs_federation_access",
            "enableFederationAccess": "enable_federation_access",
            "enableTeamsConsumerAccess": "enable_teams_consumer_access",
        }
        updates: dict[str, Any] = {}
        for key, value in data.items():
            if key == "identity":
                continue
            if key == "description":
                updates["description"] = str(value)
            elif key in fields:
                if not isinstance(value, bool):
                    raise PolicyError(f"{key} must be true or false")
                updates[fields[key]] = value
            else:
                raise PolicyError(f"unknown policy setting {key!r}; known: {', '.join(fields)}, description")
        return replace(self, **updates)


@dataclass(frozen=True)
class GroupGrant:
    """``Grant-CsExternalAccessPolicy -Group … -Rank …``: rank 1 wins over rank 2."""

    group_id: str
    policy: str
    rank: int

    def as_json(self) -> dict[str, Any]:
        return {"groupId": self.group_id, "policyName": self.policy, "rank": self.rank}


@dataclass(frozen=True)
class PolicyAssignments:
    """Who gets which policy: direct grants beat group grants (by rank), which beat the tenant default."""

    users: dict[str, str] = field(default_factory=dict)
    groups: tuple[GroupGrant, ...] = ()
    global_policy: str = GLOBAL

    def effective(self, user_id: str, groups_of_user: set[str]) -> str:
        """The policy identity that applies to the user."""
        direct = self.users.get(user_id)
        if direct is not None:
            return direct
        ranked = sorted((g for g in self.groups if g.group_id in groups_of_user), key=lambda g: g.rank)
        return ranked[0].policy if ranked else self.global_policy

    def as_json(self) -> dict[str, Any]:
        return {
            "users": dict(self.users),
            "groups": [g.as_json() for g in self.groups],
            "global": self.global_policy,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicyAssignments:
        groups = tuple(
            GroupGrant(str(g["groupId"]), policy_identity(str(g["policyName"])), int(g["rank"]))
            for g in data.get("groups", [])
        )
        users = {str(k): policy_identity(str(v)) for k, v in data.get("users", {}).items()}
        return cls(users, groups, policy_identity(str(data.get("global", GLOBAL))))
