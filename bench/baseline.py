"""The bare baseline: trivial Starlette routes, served the way the emulator is, to measure ratios against."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON = "application/json; charset=utf-8"
UNSUPPORTED_GRANT = b'{"error": "unsupported_grant_type"}'


def bare_app(body: bytes, token: bytes | None = None) -> Starlette:
    """Reads each request, answers ``body``; with ``token``, the token endpoint parses its form and answers that."""

    async def canned(request: Request) -> Response:
        await request.body()
        return Response(body, media_type=JSON)

    routes = [Route("/{path:path}", canned, methods=["GET", "POST", "DELETE"])]
    if token is not None:

        async def issue(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            if form.get("grant_type") != "client_credentials":
                return Response(UNSUPPORTED_GRANT, 400, media_type=JSON)
            return Response(token, media_type=JSON, headers={"Cache-Control": "no-store, no-cache"})

        routes.insert(0, Route("/{tenant}/oauth2/v2.0/token", issue, methods=["POST"]))
    return Starlette(routes=routes)
