"""Graph v1.0 routes, mounted at /v1.0: routing, bearer auth, journal and Graph's error shape around each
operation, so no input ever gets anything but a Graph answer."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from callbridge.emulator.entra.tokens import Principal, TokenError
from callbridge.emulator.graph import users as directory
from callbridge.emulator.graph.errors import (
    JSON,
    ODATA_JSON,
    Exchange,
    GraphError,
    bad_request,
    encode,
    invalid_token,
    unknown_property,
    unsupported_query,
    user_not_found,
)
from callbridge.emulator.graph.odata import Predicate, compile_filter, parse_filter, referenced
from callbridge.emulator.graph.options import QueryString
from callbridge.emulator.graph.permissions import profile_access, require_licences, require_presence
from callbridge.emulator.graph.presence import UNKNOWN, presence_json, requested_ids
from callbridge.emulator.graph.search import Getter, compile_search
from callbridge.emulator.graph.search import parse as parse_search
from callbridge.emulator.graph.throttle import Throttle
from callbridge.emulator.http.body import JOURNAL_BODY_BYTES, journal_body
from callbridge.emulator.journal import EntryKind, Lane
from callbridge.emulator.teams.tenant import TeamsTenant
from callbridge.emulator.teams.users import TenantUser

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud

log = logging.getLogger(__name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
SEARCH_NEEDS_HEADER = (
    "Request with $search query parameter only works through MSGraph with a special request header: "
    "'ConsistencyLevel: eventual'"
)
LIST_OPTIONS = ("$search", "$filter", "$select", "$top", "$count", "$orderby", "$skiptoken")


@dataclass(frozen=True)
class Call:
    """What an operation gets: the caller, its path parameters, query options and body."""

    principal: Principal
    params: dict[str, str]
    query: QueryString
    eventual: bool
    base: str
    location: str
    body: bytes


@dataclass(frozen=True)
class Reply:
    """An operation's answer: status and JSON body, or plain text for ``$count``."""

    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


Operation = Callable[[Call], Reply]


@dataclass(frozen=True)
class Endpoint:
    """One path pattern (case-insensitive, after /v1.0) and its operation per method."""

    pattern: re.Pattern[str]
    methods: dict[str, Operation]


class GraphApi:
    """The emulated Graph v1.0 subset over the cloud's tenant, Teams clients, tokens and journal."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.presence_throttle = Throttle(cloud.clock, "throttle.presence.appId")
        self._throttled_tenant: TeamsTenant | None = None
        operations: dict[str, dict[str, Operation]] = {
            "users": {"GET": self.list_users},
            "users/$count": {"GET": self.count_users},
            "users/{user}": {"GET": self.get_user},
            "users/{user}/presence": {"GET": self.user_presence},
            "users/{user}/licenseDetails": {"GET": self.license_details},
            "me": {"GET": self.get_user},
            "me/presence": {"GET": self.user_presence},
            "me/licenseDetails": {"GET": self.license_details},
            "communications/getPresencesByUserId": {"POST": self.presences_by_user_id},
            "communications/presences/{user}": {"GET": self.communications_presence},
        }
        self.endpoints = [Endpoint(_pattern(template), methods) for template, methods in operations.items()]
        self.prefixes = {
            _pattern("/".join(parts[:n]))
            for parts in (template.split("/") for template in operations)
            for n in range(1, len(parts) + 1)
        }

    @property
    def tenant(self) -> TeamsTenant:
        return self.cloud.tenant

    # ------------------------------------------------------------------ pipeline

    async def handle(self, request: Request) -> Response:
        path = "/" + request.path_params.get("rest", "")
        query = request.scope.get("query_string", b"").decode("latin-1")
        body = await request.body()
        request_id = str(uuid.uuid4())
        exchange = Exchange(
            request_id=request_id,
            client_request_id=request.headers.get("client-request-id") or request_id,
            date=self.cloud.clock.now().strftime("%Y-%m-%dT%H:%M:%S"),
        )
        self.cloud.journal.record(
            EntryKind.REQUEST,
            Lane.APP,
            Lane.EMULATOR,
            f"Graph {request.method} /v1.0{path}" + (f"?{unquote_plus(query)}" if query else ""),
            exchange=request_id,
            detail={
                "method": request.method,
                "target": f"/v1.0{path}" + (f"?{query}" if query else ""),
                "consistencyLevel": request.headers.get("consistencylevel"),
                "clientRequestId": exchange.client_request_id,
                "body": journal_body(body),
            },
        )
        principal: Principal | None = None
        try:
            operation, params = self._route(request.method, path)
            principal = self._authenticate(request)
            reply = operation(
                Call(
                    principal=principal,
                    params=params,
                    query=QueryString.parse(query),
                    eventual=request.headers.get("consistencylevel", "").strip().lower() == "eventual",
                    base=f"{request.url.scheme}://{request.url.netloc}/v1.0",
                    location=f"{request.url.scheme}://{request.url.netloc}/v1.0{path}",
                    body=body,
                )
            )
        except GraphError as error:
            reply = Reply(error.status, exchange.error_body(error), error.headers)
        except Exception:
            log.exception("Graph emulator failed on %s %s", request.method, path)
            failure = GraphError(500, "UnknownError", "The local cloud's Graph failed to process the request.")
            reply = Reply(500, exchange.error_body(failure))
        return self._respond(exchange, reply, principal)

    def _respond(self, exchange: Exchange, reply: Reply, principal: Principal | None) -> Response:
        headers = {**exchange.headers(), **reply.headers}
        if isinstance(reply.body, str):
            payload, media_type = reply.body.encode(), "text/plain;charset=utf-8"
        else:
            payload = encode(reply.body)
            media_type = ODATA_JSON if reply.status < 400 else JSON
            if reply.status < 400:
                headers["OData-Version"] = "4.0"
        error = reply.body.get("error") if isinstance(reply.body, dict) else None
        self.cloud.journal.record(
            EntryKind.RESPONSE,
            Lane.EMULATOR,
            Lane.APP,
            f"Graph {reply.status}" + (f" {error['code']}" if isinstance(error, dict) else ""),
            exchange=exchange.request_id,
            detail={
                "status": reply.status,
                "requestId": exchange.request_id,
                "appId": principal.app_id if principal else None,
                "body": reply.body if len(payload) <= JOURNAL_BODY_BYTES else {"truncatedBytes": len(payload)},
            },
        )
        return Response(payload, status_code=reply.status, media_type=media_type, headers=headers)

    def _route(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        trimmed = path.rstrip("/") or "/"
        for endpoint in self.endpoints:
            found = endpoint.pattern.fullmatch(trimmed)
            if found is None:
                continue
            operation = endpoint.methods.get(method)
            if operation is None:
                raise GraphError(
                    405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
                )
            return operation, found.groupdict()
        segments = trimmed.split("/")[1:]
        depth = next(
            (
                n
                for n in range(1, len(segments) + 1)
                if not any(p.fullmatch("/" + "/".join(segments[:n])) for p in self.prefixes)
            ),
            len(segments),
        )
        raise bad_request(f"Resource not found for the segment '{segments[depth - 1]}'.")

    def _authenticate(self, request: Request) -> Principal:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            return self.cloud.tokens.verify(token.strip() if scheme.lower() == "bearer" else None)
        except TokenError as exc:
            raise invalid_token(exc.message) from None

    # ------------------------------------------------------------------ users

    def _user(self, call: Call) -> TenantUser:
        key = call.params.get("user")
        if key is None:
            if call.principal.user_id is None:
                raise bad_request("/me request is only valid with delegated authentication flow.")
            key = call.principal.user_id
        user = self.tenant.user(key)
        if user is None:
            raise user_not_found(key)
        return user

    def _matches(self, call: Call, full_profile: bool) -> Predicate | None:
        """The ``$search`` and ``$filter`` predicate, after the ConsistencyLevel and advanced-query rules."""
        parts: list[Predicate] = []
        search = call.query.get("$search")
        if search is not None and search.strip():
            if not call.eventual:
                raise unsupported_query(SEARCH_NEEDS_HEADER)
            parsed = parse_search(search)
            resolve: Callable[[str], tuple[str, Getter]] = directory.search_property
            if not full_profile:
                resolve = _basic_search(resolve)
            parts.append(compile_search(parsed, resolve))
        text = call.query.get("$filter")
        if text is not None and text.strip():
            expr = parse_filter(text)
            if not full_profile:
                directory.check_basic(referenced(expr))
            parts.append(compile_filter(expr, directory.FILTERS, call.eventual and call.query.count()))
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        first, second = parts
        return lambda user: first(user) and second(user)

    def list_users(self, call: Call) -> Reply:
        query = call.query
        query.allow(LIST_OPTIONS, collection=True)
        top, count = query.top(), query.count()
        full_profile = profile_access(call.principal)
        names = query.select()
        properties = directory.selection(names, collection=True, basic_only=not full_profile)
        matches = self._matches(call, full_profile)
        order = None
        sort = query.orderby()
        if sort is not None:
            filtered = (query.get("$filter") or "").strip() != ""
            advanced = call.eventual and count
            if filtered and not advanced:
                raise unsupported_query(directory.SORTING_UNSUPPORTED)
            order = directory.ordering(sort[0], sort[1], advanced)
            if not full_profile:
                directory.check_basic({sort[0].lower()})
        cursor = query.cursor()
        counted = count and call.eventual and cursor is None
        page = directory.find_page(list(self.tenant.users.values()), matches, order, top, cursor, counted)
        body: dict[str, Any] = {
            "@odata.context": directory.context_url(call.base, properties if names else None, False)
        }
        if page.total is not None:
            body["@odata.count"] = page.total
        body["value"] = [directory.project(u, properties) for u in page.users]
        if page.following is not None:
            body["@odata.nextLink"] = query.next_link(call.location, page.following)
        return Reply(200, body)

    def count_users(self, call: Call) -> Reply:
        call.query.allow(("$search", "$filter", "$count"), collection=True)
        if not call.eventual:
            raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
        matches = self._matches(call, profile_access(call.principal))
        users = self.tenant.users.values()
        return Reply(200, str(len(users) if matches is None else sum(1 for u in users if matches(u))))

    def get_user(self, call: Call) -> Reply:
        call.query.allow(("$select",), collection=False)
        user = self._user(call)
        full_profile = profile_access(call.principal, user.id)
        names = call.query.select()
        properties = directory.selection(names, collection=False, basic_only=not full_profile)
        body = {"@odata.context": directory.context_url(call.base, properties if names else None, True)}
        return Reply(200, {**body, **directory.project(user, properties)})

    def license_details(self, call: Call) -> Reply:
        call.query.allow(("$select",), collection=True)
        user = self._user(call)
        require_licences(call.principal, user.id)
        details = directory.license_details(user)
        names = call.query.select()
        if names is not None:
            wanted = _license_properties(names)
            details = [{k: v for k, v in d.items() if k in wanted} for d in details]
        return Reply(
            200, {"@odata.context": f"{call.base}/$metadata#users('{user.id}')/licenseDetails", "value": details}
        )

    # ------------------------------------------------------------------ presence

    def _presence_gate(self, call: Call, user_id: str | None = None) -> None:
        settings = self.tenant.settings
        require_presence(call.principal, settings.presence_delegated_only, user_id)
        if self._throttled_tenant is not self.tenant:
            self.presence_throttle.clear()
            self._throttled_tenant = self.tenant
        self.presence_throttle.admit(
            call.principal.app_id, settings.presence_requests_per_window, settings.presence_window_seconds
        )

    def user_presence(self, call: Call) -> Reply:
        user = self._user(call)
        self._presence_gate(call, user.id)
        body = {"@odata.context": f"{call.base}/$metadata#users('{user.id}')/presence/$entity"}
        return Reply(200, {**body, **presence_json(user.id, self.cloud.teams.presence(user))})

    def communications_presence(self, call: Call) -> Reply:
        user = self._user(call)
        self._presence_gate(call, user.id)
        body = {"@odata.context": f"{call.base}/$metadata#communications/presences/$entity"}
        return Reply(200, {**body, **presence_json(user.id, self.cloud.teams.presence(user))})

    def presences_by_user_id(self, call: Call) -> Reply:
        self._presence_gate(call)
        values = []
        for user_id in requested_ids(call.body):
            user = self.tenant.user(user_id)
            values.append(presence_json(user_id, self.cloud.teams.presence(user) if user else UNKNOWN))
        return Reply(
            200, {"@odata.context": f"{call.base}/$metadata#Collection(microsoft.graph.presence)", "value": values}
        )


def _pattern(template: str) -> re.Pattern[str]:
    """``users/{user}/presence`` → a case-insensitive full-match regex with a named group per parameter."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
    return re.compile("/" + regex, re.IGNORECASE)


def _basic_search(resolve: Callable[[str], tuple[str, Getter]]) -> Callable[[str], tuple[str, Getter]]:
    def basic(name: str) -> tuple[str, Getter]:
        canonical, getter = resolve(name)
        directory.check_basic({canonical.lower()})
        return canonical, getter

    return basic


def _license_properties(names: tuple[str, ...]) -> set[str]:
    known = {n.lower(): n for n in directory.LICENSE_DETAIL_PROPERTIES}
    wanted = set()
    for name in names:
        if name.lower() not in known:
            raise bad_request(
                "Parsing OData Select and Expand failed: " + unknown_property(name, "microsoft.graph.licenseDetails")
            )
        wanted.add(known[name.lower()])
    return wanted


def graph_routes(cloud: LocalCloud) -> list[BaseRoute]:
    """Every route of this service."""
    api = GraphApi(cloud)
    return [Route("/{rest:path}", api.handle, methods=METHODS)]
