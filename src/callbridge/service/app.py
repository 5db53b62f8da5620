"""The service's ASGI app: Event Grid webhook, verified ACS callbacks, the operator API and its console."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import SecretStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from callbridge import __version__
from callbridge.pages import page_routes
from callbridge.service.api import error_response, operator_error, operator_router
from callbridge.service.bridge import CallBridge, OperatorError
from callbridge.service.calls import CallControl
from callbridge.service.directory import Directory
from callbridge.service.events import BadEvents, CallbackVerifier, Unverified, parse_batch, validation_response
from callbridge.service.settings import ServiceSettings
from callbridge.service.store import Store, open_store

log = logging.getLogger(__name__)
CONSOLE_PAGES = Path(__file__).parent / "console"


@dataclass
class Service:
    """The running parts of one service process."""

    settings: ServiceSettings
    store: Store
    control: CallControl
    directory: Directory | None
    verifier: CallbackVerifier
    bridge: CallBridge

    @classmethod
    async def start(cls, settings: ServiceSettings) -> Service:
        """Open the store and the clients."""
        store = await open_store(settings.store_url)
        try:
            control = CallControl(settings)
        except BaseException:
            await store.close()
            raise
        directory = Directory(settings) if settings.graph_configured else None
        bridge = CallBridge(settings, store, control, directory)
        return cls(settings, store, control, directory, CallbackVerifier(settings), bridge)

    async def close(self) -> None:
        await self.control.close()
        if self.directory is not None:
            await self.directory.close()
        await self.store.close()


def create_app(service: Service) -> FastAPI:
    """Routes for ACS (Event Grid, callbacks) and for operators (``/api``, OpenAPI at ``/api/openapi.json``, the
    console at ``/console/``)."""
    settings = service.settings
    key = settings.operator_api_key.get_secret_value() if settings.operator_api_key else None
    app = FastAPI(
        title="callbridge operator API",
        version=__version__,
        description="Calls answered by callbridge, and the Teams users in them.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.operator_api_key = key
    app.include_router(operator_router(service.bridge))
    app.add_exception_handler(OperatorError, operator_error)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors())
        return error_response(400, "BadRequest", problems or "invalid request")

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, "NotFound" if exc.status_code == 404 else "Error", str(exc.detail))

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.api_route("/eventgrid", methods=["POST", "OPTIONS"], include_in_schema=False)
    async def eventgrid(request: Request) -> Response:
        """Event Grid: the validation handshake (both schemas), then IncomingCall batches."""
        if not _secret_matches(settings.eventgrid_secret, request.query_params.get("secret")):
            return error_response(401, "Unauthorized", "the Event Grid endpoint needs its ?secret= parameter")
        if request.method == "OPTIONS":
            origin = request.headers.get("webhook-request-origin", "*")
            return Response(headers={"WebHook-Allowed-Origin": origin, "Allow": "POST"})
        try:
            events = parse_batch(await request.body())
        except BadEvents as exc:
            return error_response(400, "BadRequest", str(exc))
        handshake = validation_response(events)
        if handshake is not None:
            return JSONResponse(handshake)
        await service.bridge.incoming_calls(events)
        return Response(status_code=200)

    @app.post("/callbacks/{call_key}/{secret}", include_in_schema=False)
    async def callbacks(call_key: str, secret: str, request: Request) -> Response:
        """ACS mid-call events: verified (JWT and per-call secret) before anything changes."""
        try:
            await service.verifier.verify(request.headers.get("authorization"))
        except Unverified as exc:
            log.warning("refused a callback for %s: %s", call_key, exc)
            return error_response(401, "Unauthorized", "the callback could not be verified")
        try:
            events = parse_batch(await request.body())
            await service.bridge.callbacks(call_key, secret, events)
        except BadEvents as exc:
            return error_response(400, "BadRequest", str(exc))
        except Unverified:
            return error_response(401, "Unauthorized", "the callback could not be verified")
        return Response(status_code=200)

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/console/")

    app.router.routes.extend(page_routes("/console", CONSOLE_PAGES))
    return app


def _secret_matches(expected: SecretStr | None, given: str | None) -> bool:
    """No secret configured accepts every delivery; otherwise the query's ``secret`` must match."""
    if expected is None:
        return True
    return given is not None and secrets.compare_digest(given.encode(), expected.get_secret_value().encode())
