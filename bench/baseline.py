"""The bare baseline: one trivial Starlette route, served the way the emulator is, to measure ratios against."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON = "application/json; charset=utf-8"


def bare_app(body: bytes) -> Starlette:
    """Answers every request with the same canned JSON body, after reading the request as any handler would."""

    async def canned(request: Request) -> Response:
        await request.body()
        return Response(body, media_type=JSON)

    return Starlette(routes=[Route("/{path:path}", canned, methods=["GET", "POST", "DELETE"])])
