"""App registrations: client id, secrets, and the Graph permissions an admin consented to."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

APPLICATION_PERMISSIONS = frozenset(
    {
        "User.Read.All",
        "User.ReadBasic.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Presence.Read.All",
        "Presence.ReadWrite.All",
        "LicenseAssignment.Read.All",
    }
)
DELEGATED_PERMISSIONS = APPLICATION_PERMISSIONS | {"User.Read", "Presence.Read"}


@dataclass
class AppRegistration:
    """An Entra application with one service principal in this tenant."""

    client_id: str
    display_name: str
    secrets: list[str] = field(default_factory=list)
    application_permissions: list[str] = field(default_factory=list)
    delegated_permissions: list[str] = field(default_factory=list)
    service_principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def create(
        cls,
        display_name: str,
        application_permissions: list[str] | None = None,
        delegated_permissions: list[str] | None = None,
        client_id: str | None = None,
    ) -> AppRegistration:
        """A new registration with a fresh client secret; unknown permission names are refused."""
        app = cls(client_id or str(uuid.uuid4()), display_name, [new_secret()])
        app.grant(application_permissions or [], delegated_permissions or [])
        return app

    def grant(self, application: list[str], delegated: list[str]) -> None:
        """Admin consent: add permissions, checking each name."""
        for name in application:
            if name not in APPLICATION_PERMISSIONS:
                raise ValueError(
                    f"unknown application permission {name!r}; known: {', '.join(sorted(APPLICATION_PERMISSIONS))}"
                )
            if name not in self.application_permissions:
                self.application_permissions.append(name)
        for name in delegated:
            if name not in DELEGATED_PERMISSIONS:
                raise ValueError(
                    f"unknown delegated permission {name!r}; known: {', '.join(sorted(DELEGATED_PERMISSIONS))}"
                )
            if name not in self.delegated_permissions:
                self.delegated_permissions.append(name)

    def secret_matches(self, candidate: str) -> bool:
        return any(secrets.compare_digest(candidate.encode(), s.encode()) for s in self.secrets)

    def as_json(self, with_secrets: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "clientId": self.client_id,
            "displayName": self.display_name,
            "servicePrincipalId": self.service_principal_id,
            "applicationPermissions": list(self.application_permissions),
            "delegatedPermissions": list(self.delegated_permissions),
        }
        if with_secrets:
            data["clientSecrets"] = list(self.secrets)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppRegistration:
        app = cls(
            client_id=str(data["clientId"]),
            display_name=str(data["displayName"]),
            secrets=list(data.get("clientSecrets", [])),
            service_principal_id=str(data.get("servicePrincipalId") or uuid.uuid4()),
        )
        app.grant(list(data.get("applicationPermissions", [])), list(data.get("delegatedPermissions", [])))
        return app


def new_secret() -> str:
    """A client secret shaped like Entra's (40 characters, with a ``~``)."""
    return secrets.token_urlsafe(27)[:3] + "8Q~" + secrets.token_urlsafe(30)[:34]
