"""Teams users through Microsoft Graph (``service/graph.py``): find by name, UPN, mail or id; presence; Teams Phone
licence. Results are cached briefly; Graph's throttling is honoured."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity.aio import ClientSecretCredential, DefaultAzureCredential

from callbridge.service.graph import (
    GRAPH_SCOPE,
    GraphClient,
    GraphError,
    GraphUser,
    Presence,
    PresencePage,
    UserPage,
    user_path,
)
from callbridge.service.settings import ServiceSettings

RESOURCE_ACCOUNT_DEPARTMENT = "Microsoft Communication Application Instance"
TEAMS_PHONE_PLAN = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
FIELDS = ["id", "displayName", "userPrincipalName", "mail", "jobTitle", "department", "userType", "accountEnabled"]
USER_TTL = 60.0
PRESENCE_TTL = 5.0
PRESENCE_BATCH = 650
T = TypeVar("T")


class DirectoryError(Exception):
    """Graph could not answer; the message says why and what to check."""


class UserNotFound(DirectoryError):
    """No Teams user matches."""


class AmbiguousUser(DirectoryError):
    """Several users match a name and none exactly."""


class Throttled(DirectoryError):
    """Graph kept answering 429 after the client's retries."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class DirectoryUser:
    """A directory user as routing and the operator need them."""

    id: str
    display_name: str
    user_principal_name: str | None
    mail: str | None
    job_title: str | None
    department: str | None
    user_type: str | None
    account_enabled: bool | None

    @property
    def is_resource_account(self) -> bool:
        return self.department == RESOURCE_ACCOUNT_DEPARTMENT

    @classmethod
    def from_graph(cls, user: GraphUser) -> DirectoryUser:
        return cls(
            id=user.id,
            display_name=user.display_name or user.id,
            user_principal_name=user.user_principal_name,
            mail=user.mail,
            job_title=user.job_title,
            department=user.department,
            user_type=user.user_type,
            account_enabled=user.account_enabled,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "userPrincipalName": self.user_principal_name,
            "mail": self.mail,
            "jobTitle": self.job_title,
            "department": self.department,
            "userType": self.user_type,
        }


@dataclass(frozen=True)
class PresenceInfo:
    availability: str
    activity: str

    @property
    def reachable(self) -> bool:
        """Worth ringing: not offline, not in do-not-disturb, not already busy."""
        return self.availability.lower() not in ("offline", "donotdisturb", "busy", "busyidle")

    def as_json(self) -> dict[str, str]:
        return {"availability": self.availability, "activity": self.activity}


class _TtlCache:
    """A small time-bounded cache; Graph answers are fresh enough for a few seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any | None:
        found = self._entries.get(key)
        if found is None or found[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return found[1]

    def put(self, key: str, value: Any) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, value)


def _credential(settings: ServiceSettings) -> AsyncTokenCredential:
    options: dict[str, Any] = {
        "authority": settings.graph_authority,
        "disable_instance_discovery": settings.graph_disable_instance_discovery,
    }
    if settings.graph_ca_file:
        options["connection_verify"] = str(settings.graph_ca_file)
    if settings.graph_client_secret is not None and settings.graph_tenant_id and settings.graph_client_id:
        return ClientSecretCredential(
            settings.graph_tenant_id,
            settings.graph_client_id,
            settings.graph_client_secret.get_secret_value(),
            **options,
        )
    return DefaultAzureCredential(**options)


class Directory:
    """Graph lookups the routing and the operator console rely on."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._credential = _credential(settings)
        ca_file = str(settings.graph_ca_file) if settings.graph_ca_file else None
        self.graph = GraphClient.signed_in(settings.graph_base_url, self._credential, ca_file)
        self._users = _TtlCache(USER_TTL)
        self._presence = _TtlCache(PRESENCE_TTL)

    async def close(self) -> None:
        await self.graph.close()
        await self._credential.close()

    async def sign_in(self) -> None:
        """Get a Graph token now (the client would on the first call); raises what azure-identity raises."""
        await self._credential.get_token(GRAPH_SCOPE)

    async def find(self, query: str) -> DirectoryUser:
        """A Teams user by object id, userPrincipalName, mail or display name (resource accounts excluded)."""
        key = query.strip().lower()
        cached = self._users.get(key)
        if isinstance(cached, DirectoryUser):
            return cached
        user = await self._find(query.strip())
        if user.is_resource_account:
            raise UserNotFound(f"{query!r} is a resource account (auto attendant or call queue), not a Teams user")
        self._users.put(key, user)
        return user

    async def _find(self, query: str) -> DirectoryUser:
        if is_object_id(query) or "@" in query:
            found = await self._get(query)
            if found is not None:
                return found
            if "@" in query:
                matches = await self._list(filter=f"mail eq '{_odata_quote(query)}'", top=1)
                if matches:
                    return matches[0]
            raise UserNotFound(f"no user {query!r} in the directory")
        matches = [u for u in await self.search(query, top=25) if not u.is_resource_account]
        if not matches:
            raise UserNotFound(f"nobody named {query!r} in the directory")
        exact = [u for u in matches if u.display_name.lower() == query.lower()]
        if len(exact) == 1 or (not exact and len(matches) == 1):
            return (exact or matches)[0]
        names = ", ".join(f"{u.display_name} ({u.user_principal_name or u.id})" for u in (exact or matches)[:5])
        raise AmbiguousUser(f"{query!r} matches several people: {names}; give the UPN or object id")

    async def search(self, text: str, top: int = 10) -> list[DirectoryUser]:
        """Users whose names start with the words of ``text`` (Graph ``$search``, eventual consistency)."""
        words = " ".join("".join(ch if ch.isprintable() and ch not in '"\\' else " " for ch in text).split())
        if not any(ch.isalnum() for ch in words):
            return []
        return await self._list(search=f'"displayName:{words}"', top=top, consistency=True)

    async def _list(
        self, *, search: str | None = None, filter: str | None = None, top: int = 10, consistency: bool = False
    ) -> list[DirectoryUser]:
        params = {"$select": ",".join(FIELDS), "$top": str(top)}
        headers = {}
        if search is not None:
            params["$search"] = search
        if filter is not None:
            params["$filter"] = filter
        if consistency:
            params["$count"] = "true"
            headers["ConsistencyLevel"] = "eventual"
        page = await self._call(lambda: self.graph.get("/users", UserPage, params, headers))
        return [DirectoryUser.from_graph(u) for u in page.value]

    async def _get(self, key: str) -> DirectoryUser | None:
        params = {"$select": ",".join(FIELDS)}
        try:
            user = await self._call(lambda: self.graph.get(user_path(key), GraphUser, params))
        except UserNotFound:
            return None
        return DirectoryUser.from_graph(user)

    async def presence(self, user_ids: list[str], fresh: bool = False) -> dict[str, PresenceInfo]:
        """Presence by user id (cached a few seconds unless ``fresh``); one batch request for many ids."""
        result: dict[str, PresenceInfo] = {}
        missing = []
        for user_id in user_ids:
            cached = None if fresh else self._presence.get(user_id)
            if isinstance(cached, PresenceInfo):
                result[user_id] = cached
            else:
                missing.append(user_id)
        if len(missing) == 1:
            single = await self._call(lambda: self.graph.get(user_path(missing[0], "presence"), Presence))
            result[missing[0]] = self._remember(missing[0], single.availability, single.activity)
        elif missing:
            for start in range(0, len(missing), PRESENCE_BATCH):
                await self._presence_batch(missing[start : start + PRESENCE_BATCH], result)
        return result

    async def _presence_batch(self, ids: list[str], into: dict[str, PresenceInfo]) -> None:
        body = {"ids": ids}
        page = await self._call(lambda: self.graph.post("/communications/getPresencesByUserId", PresencePage, body))
        for item in page.value:
            if item.id:
                into[item.id] = self._remember(item.id, item.availability, item.activity)

    def _remember(self, user_id: str, availability: str | None, activity: str | None) -> PresenceInfo:
        info = PresenceInfo(availability or "PresenceUnknown", activity or "PresenceUnknown")
        self._presence.put(user_id, info)
        return info

    async def has_teams_phone(self, user_id: str) -> bool:
        """True when an enabled Teams Phone (MCOEV) plan is assigned (``assignedPlans``, User.Read.All)."""
        params = {"$select": "id,assignedPlans"}
        user = await self._call(lambda: self.graph.get(user_path(user_id), GraphUser, params))
        return any(
            (p.service_plan_id or "").lower() == TEAMS_PHONE_PLAN and (p.capability_status or "").lower() == "enabled"
            for p in user.assigned_plans
        )

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        try:
            return await request()
        except GraphError as exc:
            raise _directory_error(exc) from None
        except ClientAuthenticationError as exc:
            raise DirectoryError(
                f"Graph sign-in failed: {exc.message}; check the tenant id, client id and secret"
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            raise DirectoryError(f"cannot reach Microsoft Graph: {exc}") from None
        except TimeoutError:
            raise DirectoryError("Microsoft Graph did not answer in time") from None


def _directory_error(exc: GraphError) -> DirectoryError:
    status, code, message = exc.status, exc.code, exc.message
    if status == 404:
        return UserNotFound(message)
    if status == 429:
        wait = exc.retry_after
        return Throttled(f"Graph is throttling this app ({code}); retry after {wait or '?'} s", wait)
    if status == 403:
        return DirectoryError(
            f"Graph refused ({code}: {message}); grant the app User.Read.All and Presence.Read.All "
            "application permissions with admin consent"
        )
    if status == 401:
        return DirectoryError(f"Graph did not accept the token ({code}: {message})")
    return DirectoryError(f"Graph answered {status} ({code}: {message})")


def is_object_id(text: str) -> bool:
    """True for a GUID, the form of an Entra object id."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _odata_quote(text: str) -> str:
    return re.sub("'", "''", text)
