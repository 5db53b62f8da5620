"""The token endpoint's grants: client credentials (app-only), password and refresh token (delegated)."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

import jwt

from callbridge.emulator.entra import errors
from callbridge.emulator.entra.apps import AppRegistration
from callbridge.emulator.entra.discovery import TenantPath, issuer, resolve_tenant
from callbridge.emulator.entra.scopes import DelegatedScope, app_audience, consented, delegated_scope
from callbridge.emulator.entra.tokens import TokenError
from callbridge.emulator.teams.users import TenantUser

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SECRET_FIELDS = frozenset({"client_secret", "password", "refresh_token", "client_assertion", "assertion", "code"})
REDACTED = "[redacted]"
CAPABLE_OF_CLAIMS = "CP1"


@dataclass(frozen=True)
class TokenRequest:
    """A token request's form fields and the client credentials of its HTTP Basic header, if any."""

    form: dict[str, str]
    basic: tuple[str, str] | None = None

    @classmethod
    def parse(cls, content_type: str, body: bytes, authorization: str | None) -> TokenRequest:
        """Read a form body; anything else reads as an empty form, which Entra answers with AADSTS900144."""
        if content_type.split(";")[0].strip().lower() != FORM_CONTENT_TYPE:
            return cls({}, _basic(authorization))
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            pairs = []
        return cls(dict(pairs), _basic(authorization))

    def field(self, name: str) -> str | None:
        """A form field's value, None when absent or blank."""
        value = self.form.get(name, "").strip()
        return value or None

    def require(self, name: str) -> str:
        """A form field's value; AADSTS900144 when it is absent."""
        value = self.field(name)
        if value is None:
            raise errors.missing_parameter(name)
        return value

    @property
    def client_id(self) -> str | None:
        return self.field("client_id") or (self.basic[0] if self.basic else None)

    @property
    def client_secret(self) -> str | None:
        return self.field("client_secret") or (self.basic[1] if self.basic else None)

    def redacted(self) -> dict[str, str]:
        """The form as the journal keeps it: secrets, passwords and tokens replaced."""
        return {key: REDACTED if key in SECRET_FIELDS and value else value for key, value in self.form.items()}


@dataclass(frozen=True)
class Issued:
    """A granted request: the response body, and what the journal says about it."""

    body: dict[str, Any]
    summary: str
    claims: dict[str, Any]

    def redacted(self) -> dict[str, Any]:
        """The body with its tokens replaced."""
        return {key: REDACTED if key.endswith("_token") else value for key, value in self.body.items()}


class TokenEndpoint:
    """``POST /{tenant}/oauth2/v2.0/token`` over the cloud's tenant and token service."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def grant(self, segment: str, request: TokenRequest, origin: str) -> Issued:
        """Resolve the tenant, then run the grant the request names."""
        tenant = resolve_tenant(self.cloud.tenant, segment)
        grant_type = request.require("grant_type")
        if grant_type == "client_credentials":
            return self._client_credentials(tenant, request)
        if grant_type == "password":
            return self._password(tenant, request, origin)
        if grant_type == "refresh_token":
            return self._refresh_token(tenant, request, origin)
        raise errors.unsupported_grant_type(grant_type)

    # ------------------------------------------------------------------ grants

    def _client_credentials(self, tenant: TenantPath, request: TokenRequest) -> Issued:
        if tenant.tenant_id is None:
            raise errors.no_tenant_information()
        app = self._app(tenant, request)
        self._authenticate(app, request, secret_required=True)
        audience = app_audience(request.require("scope"), tenant.name)
        token = self.cloud.tokens.issue_app_token(app, audience=audience, cae=_capable_of_claims(request))
        body = self._token_body(token)
        roles = " ".join(app.application_permissions) or "no roles"
        return Issued(body, f"app token for {app.display_name!r} ({roles})", _claims(token))

    def _password(self, tenant: TenantPath, request: TokenRequest, origin: str) -> Issued:
        app = self._app(tenant, request)
        self._authenticate(app, request, secret_required=False)
        username = request.require("username")
        password = request.require("password")
        scope = delegated_scope(request.require("scope"), tenant.name)
        user = self.cloud.tenant.user(username)
        if user is None or user.user_principal_name.lower() != username.lower():
            raise errors.user_not_found(tenant.name)
        if not secrets.compare_digest(password.encode(), user.password.encode()):
            raise errors.bad_credentials()
        if not user.account_enabled:
            raise errors.user_disabled()
        return self._delegated(app, user, scope, request, origin)

    def _refresh_token(self, tenant: TenantPath, request: TokenRequest, origin: str) -> Issued:
        app = self._app(tenant, request)
        self._authenticate(app, request, secret_required=False)
        try:
            grant = self.cloud.tokens.refresh_grant(request.require("refresh_token"))
        except TokenError:
            raise errors.invalid_refresh_token() from None
        if grant.client_id.lower() != app.client_id.lower():
            raise errors.refresh_token_of_another_app()
        now = self.cloud.clock.time()
        if now >= grant.expires_at:
            inactive_days = int((now - grant.issued_at) // 86400)
            raise errors.refresh_token_expired(datetime.fromtimestamp(grant.issued_at, UTC), inactive_days)
        user = self.cloud.tenant.users.get(grant.user_id)
        if user is None:
            raise errors.user_not_found(tenant.name)
        if not user.account_enabled:
            raise errors.user_disabled()
        scope = delegated_scope(request.field("scope") or grant.scope, tenant.name)
        return self._delegated(app, user, scope, request, origin)

    # ------------------------------------------------------------------ shared steps

    def _app(self, tenant: TenantPath, request: TokenRequest) -> AppRegistration:
        """The registration named by ``client_id`` (form or Basic); AADSTS700016 when the tenant has none."""
        client_id = request.client_id
        if client_id is None:
            raise errors.missing_parameter("client_id")
        wanted = client_id.lower()
        app = next((a for a in self.cloud.tenant.apps.values() if a.client_id.lower() == wanted), None)
        if app is None:
            raise errors.app_not_found(client_id, tenant.name)
        return app

    @staticmethod
    def _authenticate(app: AppRegistration, request: TokenRequest, secret_required: bool) -> None:
        """Check the client's secret; public-client grants (password, refresh) may send none."""
        assertion = request.field("client_assertion")
        if assertion is not None:
            raise errors.unregistered_certificate(app.client_id, _thumbprint(assertion))
        secret = request.client_secret
        if secret is None:
            if secret_required:
                raise errors.missing_client_credential()
            return
        if not app.secret_matches(secret):
            raise errors.invalid_client_secret(app.client_id)

    def _delegated(
        self, app: AppRegistration, user: TenantUser, scope: DelegatedScope, request: TokenRequest, origin: str
    ) -> Issued:
        """Tokens for the user through the app: access, plus refresh (offline_access), ID (openid), client_info."""
        tokens = self.cloud.tokens
        permissions = consented(app, scope)
        oidc = sorted(scope.oidc - {"offline_access"})
        access = tokens.issue_user_token(
            app, user, [*permissions, *oidc], audience=scope.audience, cae=_capable_of_claims(request)
        )
        body = self._token_body(access, scope=" ".join([*scope.requested, *oidc]))
        if "offline_access" in scope.oidc:
            body["refresh_token"] = tokens.issue_refresh_token(app, user, scope.raw)
        if "openid" in scope.oidc:
            body["id_token"] = tokens.issue_id_token(app, user, issuer(origin, tokens.tenant_id))
        if request.field("client_info") == "1":
            body["client_info"] = tokens.client_info(user)
        granted = " ".join(permissions) or "no permissions"
        summary = f"user token for {user.user_principal_name} via {app.display_name!r} ({granted})"
        return Issued(body, summary, _claims(access))

    def _token_body(self, access_token: str, scope: str | None = None) -> dict[str, Any]:
        lifetime = self.cloud.tokens.lifetime_seconds
        body: dict[str, Any] = {"token_type": "Bearer"}
        if scope is not None:
            body["scope"] = scope
        body.update({"expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token})
        return body


def _capable_of_claims(request: TokenRequest) -> bool:
    """True when ``claims`` asks for ``xms_cc`` CP1 (azure-identity with CAE); AADSTS90100 when unreadable."""
    raw = request.field("claims")
    if raw is None:
        return False
    try:
        claims = json.loads(raw)
    except json.JSONDecodeError:
        raise errors.invalid_parameter("claims") from None
    if not isinstance(claims, dict):
        raise errors.invalid_parameter("claims")
    access = claims.get("access_token")
    capabilities = access.get("xms_cc") if isinstance(access, dict) else None
    values = capabilities.get("values") if isinstance(capabilities, dict) else None
    return isinstance(values, list) and CAPABLE_OF_CLAIMS in values


def _basic(authorization: str | None) -> tuple[str, str] | None:
    """Client id and secret of an RFC 6749 HTTP Basic header (form-encoded, then base64)."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def _thumbprint(assertion: str) -> str:
    """The certificate thumbprint a client assertion's header names (``x5t``), as Entra's error shows it."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return ""
    x5t = str(header.get("x5t") or "")
    try:
        return base64.urlsafe_b64decode(x5t + "=" * (-len(x5t) % 4)).hex().upper()
    except ValueError:
        return x5t


def _claims(token: str) -> dict[str, Any]:
    """The claims of a token just issued, for the journal (they are not secret; the token is)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims
