"""Building blocks of the control API: its error shape and JSON body handling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from callbridge.emulator.endpoints import RuleError
from callbridge.emulator.eventgrid.delivery import HandshakeFailed
from callbridge.emulator.http.body import BodyError, decode_json
from callbridge.emulator.journal import EntryKind, Journal, Lane
from callbridge.emulator.pstn import PhoneError
from callbridge.emulator.teams.clients import ClientError
from callbridge.emulator.teams.users import TenantError


class ControlError(Exception):
    """A control request refused with a status, a code and a message saying what to change."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


Endpoint = Callable[[Request], Awaitable[Response]]


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class Guard:
    """Wraps control handlers: domain errors become JSON error bodies (the server keeps serving whatever the
    input), and every successful change is journalled so live views (the UI) know to refresh."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __call__(self, handler: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            response = await _answer(handler, request)
            if request.method != "GET" and response.status_code < 400:
                summary = f"{request.method} {request.url.path} → {response.status_code}"
                self.journal.record(EntryKind.ADMIN, Lane.EMULATOR, Lane.EMULATOR, summary)
            return response

        return endpoint


async def _answer(handler: Endpoint, request: Request) -> Response:
    try:
        return await handler(request)
    except ControlError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except (TenantError, PhoneError, RuleError, ValueError) as exc:
        return error_response(400, "BadRequest", str(exc))
    except ClientError as exc:
        return error_response(409, "Conflict", str(exc))
    except HandshakeFailed as exc:
        return error_response(
            400, "SubscriptionValidationFailed", f"The endpoint failed the validation handshake: {exc}"
        )


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = decode_json(await request.body())
    except BodyError as exc:
        code = "RequestEntityTooLarge" if exc.status == 413 else "InvalidJson"
        raise ControlError(exc.status, code, f"The body is refused: {exc.message}") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError(400, "InvalidJson", "The body must be a JSON object.")
    return body
