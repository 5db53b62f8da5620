"""Access tokens as Entra issues them for Microsoft Graph (v1.0 claims, RS256), and their verification."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import jwt

from callbridge.emulator.clock import Clock
from callbridge.emulator.entra.apps import AppRegistration
from callbridge.emulator.keys import SigningKey
from callbridge.emulator.teams.users import TenantUser

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_AUDIENCES = (GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID)
DEFAULT_LIFETIME_SECONDS = 3599
ID_TOKEN_LIFETIME_SECONDS = 3600
REFRESH_LIFETIME_SECONDS = 90 * 24 * 3600
REFRESH_TOKEN_USE = "refresh"


class TokenError(Exception):
    """An access token Graph refuses; ``message`` is Graph's ``InvalidAuthenticationToken`` text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for: an app alone (``roles``) or a user through an app (``scopes``)."""

    tenant_id: str
    app_id: str
    object_id: str
    roles: frozenset[str]
    scopes: frozenset[str]
    user_id: str | None = None

    @property
    def is_app_only(self) -> bool:
        return self.user_id is None

    def holds(self, permissions: AbstractSet[str]) -> bool:
        """True when the token carries one of the permissions: as a role (app-only) or a scope (delegated)."""
        return bool((self.roles if self.is_app_only else self.scopes) & permissions)


@dataclass(frozen=True)
class RefreshGrant:
    """What a refresh token stands for: a user's sign-in to an app, the scope it asked for, and its lifetime."""

    client_id: str
    user_id: str
    scope: str
    issued_at: int
    expires_at: int


class TokenService:
    """Mints and checks Graph access tokens for one tenant with the emulator's Entra key."""

    def __init__(
        self, clock: Clock, key: SigningKey, tenant_id: str, lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS
    ) -> None:
        self.clock = clock
        self.key = key
        self.tenant_id = tenant_id
        self.lifetime_seconds = lifetime_seconds

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def _base_claims(self, app: AppRegistration, audience: str, capable_of_claims: bool) -> dict[str, Any]:
        now = int(self.clock.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            "appid": app.client_id,
            "appidacr": "1",
            "tid": self.tenant_id,
            "ver": "1.0",
            "uti": uuid.uuid4().hex[:22],
        }
        if capable_of_claims:
            claims["xms_cc"] = ["CP1"]
        return claims

    def issue_app_token(self, app: AppRegistration, audience: str = GRAPH_RESOURCE, cae: bool = False) -> str:
        """Client credentials: ``roles`` are the application permissions the admin consented to."""
        claims = self._base_claims(app, audience, cae)
        claims.update(
            {
                "oid": app.service_principal_id,
                "sub": app.service_principal_id,
                "idtyp": "app",
                "roles": list(app.application_permissions),
            }
        )
        return self.key.sign(claims)

    def issue_user_token(
        self,
        app: AppRegistration,
        user: TenantUser,
        scopes: list[str],
        audience: str = GRAPH_RESOURCE,
        cae: bool = False,
    ) -> str:
        """Delegated: ``scp`` lists the consented scopes the app asked for on the user's behalf."""
        claims = self._base_claims(app, audience, cae)
        claims.update(
            {
                "oid": user.id,
                "sub": user.id,
                "idtyp": "user",
                "scp": " ".join(scopes),
                "upn": user.user_principal_name,
                "unique_name": user.user_principal_name,
                "name": user.display_name,
            }
        )
        return self.key.sign(claims)

    def issue_id_token(self, app: AppRegistration, user: TenantUser, issuer: str) -> str:
        """A v2.0 ID token for the app about the user; ``issuer`` is the discovery document's."""
        now = int(self.clock.time())
        claims = {
            "aud": app.client_id,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + ID_TOKEN_LIFETIME_SECONDS,
            "name": user.display_name,
            "oid": user.id,
            "preferred_username": user.user_principal_name,
            "sub": pairwise_subject(app.client_id, user.id),
            "tid": self.tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "2.0",
        }
        return self.key.sign(claims)

    def issue_refresh_token(self, app: AppRegistration, user: TenantUser, scope: str) -> str:
        """A refresh token for the user's sign-in to the app; opaque to clients, signed so it survives restarts."""
        now = int(self.clock.time())
        claims = {
            "token_use": REFRESH_TOKEN_USE,
            "aud": app.client_id,
            "iss": self.issuer,
            "tid": self.tenant_id,
            "oid": user.id,
            "scope": scope,
            "iat": now,
            "exp": now + REFRESH_LIFETIME_SECONDS,
        }
        return self.key.sign(claims)

    def refresh_grant(self, token: str) -> RefreshGrant:
        """The grant behind a refresh token this service issued (expired ones too); TokenError otherwise."""
        try:
            claims = jwt.decode(
                token,
                self.key.public_key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise TokenError("not a refresh token of this tenant") from None
        if claims.get("token_use") != REFRESH_TOKEN_USE or claims.get("tid") != self.tenant_id:
            raise TokenError("not a refresh token of this tenant")
        return RefreshGrant(
            client_id=str(claims["aud"]),
            user_id=str(claims["oid"]),
            scope=str(claims["scope"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )

    def client_info(self, user: TenantUser) -> str:
        """MSAL's ``client_info``: the user's home account ids, base64url JSON."""
        raw = json.dumps({"uid": user.id, "utid": self.tenant_id}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def verify(self, token: str | None) -> Principal:
        """Check signature, audience, issuer and lifetime as Graph would; TokenError says what failed."""
        if not token:
            raise TokenError("Access token is empty.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("CompactToken parsing failed with error code: 80049217") from None
        if header.get("kid") != self.key.kid:
            raise TokenError("Access token validation failure. Invalid signing key.")
        try:
            claims = jwt.decode(
                token,
                self.key.public_key,
                algorithms=["RS256"],
                audience=list(GRAPH_AUDIENCES),
                issuer=self.issuer,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidAudienceError:
            raise TokenError("Access token validation failure. Invalid audience.") from None
        except jwt.InvalidIssuerError:
            raise TokenError("Access token validation failure. Invalid issuer.") from None
        except jwt.PyJWTError:
            raise TokenError("Access token validation failure.") from None
        now = self.clock.time()
        if not claims.get("nbf", 0) - 300 <= now < claims.get("exp", 0):
            raise TokenError("Access token has expired or is not yet valid.")
        user_id = claims.get("oid") if claims.get("idtyp") == "user" or "scp" in claims else None
        return Principal(
            tenant_id=str(claims.get("tid", "")),
            app_id=str(claims.get("appid", "")),
            object_id=str(claims.get("oid", "")),
            roles=frozenset(claims.get("roles", [])),
            scopes=frozenset(str(claims.get("scp", "")).split()),
            user_id=str(user_id) if user_id else None,
        )


def pairwise_subject(client_id: str, user_id: str) -> str:
    """The ``sub`` Entra gives one user for one app: stable, and different for every app."""
    digest = hashlib.sha256(f"{client_id.lower()}:{user_id.lower()}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
