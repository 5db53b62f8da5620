"""The local cloud's one ASGI app: Call Automation, its signing keys, the /emulator control API and its web UI."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callbridge.emulator.cloud import LocalCloud
from callbridge.emulator.control import control_routes
from callbridge.emulator.entra.routes import entra_routes
from callbridge.emulator.graph.routes import graph_routes
from callbridge.pages import page_routes

UI_PAGES = Path(__file__).parent / "ui"

CALLING_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class RequestsInFlight:
    """Counts HTTP requests from arrival until their response starts, for the cloud's idle check; a
    streaming response (the journal's SSE) stops counting once its headers are sent."""

    def __init__(self, app: ASGIApp, cloud: LocalCloud) -> None:
        self.app = app
        self.cloud = cloud

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cloud = self.cloud
        cloud.requests_in_flight += 1
        counting = True

        def done() -> None:
            nonlocal counting
            if counting:
                counting = False
                cloud.requests_in_flight -= 1

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                done()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            done()


def create_app(cloud: LocalCloud) -> ASGIApp:
    """Routes for every listener; the same app serves HTTPS and HTTP."""

    async def calling(request: Request) -> Response:
        return await cloud.acs_api.handle(request)

    async def jwks(request: Request) -> Response:
        return JSONResponse(cloud.signing_key.jwks())

    async def openid_configuration(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": cloud.config.callback_issuer,
                "jwks_uri": f"{base}/calling/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [],
                "response_types_supported": [],
                "subject_types_supported": [],
            }
        )

    async def home(request: Request) -> Response:
        return RedirectResponse("/ui/")

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {"error": {"code": "NotFound", "message": f"Nothing is served at {request.method} {request.url.path}."}},
            status_code=404,
        )

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            {
                "error": {
                    "code": "MethodNotAllowed",
                    "message": f"{request.method} is not allowed on {request.url.path}.",
                }
            },
            status_code=405,
        )

    app = Starlette(
        routes=[
            Route("/calling/keys", jwks, methods=["GET"]),
            Route("/calling/.well-known/acsopenidconfiguration", openid_configuration, methods=["GET"]),
            Route("/calling/{rest:path}", calling, methods=CALLING_METHODS),
            Mount("/emulator", routes=control_routes(cloud)),
            Mount("/v1.0", routes=graph_routes(cloud)),
            *entra_routes(cloud),
            Route("/", home, methods=["GET"]),
            *page_routes("/ui", UI_PAGES),
        ],
        exception_handlers={404: not_found, 405: method_not_allowed},
    )
    return RequestsInFlight(app, cloud)
