"""Presence resources: one user's presence, and the ``getPresencesByUserId`` batch with its 650-id limit."""

from __future__ import annotations

import uuid
from typing import Any

from callbridge.emulator.graph.errors import GraphError, bad_request
from callbridge.emulator.http.body import BodyError, decode_json
from callbridge.emulator.teams.presence import Presence

MAX_IDS = 650
UNKNOWN = Presence("PresenceUnknown", "PresenceUnknown")
UNREADABLE = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
)


def presence_json(user_id: str, presence: Presence) -> dict[str, Any]:
    return {"id": user_id, "availability": presence.availability, "activity": presence.activity}


def requested_ids(body: bytes) -> list[str]:
    """The distinct user ids of a ``{"ids": [...]}`` body, in order; 400 for bad JSON, a bad shape, a value that
    is not a GUID, or more than 650 ids."""
    try:
        data = decode_json(body)
    except BodyError as exc:
        if exc.status == 413:
            raise GraphError(413, "RequestEntityTooLarge", f"The request is too large: {exc.message}") from None
        raise bad_request(UNREADABLE) from None
    if not isinstance(data, dict):
        raise bad_request(UNREADABLE)
    for name in data:
        if name != "ids":
            raise bad_request(
                f"The parameter '{name}' in the request payload is not a valid parameter for the operation "
                "'getPresencesByUserId'."
            )
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("The 'ids' parameter must be an array of user object ids (GUID strings).")
    if len(ids) > MAX_IDS:
        raise bad_request(f"The request asks for {len(ids)} ids; getPresencesByUserId accepts at most {MAX_IDS}.")
    distinct: dict[str, None] = {}
    for raw in ids:
        try:
            distinct.setdefault(str(uuid.UUID(raw)), None)
        except ValueError:
            raise bad_request(f"'{raw}' is not a valid user object id (a GUID).") from None
    return list(distinct)
