"""Entra's endpoints (discovery, token, keys, instance and user realm, userinfo), journaled with secrets redacted."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callbridge.emulator.entra import errors
from callbridge.emulator.entra.discovery import instance_metadata, openid_configuration, resolve_tenant, user_realm
from callbridge.emulator.entra.errors import EntraError, RequestTrace
from callbridge.emulator.entra.oauth import REDACTED, TokenEndpoint, TokenRequest
from callbridge.emulator.entra.tokens import TokenError, pairwise_subject
from callbridge.emulator.http.body import MAX_BODY_BYTES
from callbridge.emulator.journal import EntryKind, Lane

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud


@dataclass(frozen=True)
class Reply:
    """What a handler answers: the body, a one-line summary, and what the journal keeps (tokens redacted)."""

    body: dict[str, Any]
    summary: str
    status: int = 200
    logged_body: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class GraphTokenRefused(Exception):
    """A bearer token the userinfo endpoint refuses, answered in Graph's error shape."""


Handler = Callable[[Request, TokenRequest], Awaitable[Reply]]


class EntraRoutes:
    """Handlers over the cloud's tenant, token service and key; tenant and apps are read per request."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.token_endpoint = TokenEndpoint(cloud)

    def routes(self) -> list[BaseRoute]:
        s = self._served
        return [
            Route("/common/discovery/instance", s(self.instance_discovery), methods=["GET"]),
            Route("/common/userrealm/{username}", s(self.user_realm), methods=["GET"]),
            Route("/oidc/userinfo", s(self.userinfo), methods=["GET", "POST"]),
            Route("/{tenant}/v2.0/.well-known/openid-configuration", s(self.openid_configuration), methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", s(self.keys), methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", s(self.token), methods=["GET", "POST"]),
        ]

    # ------------------------------------------------------------------ endpoints

    async def openid_configuration(self, request: Request, form: TokenRequest) -> Reply:
        tenant = resolve_tenant(self.cloud.tenant, request.path_params["tenant"], errors.INVALID_TENANT)
        return Reply(openid_configuration(_origin(request), tenant), f"discovery document of {tenant.path}")

    async def keys(self, request: Request, form: TokenRequest) -> Reply:
        resolve_tenant(self.cloud.tenant, request.path_params["tenant"], errors.INVALID_TENANT)
        return Reply(dict(self.cloud.entra_key.jwks()), f"signing keys ({self.cloud.entra_key.kid})")

    async def token(self, request: Request, form: TokenRequest) -> Reply:
        if request.method != "POST":
            raise errors.post_only(request.method)
        issued = self.token_endpoint.grant(request.path_params["tenant"], form, _origin(request))
        return Reply(
            issued.body, issued.summary, logged_body=issued.redacted(), detail={"accessTokenClaims": issued.claims}
        )

    async def instance_discovery(self, request: Request, form: TokenRequest) -> Reply:
        metadata = instance_metadata(_origin(request), request.query_params.get("authorization_endpoint"))
        return Reply(metadata, f"instance metadata → {metadata['tenant_discovery_endpoint']}")

    async def user_realm(self, request: Request, form: TokenRequest) -> Reply:
        realm = user_realm(self.cloud.tenant, request.path_params["username"])
        return Reply(realm, f"user realm: {realm['account_type']}")

    async def userinfo(self, request: Request, form: TokenRequest) -> Reply:
        """Graph's OpenID Connect userinfo for a delegated token."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise GraphTokenRefused("Access token is empty.")
        try:
            principal = self.cloud.tokens.verify(token.strip())
        except TokenError as refused:
            raise GraphTokenRefused(refused.message) from None
        user = self.cloud.tenant.users.get(principal.user_id or "")
        if user is None:
            raise GraphTokenRefused("userinfo needs a token issued to a user (delegated), not an app-only token.")
        info = {
            "sub": pairwise_subject(principal.app_id, user.id),
            "name": user.display_name,
            "family_name": user.surname,
            "given_name": user.given_name,
            "picture": f"{_origin(request)}/v1.0/me/photo/$value",
            "email": user.mail,
        }
        return Reply({k: v for k, v in info.items() if v is not None}, f"userinfo of {user.user_principal_name}")

    # ------------------------------------------------------------------ journal and error shape

    def _served(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Journal the request, run the handler, answer its reply or Entra's error body, journal the answer."""

        async def endpoint(request: Request) -> Response:
            trace = RequestTrace.start(request.headers.get("client-request-id"), self.cloud.clock.now())
            raw = await request.body()
            oversized = len(raw) > MAX_BODY_BYTES
            form = TokenRequest.parse(
                request.headers.get("content-type", ""),
                b"" if oversized else raw,
                request.headers.get("authorization"),
            )
            exchange = uuid.uuid4().hex
            self._record_request(request, form, exchange)
            try:
                if oversized:
                    raise errors.request_too_large(len(raw), MAX_BODY_BYTES)
                reply = await handler(request, form)
            except EntraError as error:
                reply = Reply(error.body(trace), f"{error.error} AADSTS{error.code}", error.status)
            except GraphTokenRefused as refused:
                body = {"error": {"code": "InvalidAuthenticationToken", "message": str(refused)}}
                reply = Reply(body, "InvalidAuthenticationToken", 401)
            self.cloud.journal.record(
                EntryKind.RESPONSE,
                Lane.EMULATOR,
                Lane.APP,
                f"{reply.status} {reply.summary}",
                exchange=exchange,
                detail={
                    "status": reply.status,
                    "body": reply.body if reply.logged_body is None else reply.logged_body,
                    "traceId": trace.trace_id,
                    **reply.detail,
                },
            )
            headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache", "x-ms-request-id": trace.trace_id}
            if "client-request-id" in request.headers:
                headers["client-request-id"] = trace.correlation_id
            return JSONResponse(reply.body, reply.status, headers)

        return endpoint

    def _record_request(self, request: Request, form: TokenRequest, exchange: str) -> None:
        grant_type = form.field("grant_type")
        detail: dict[str, Any] = {"method": request.method, "target": _target(request)}
        if form.form:
            detail["form"] = form.redacted()
        if "authorization" in request.headers:
            detail["authorization"] = f"{request.headers['authorization'].partition(' ')[0]} {REDACTED}"
        summary = f"{request.method} {request.url.path}" + (f" ({grant_type})" if grant_type else "")
        self.cloud.journal.record(EntryKind.REQUEST, Lane.APP, Lane.EMULATOR, summary, exchange=exchange, detail=detail)


def entra_routes(cloud: LocalCloud) -> list[BaseRoute]:
    """Every route of this service."""
    return EntraRoutes(cloud).routes()


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _target(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
