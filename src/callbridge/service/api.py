"""The operator REST API (OpenAPI, API-key protected): calls, add/remove/transfer/cancel, directory search."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import Field

from callbridge.service.bridge import CHANGES, CallBridge, OperationResult, OperatorError
from callbridge.service.models import CallRecord, Model, Outcome

HEARTBEAT_SECONDS = 15.0
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="The operator API key.")


class ErrorBody(Model):
    code: str
    message: str


class ErrorResponse(Model):
    error: ErrorBody


class AddRequest(Model):
    user: str = Field(min_length=1, max_length=256, description="Display name, UPN, mail or Entra object id.")
    source_display_name: str | None = Field(default=None, max_length=256)
    timeout_seconds: int = Field(default=30, ge=1, le=180)
    wait: bool = False


class TransferRequest(Model):
    target: str = Field(min_length=1, max_length=256, description="A Teams user, or a phone number (+1…).")
    transferee: str | None = Field(default=None, max_length=256)
    wait: bool = False


class HangUpRequest(Model):
    for_everyone: bool = True


class OperationModel(Model):
    operation_context: str
    target: str
    invitation_id: str | None = None
    outcome: Outcome | None = None
    pending: bool


class CallSummary(Model):
    call_key: str
    call_connection_id: str | None
    caller: str
    called: str
    state: str
    started_at: str
    people: list[str]
    ringing: list[str]


class CallList(Model):
    value: list[CallSummary]


class CallDetail(Model):
    call: dict[str, Any]
    timeline: list[dict[str, Any]]


class DirectoryEntry(Model):
    id: str
    display_name: str
    user_principal_name: str | None = None
    mail: str | None = None
    job_title: str | None = None
    department: str | None = None
    presence: dict[str, str] | None = None


class DirectoryList(Model):
    value: list[DirectoryEntry]


class AuditList(Model):
    value: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 404, 409, 429, 502, 503)
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def authorised(request: Request, key: Annotated[str | None, Security(API_KEY)]) -> str:
    """The acting operator, when the request carries the configured API key."""
    api_key: str | None = request.app.state.operator_api_key
    if api_key is None:
        raise OperatorError(503, "the operator API is off: set CALLBRIDGE_OPERATOR_API_KEY")
    if key is None or not secrets.compare_digest(key.encode(), api_key.encode()):
        raise OperatorError(401, "missing or wrong X-API-Key")
    return "operator"


Actor = Annotated[str, Depends(authorised)]


def operator_router(bridge: CallBridge) -> APIRouter:
    """``/api/…`` over a CallBridge; every route but health needs the key (``app.state.operator_api_key``)."""
    router = APIRouter(prefix="/api", responses=ERRORS)

    @router.get("/health", summary="Liveness", responses={200: {"content": {"application/json": {}}}})
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/calls", summary="List calls")
    async def list_calls(_: Actor, active: bool = True, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> CallList:
        records = await bridge.store.list_calls(active_only=active, limit=limit)
        return CallList(value=[_summary(r) for r in records])

    @router.get("/calls/{call}", summary="A call: participants, ringing, outcomes and timeline")
    async def get_call(call: str, _: Actor) -> CallDetail:
        record = await bridge.record(call)
        timeline = await bridge.store.timeline(record.call_key)
        return CallDetail(call=_call_json(record), timeline=[t.model_dump(mode="json") for t in timeline])

    @router.post("/calls/{call}/participants", status_code=202, summary="Ring a Teams user into the call")
    async def add(call: str, body: AddRequest, actor: Actor) -> OperationModel:
        result = await bridge.add(call, body.user, actor, body.source_display_name, body.timeout_seconds, body.wait)
        return _operation(result)

    @router.delete("/calls/{call}/participants/{user}", status_code=202, summary="Remove someone from the call")
    async def remove(call: str, user: str, actor: Actor, wait: bool = False) -> OperationModel:
        return _operation(await bridge.remove(call, user, actor, wait))

    @router.post("/calls/{call}/transfer", status_code=202, summary="Transfer the call")
    async def transfer(call: str, body: TransferRequest, actor: Actor) -> OperationModel:
        return _operation(await bridge.transfer(call, body.target, actor, body.transferee, body.wait))

    @router.post("/calls/{call}/invitations/{who}/cancel", status_code=202, summary="Stop ringing someone")
    async def cancel(call: str, who: str, actor: Actor) -> OperationModel:
        return _operation(await bridge.cancel(call, who, actor))

    @router.post("/calls/{call}/hang-up", status_code=202, summary="Hang up (the app) or end the call for everyone")
    async def hang_up(call: str, body: HangUpRequest, actor: Actor) -> dict[str, bool]:
        await bridge.hang_up(call, actor, body.for_everyone)
        return {"requested": True}

    @router.get("/directory/users", summary="Search Teams users, with presence")
    async def search(
        _: Actor,
        search: Annotated[str, Query(min_length=1, max_length=200)],
        top: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> DirectoryList:
        found = await bridge.search(search, top)
        return DirectoryList(value=[_entry(user.as_json(), presence) for user, presence in found])

    @router.get("/directory/users/{user}/presence", summary="A user's presence")
    async def presence(user: str, _: Actor) -> DirectoryEntry:
        found, info = await bridge.presence(user)
        return _entry(found.as_json(), info)

    @router.get("/events", include_in_schema=False)
    async def events(_: Actor) -> StreamingResponse:
        """Server-Sent Events: one ``change`` event per timeline entry of any call, from any replica."""
        return StreamingResponse(
            _changes(bridge), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    @router.get("/audit", summary="Operator actions, newest first")
    async def audit(_: Actor, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> AuditList:
        return AuditList(value=[a.model_dump(mode="json", by_alias=True) for a in await bridge.store.audit_log(limit)])

    return router


async def _changes(bridge: CallBridge) -> AsyncIterator[str]:
    """Change events, with a comment after each quiet ``HEARTBEAT_SECONDS`` so proxies keep the stream open.

    The pending read survives a heartbeat: timing out ``anext()`` itself would cancel it, which finishes the
    store's message generator and ends the stream."""
    async with bridge.store.listen(CHANGES) as messages:
        yield "retry: 1000\n\n"
        reading: asyncio.Future[dict[str, Any]] = asyncio.ensure_future(anext(messages))
        try:
            while True:
                done, _ = await asyncio.wait({reading}, timeout=HEARTBEAT_SECONDS)
                if not done:
                    yield ": keep-alive\n\n"
                    continue
                message = reading.result()
                reading = asyncio.ensure_future(anext(messages))
                yield f"event: change\ndata: {json.dumps(message)}\n\n"
        finally:
            reading.cancel()


def _call_json(record: CallRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", by_alias=True, exclude={"secret", "version"})


def _summary(record: CallRecord) -> CallSummary:
    return CallSummary(
        call_key=record.call_key,
        call_connection_id=record.call_connection_id,
        caller=record.caller,
        called=record.called,
        state=record.state.value,
        started_at=record.started_at.isoformat(),
        people=[p.display_name for p in record.participants if not p.is_app],
        ringing=[i.display_name for i in record.invitations.values()],
    )


def _operation(result: OperationResult) -> OperationModel:
    return OperationModel(
        operation_context=result.operation_context,
        target=result.target,
        invitation_id=result.invitation_id,
        outcome=result.outcome,
        pending=result.outcome is None,
    )


def _entry(user: dict[str, Any], presence: Any) -> DirectoryEntry:
    return DirectoryEntry.model_validate({**user, "presence": presence.as_json() if presence else None})


async def operator_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperatorError)
    codes = {400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 409: "Conflict", 429: "Throttled",
             502: "UpstreamError", 503: "NotConfigured"}  # fmt: skip
    return error_response(exc.status, codes.get(exc.status, "Error"), exc.message)
