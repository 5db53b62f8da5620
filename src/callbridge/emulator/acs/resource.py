"""The emulated Communication Services resource: its immutable id, access key, app identity and numbers."""

from __future__ import annotations

import base64
import random
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from callbridge.identifiers import CommunicationUser, PhoneNumber


@dataclass
class AcsResource:
    """What a real resource's Keys and Overview blades would show."""

    immutable_id: str
    access_key: str
    app_user_id: str
    name: str = "callbridge-local"
    phone_numbers: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, ids: IdFactory) -> AcsResource:
        """A new resource; its ids come from the cloud's id source, its access key is always secret."""
        immutable_id = ids.guid()
        return cls(
            immutable_id=immutable_id,
            access_key=base64.b64encode(secrets.token_bytes(64)).decode(),
            app_user_id=f"8:acs:{immutable_id}_{ids.guid()}",
        )

    @property
    def key_bytes(self) -> bytes:
        return base64.b64decode(self.access_key)

    @property
    def app_identity(self) -> CommunicationUser:
        """The ACS identity a call created without ``source`` belongs to."""
        return CommunicationUser(self.app_user_id)

    def owns(self, number: PhoneNumber) -> bool:
        return number.value in self.phone_numbers

    def connection_string(self, endpoint: str) -> str:
        return f"endpoint={endpoint.rstrip('/')}/;accesskey={self.access_key}"

    def as_json(self) -> dict[str, Any]:
        return {
            "immutableId": self.immutable_id,
            "accessKey": self.access_key,
            "appUserId": self.app_user_id,
            "name": self.name,
            "phoneNumbers": list(self.phone_numbers),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcsResource:
        return cls(
            immutable_id=data["immutableId"],
            access_key=data["accessKey"],
            app_user_id=data["appUserId"],
            name=data.get("name", "callbridge-local"),
            phone_numbers=list(data.get("phoneNumbers", [])),
        )


class IdFactory:
    """The local cloud's one source of ids, shaped like the real service's; seeded (``--seed-ids``) for
    reproducible runs."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()

    def guid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def server_call_id(self) -> str:
        """Opaque base64 of a conversation URL, as the real ``serverCallId``."""
        conversation = base64.urlsafe_b64encode(self._random.getrandbits(128).to_bytes(16, "big")).decode()
        url = f"https://callbridge.localhost/api/v2/cp/conv-local-01/conv/{conversation.rstrip('=')}?i=10-0-0-1"
        return base64.b64encode(url.encode()).decode()

    def token(self) -> str:
        return base64.urlsafe_b64encode(self._random.getrandbits(256).to_bytes(32, "big")).decode().rstrip("=")
