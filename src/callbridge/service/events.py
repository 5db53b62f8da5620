"""Inbound events: Event Grid deliveries (both schemas, with the validation handshake) and ACS callbacks
(signed JWT checked against the configured JWKS); parsed into one shape."""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass
from typing import Any

import jwt

from callbridge.service.settings import ServiceSettings

VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"
INCOMING_CALL = "Microsoft.Communication.IncomingCall"
EVENT_PREFIX = "Microsoft.Communication."


class Unverified(Exception):
    """A callback the service will not act on; the message says why (never shown to the caller)."""


class BadEvents(ValueError):
    """A body that is not a batch of events."""


@dataclass(frozen=True)
class Event:
    """One event, whichever schema carried it."""

    id: str
    type: str
    data: dict[str, Any]

    @property
    def short_type(self) -> str:
        return self.type.removeprefix(EVENT_PREFIX)


def parse_batch(body: bytes) -> list[Event]:
    """An Event Grid or CloudEvents array (or one CloudEvent) as events; BadEvents when it is not one."""
    try:
        decoded = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvents(f"the body is not JSON: {exc}") from None
    items = decoded if isinstance(decoded, list) else [decoded]
    events = []
    for item in items:
        if not isinstance(item, dict):
            raise BadEvents("each event must be a JSON object")
        event_type = item.get("eventType") or item.get("type")
        data = item.get("data")
        if not isinstance(event_type, str) or not isinstance(data, dict):
            raise BadEvents("each event needs a type (eventType or type) and a data object")
        events.append(Event(str(item.get("id") or ""), event_type, data))
    return events


def validation_response(events: list[Event]) -> dict[str, str] | None:
    """The Event Grid handshake answer, when the batch is a subscription validation."""
    for event in events:
        if event.type == VALIDATION_EVENT:
            code = event.data.get("validationCode")
            if isinstance(code, str):
                return {"validationResponse": code}
    return None


class CallbackVerifier:
    """Checks the ``Authorization: Bearer`` JWT ACS puts on every callback: signature (JWKS), issuer,
    audience (the resource's immutable id) and lifetime."""

    def __init__(self, settings: ServiceSettings) -> None:
        context = ssl.create_default_context()
        if settings.callback_jwks_ca_file:
            context.load_verify_locations(cafile=str(settings.callback_jwks_ca_file))
        self._jwks = jwt.PyJWKClient(settings.callback_jwks_url, cache_keys=True, lifespan=3600, ssl_context=context)
        self.issuer = settings.callback_issuer
        self.audience = settings.acs_immutable_resource_id

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or Unverified."""
        if self.audience is None:
            raise Unverified("CALLBRIDGE_ACS_IMMUTABLE_RESOURCE_ID is not set, so callbacks cannot be verified")
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unverified("no Bearer token")
        token = authorization[7:].strip()
        try:
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=["RS256"], audience=self.audience, issuer=self.issuer, leeway=30
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise Unverified(f"cannot fetch the signing keys: {exc}") from None
        except jwt.PyJWTError as exc:
            raise Unverified(f"invalid token: {exc}") from None
        return claims
