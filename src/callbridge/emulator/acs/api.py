"""The Call Automation HTTP pipeline: route, api-version, HMAC, repeatability, body, handler, journal."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import Response

from callbridge.emulator.acs import errors
from callbridge.emulator.acs.auth import AuthError, verify_request
from callbridge.emulator.acs.errors import AcsError
from callbridge.emulator.acs.repeatability import RepeatabilityError, RepeatabilityStore, StoredResponse
from callbridge.emulator.acs.resource import AcsResource
from callbridge.emulator.clock import Clock
from callbridge.emulator.http.body import BodyError, decode_json, journal_body
from callbridge.emulator.journal import CallIds, EntryKind, Journal, Lane

log = logging.getLogger(__name__)

API_VERSION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(-preview)?$")
JSON = "application/json; charset=utf-8"
CHAIN_ID = "X-Microsoft-Skype-Chain-ID"


@dataclass(frozen=True)
class Call:
    """What a handler gets: decoded path parameters, the JSON body and the api-version."""

    params: Mapping[str, str]
    body: object
    api_version: str


@dataclass(frozen=True)
class Reply:
    """What a handler returns: status, JSON body (None for no content) and the call ids it concerns."""

    status: int
    body: dict[str, Any] | None = None
    ids: CallIds = field(default_factory=CallIds)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Operation:
    """One REST operation: method, path pattern over the raw (percent-encoded) path, handler."""

    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    repeatable: bool = False


def path(template: str) -> re.Pattern[str]:
    """Compile ``/calling/callConnections/{callConnectionId}:terminate`` into a full-match regex."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+?)" for i, part in enumerate(parts))
    return re.compile(regex + "$")


class CallAutomationApi:
    """Serves ``/calling/…`` exactly as the SDKs expect, errors in the service's shape, never a stack trace."""

    def __init__(
        self,
        operations: list[Operation],
        resource: AcsResource,
        clock: Clock,
        journal: Journal,
        repeatability: RepeatabilityStore,
        max_skew_seconds: float = 900.0,
    ) -> None:
        self.operations = operations
        self.resource = resource
        self.clock = clock
        self.journal = journal
        self.repeatability = repeatability
        self.max_skew_seconds = max_skew_seconds

    async def handle(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        raw_path, _, _ = raw_path.partition("?")
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = raw_path + (f"?{query}" if query else "")
        body = await request.body()
        exchange = uuid.uuid4().hex
        operation, params = self._match(request.method, raw_path)
        ids = _ids_from_params(params)
        self.journal.record(
            EntryKind.REQUEST,
            Lane.APP,
            Lane.ACS,
            f"{request.method} {unquote(raw_path)}",
            ids,
            exchange=exchange,
            detail={
                "method": request.method,
                "target": target,
                "body": journal_body(body),
                "operation": operation.name if operation else None,
            },
        )
        reply, replayed = await self._handle(request, operation, params, target, query, body)
        response = self._response(request, operation, reply, replayed)
        self.journal.record(
            EntryKind.RESPONSE,
            Lane.ACS,
            Lane.APP,
            f"{reply.status} {operation.name if operation else 'unknown operation'}",
            reply.ids.merged(ids),
            exchange=exchange,
            detail={"status": reply.status, "body": reply.body, "replayed": replayed},
        )
        return response

    def _match(self, method: str, raw_path: str) -> tuple[Operation | None, dict[str, str]]:
        for operation in self.operations:
            if operation.method != method:
                continue
            found = operation.pattern.match(raw_path)
            if found:
                return operation, {k: unquote(v) for k, v in found.groupdict().items()}
        return None, {}

    async def _handle(
        self,
        request: Request,
        operation: Operation | None,
        params: dict[str, str],
        target: str,
        query: str,
        body: bytes,
    ) -> tuple[Reply, bool]:
        if operation is None:
            message = f"No Call Automation operation matches {request.method} {request.url.path}."
            return _error(AcsError(404, "NotFound", message)), False
        try:
            api_version = _api_version(query)
            verify_request(
                request.method, target, request.headers, body, self.resource.key_bytes, self.clock.time(),
                self.max_skew_seconds,
            )  # fmt: skip
        except AuthError as exc:
            return _error(AcsError(401, "Denied", f"Denied by the resource provider: {exc}")), False
        except AcsError as exc:
            return _error(exc), False
        return self._run_repeatable(request, operation, params, body, api_version)

    def _run_repeatable(
        self, request: Request, operation: Operation, params: dict[str, str], body: bytes, api_version: str
    ) -> tuple[Reply, bool]:
        request_id = request.headers.get("repeatability-request-id")
        first_sent = request.headers.get("repeatability-first-sent")
        if not operation.repeatable or (request_id is None and first_sent is None):
            return self._run(operation, params, body, api_version), False
        fingerprint = hashlib.sha256(
            b"\n".join([operation.name.encode(), json.dumps(params, sort_keys=True).encode(), body])
        ).hexdigest()
        try:
            stored = self.repeatability.begin(request_id, first_sent, fingerprint)
        except RepeatabilityError as exc:
            return _error(AcsError(exc.status, exc.code, exc.message)), False
        if stored is not None:
            replayed = json.loads(stored.body) if stored.body else None
            return Reply(stored.status, replayed, CallIds(correlation_id=dict(stored.headers).get(CHAIN_ID))), True
        assert request_id is not None
        reply = self._run(operation, params, body, api_version)
        if reply.status >= 500:
            self.repeatability.abandon(request_id)
        else:
            encoded = json.dumps(reply.body).encode() if reply.body is not None else b""
            self.repeatability.complete(request_id, StoredResponse(reply.status, encoded, _chain_header(reply.ids)))
        return reply, False

    def _run(self, operation: Operation, params: dict[str, str], body: bytes, api_version: str) -> Reply:
        try:
            parsed = _decode(body)
            return operation.handler(Call(params, parsed, api_version))
        except AcsError as exc:
            return _error(exc)
        except Exception:
            log.exception("unexpected failure in %s", operation.name)
            return _error(AcsError(500, "InternalServerError", "The emulator failed to process the request."))

    def _response(self, request: Request, operation: Operation | None, reply: Reply, replayed: bool) -> Response:
        headers = {}
        client_request_id = request.headers.get("x-ms-client-request-id")
        if client_request_id:
            headers["x-ms-client-request-id"] = client_request_id
        if reply.ids.correlation_id:
            headers[CHAIN_ID] = reply.ids.correlation_id
        if operation is not None and operation.repeatable and request.headers.get("repeatability-request-id"):
            headers["Repeatability-Result"] = "accepted"
        if reply.body is None:
            return Response(status_code=reply.status, headers=headers)
        return Response(json.dumps(reply.body), status_code=reply.status, headers=headers, media_type=JSON)


def _api_version(query: str) -> str:
    values = parse_qs(query, keep_blank_values=True).get("api-version")
    if not values:
        raise AcsError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter is required, e.g. api-version=2026-03-12.",
        )
    version = values[0]
    found = API_VERSION.match(version)
    valid = found is not None
    if found is not None:
        try:
            date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            valid = False
    if not valid:
        raise AcsError(
            400,
            "InvalidApiVersion",
            f"The api-version {version!r} is malformed; use YYYY-MM-DD or YYYY-MM-DD-preview, e.g. 2026-03-12.",
        )
    return version


def _decode(body: bytes) -> object:
    try:
        return decode_json(body)
    except BodyError as exc:
        if exc.status == 413:
            raise AcsError(413, "RequestEntityTooLarge", f"Request body too large: {exc.message}") from None
        raise errors.invalid_body(exc.message) from None


def _error(exc: AcsError) -> Reply:
    return Reply(exc.status, exc.body())


def _ids_from_params(params: Mapping[str, str]) -> CallIds:
    return CallIds(
        server_call_id=params.get("serverCallId"),
        call_connection_id=params.get("callConnectionId"),
        correlation_id=params.get("correlationId"),
    )


def _chain_header(ids: CallIds) -> tuple[tuple[str, str], ...]:
    return ((CHAIN_ID, ids.correlation_id),) if ids.correlation_id else ()
