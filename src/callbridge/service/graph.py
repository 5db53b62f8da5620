"""Microsoft Graph as the directory reads it: the few JSON shapes it needs as small pydantic models, and a client
that sends requests through msgraph-core's middleware (retry, redirect, throttling) with an azure-identity token."""

from __future__ import annotations

import ssl
from collections.abc import AsyncGenerator
from typing import TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from msgraph_core import GraphClientFactory
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
REQUEST_OPTIONS = "kiota_request_options"  # msgraph-core runs its middleware only for requests carrying this
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
M = TypeVar("M", bound="GraphModel")


class GraphModel(BaseModel):
    """A Graph resource: camelCase on the wire, unknown properties ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class AssignedPlan(GraphModel):
    """One service plan of a user's licences (``assignedPlans``)."""

    service_plan_id: str | None = None
    capability_status: str | None = None


class GraphUser(GraphModel):
    """A ``user`` with the properties the directory selects."""

    id: str
    display_name: str | None = None
    user_principal_name: str | None = None
    mail: str | None = None
    job_title: str | None = None
    department: str | None = None
    user_type: str | None = None
    account_enabled: bool | None = None
    assigned_plans: list[AssignedPlan] = []


class UserPage(GraphModel):
    """One page of ``GET /users``."""

    value: list[GraphUser] = []


class Presence(GraphModel):
    """A user's ``presence``; the values are open, case-insensitive strings."""

    id: str | None = None
    availability: str | None = None
    activity: str | None = None


class PresencePage(GraphModel):
    """The answer of ``POST /communications/getPresencesByUserId``."""

    value: list[Presence] = []


class ErrorDetail(GraphModel):
    code: str | None = None
    message: str | None = None


class ErrorBody(GraphModel):
    """Graph's error envelope, ``{"error": {"code", "message", "innerError"}}``."""

    error: ErrorDetail


class GraphError(Exception):
    """Graph answered with an error status (after the middleware's retries)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> GraphError:
        try:
            detail = ErrorBody.model_validate_json(response.content).error
        except ValidationError:
            detail = ErrorDetail()
        message = detail.message or response.reason_phrase or f"HTTP {response.status_code}"
        return cls(response.status_code, detail.code or "", message, retry_after(response.headers))


def retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds, None when absent or not a number."""
    try:
        return float(headers["retry-after"])
    except (KeyError, ValueError):
        return None


def user_path(user_id: str, *rest: str) -> str:
    """``/users/{id-or-upn}/…`` with the key escaped as one path segment (UPNs carry ``@`` and ``#``)."""
    return "/".join(("/users", quote(user_id, safe=""), *rest))


class BearerToken(httpx.Auth):
    """An azure-identity token for Graph on each request (azure-identity caches and refreshes it)."""

    def __init__(self, credential: AsyncTokenCredential) -> None:
        self.credential = credential

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.credential.get_token(GRAPH_SCOPE)
        request.headers["Authorization"] = f"Bearer {token.token}"
        yield request


class GraphClient:
    """Graph v1.0 (or the local cloud's): JSON in, typed models out, error statuses as ``GraphError``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = GraphClientFactory.create_with_default_middleware(client=http)

    @classmethod
    def signed_in(cls, base_url: str, credential: AsyncTokenCredential, ca_file: str | None = None) -> GraphClient:
        """A client for ``base_url`` whose requests carry the credential's Graph token."""
        url = urlsplit(base_url)
        if url.scheme != "https" and url.hostname not in LOCAL_HOSTS:
            raise ValueError(f"the Graph base URL {base_url} must be https (plain http only for localhost)")
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        auth = BearerToken(credential)
        return cls(httpx.AsyncClient(base_url=base_url.rstrip("/"), auth=auth, verify=verify, timeout=30))

    async def close(self) -> None:
        await self.http.aclose()

    async def get(
        self, path: str, model: type[M], params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> M:
        """``GET path`` with OData options, spaces sent as ``%20`` (a ``+`` is ambiguous to OData)."""
        query = f"?{urlencode(params, quote_via=quote, safe='$,')}" if params else ""
        return await self._send(model, self.http.build_request("GET", path + query, headers=headers))

    async def post(self, path: str, model: type[M], body: object) -> M:
        return await self._send(model, self.http.build_request("POST", path, json=body))

    async def _send(self, model: type[M], request: httpx.Request) -> M:
        request.extensions[REQUEST_OPTIONS] = {}
        response = await self.http.send(request)
        if response.is_error:
            raise GraphError.from_response(response)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise GraphError(
                response.status_code, "UnreadableResponse", f"not a Graph {model.__name__}: {exc}"
            ) from None
