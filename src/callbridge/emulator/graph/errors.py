"""Graph's error envelope and response headers: ``{"error":{"code","message","innerError"}}``, request ids, 401
challenge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JSON = "application/json"
ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DIAGNOSTIC = json.dumps(
    {"ServerInfo": {"DataCenter": "Local Cloud", "Slice": "E", "Ring": "0", "ScaleUnit": "000",
                    "RoleInstance": "CALLBRIDGE-LOCAL"}},
    separators=(",", ":"),
)  # fmt: skip
CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)
INSUFFICIENT_PRIVILEGES = "Insufficient privileges to complete the operation."
ADVANCED_HINT = (
    "is not supported because the required parameters might be missing. Try adding $count=true query parameter "
    "and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
)


class GraphError(Exception):
    """A request Graph refuses: HTTP status, error code, message and any extra response headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> GraphError:
    """400 BadRequest: the URL or body could not be parsed."""
    return GraphError(400, "BadRequest", message)


def unsupported_query(message: str) -> GraphError:
    """400 Request_UnsupportedQuery: the directory does not serve this query."""
    return GraphError(400, "Request_UnsupportedQuery", message)


def needs_advanced(operator: str) -> GraphError:
    """400 for an operator that only works with ``ConsistencyLevel: eventual`` and ``$count=true``."""
    return unsupported_query(f"Operator '{operator}' {ADVANCED_HINT}")


def unsupported_clause(prop: str) -> GraphError:
    """400 for an operator the property is not indexed for."""
    return unsupported_query(
        f"Unsupported or invalid query filter clause specified for property '{prop}' of resource 'User'."
    )


def unknown_property(name: str, entity: str = "microsoft.graph.user") -> str:
    """ODataLib's text for a property the entity type does not declare."""
    return f"Could not find a property named '{name}' on type '{entity}'."


def forbidden() -> GraphError:
    """403: the token lacks every permission the operation accepts."""
    return GraphError(403, "Authorization_RequestDenied", INSUFFICIENT_PRIVILEGES)


def user_not_found(key: str) -> GraphError:
    """404 as the directory answers for an unknown user id or userPrincipalName."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
    )


def invalid_token(message: str) -> GraphError:
    """401 with Graph's challenge (never a ``claims=`` CAE challenge, so kiota does not retry)."""
    return GraphError(401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": CHALLENGE})


@dataclass(frozen=True)
class Exchange:
    """The ids one request is answered with: Graph's request-id, the echoed client-request-id, the time."""

    request_id: str
    client_request_id: str
    date: str

    def headers(self) -> dict[str, str]:
        return {
            "request-id": self.request_id,
            "client-request-id": self.client_request_id,
            "x-ms-ags-diagnostic": DIAGNOSTIC,
        }

    def error_body(self, error: GraphError) -> dict[str, Any]:
        inner = {"date": self.date, "request-id": self.request_id, "client-request-id": self.client_request_id}
        return {"error": {"code": error.code, "message": error.message, "innerError": inner}}


def encode(body: object) -> bytes:
    """Compact UTF-8 JSON, as Graph sends it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
