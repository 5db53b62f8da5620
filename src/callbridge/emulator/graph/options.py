"""OData system query options as Graph reads them: ``$select``, ``$top``, ``$count``, ``$orderby``, ``$skiptoken``,
and the absolute ``@odata.nextLink`` that carries them all to the next page."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from callbridge.emulator.graph.errors import GraphError, bad_request, unsupported_query

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 999
ON_COLLECTIONS_ONLY = ("$filter", "$orderby", "$count", "$skip", "$top", "$search")
Cursor = int | tuple[str, str]


@dataclass(frozen=True)
class QueryString:
    """The query string as sent: its parts (kept encoded for the next link) and the ``$`` options, decoded."""

    parts: tuple[tuple[str, str], ...]
    options: dict[str, str]

    @classmethod
    def parse(cls, raw: str) -> QueryString:
        """Split ``a=b&c=d``; option names are case-insensitive; a repeated ``$`` option is refused."""
        parts: list[tuple[str, str]] = []
        options: dict[str, str] = {}
        for part in raw.split("&"):
            if not part:
                continue
            name_raw, _, value_raw = part.partition("=")
            name = unquote_plus(name_raw).strip().lower()
            parts.append((name, part))
            if not name.startswith("$"):
                continue
            if name in options:
                raise bad_request(
                    f"Query option '{name}' was specified more than once, but it must be specified at most once."
                )
            options[name] = unquote_plus(value_raw)
        return cls(tuple(parts), options)

    def allow(self, supported: tuple[str, ...], collection: bool) -> None:
        """Refuse ``$`` options the endpoint does not serve, with the error Graph gives for each."""
        for name in self.options:
            if name in supported:
                continue
            if name == "$skip":
                raise GraphError(400, "Request_BadRequest", "'$skip' is not supported by the service.")
            if name == "$expand":
                raise unsupported_query("$expand is not supported by the local cloud's Graph.")
            if not collection and name in ON_COLLECTIONS_ONLY:
                raise bad_request(
                    "The query specified in the URI is not valid. The requested resource is not a collection. "
                    "Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections."
                )
            raise bad_request(f"The query parameter '{name}' is not supported.")

    def get(self, name: str) -> str | None:
        return self.options.get(name)

    def top(self) -> int:
        """``$top``: 1 to 999, default 100."""
        raw = self.options.get("$top")
        if raw is None:
            return DEFAULT_PAGE_SIZE
        text = raw.strip()
        if not re.fullmatch(r"\d{1,9}", text):
            raise bad_request(
                f"Invalid value '{raw}' for $top query option found. "
                "The $top query option requires a non-negative integer value."
            )
        size = int(text)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise unsupported_query(f"Invalid page size specified: '{size}'. Must be between 1 and 999 inclusive.")
        return size

    def count(self) -> bool:
        """``$count``: ``true`` or ``false`` (any case)."""
        raw = self.options.get("$count")
        if raw is None:
            return False
        if raw.strip().lower() not in ("true", "false"):
            raise bad_request(f"'{raw}' is not a valid count option.")
        return raw.strip().lower() == "true"

    def select(self) -> tuple[str, ...] | None:
        """``$select`` as names, in order; None when absent or empty."""
        raw = self.options.get("$select")
        if raw is None or not raw.strip():
            return None
        names = tuple(name.strip() for name in raw.split(","))
        if not all(names):
            raise bad_request("Parsing OData Select and Expand failed: An identifier was expected at position 0.")
        return names

    def orderby(self) -> tuple[str, bool] | None:
        """``$orderby``: one property and whether it sorts descending."""
        raw = self.options.get("$orderby")
        if raw is None or not raw.strip():
            return None
        words = raw.split()
        if "," in raw or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise unsupported_query("Sorting not supported for current query.")
        return words[0], len(words) == 2 and words[1].lower() == "desc"

    def cursor(self) -> Cursor | None:
        """Where the previous page stopped, from ``$skiptoken``."""
        raw = self.options.get("$skiptoken")
        return None if raw is None else decode_cursor(raw)

    def next_link(self, location: str, cursor: Cursor) -> str:
        """The absolute link to the next page: every original option, the old skip token replaced."""
        kept = [raw for name, raw in self.parts if name != "$skiptoken"]
        return f"{location}?{'&'.join([*kept, '$skiptoken=' + encode_cursor(cursor)])}"


def encode_cursor(cursor: Cursor) -> str:
    """An opaque skip token for a page boundary."""
    data = json.dumps(cursor if isinstance(cursor, int) else list(cursor), separators=(",", ":"))
    return base64.urlsafe_b64encode(b"X1" + data.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    """The page boundary a skip token carries; Directory_ExpiredPageToken for one this service did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4))
        if raw.startswith(b"X1"):
            value = json.loads(raw[2:])
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
                return value[0], value[1]
    except (binascii.Error, ValueError, RecursionError):
        pass
    raise expired_page_token()


def expired_page_token() -> GraphError:
    """400 for a skip token this service did not issue, or one issued for another ordering."""
    return GraphError(
        400,
        "Directory_ExpiredPageToken",
        "The specified page token value has expired and can no longer be included in your request.",
    )
