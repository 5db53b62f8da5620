"""Tenant users: profile, licences, Enterprise Voice, their Teams client's state and answering behaviour."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callbridge.emulator.teams.licences import TEAMS_PHONE_PLAN, AssignedLicence, find_sku, has_plan
from callbridge.emulator.teams.presence import Presence

RESOURCE_ACCOUNT_DEPARTMENT = "Microsoft Communication Application Instance"
DEFAULT_LICENCES = ("SPE_E5",)


class TenantError(ValueError):
    """A tenant change that cannot be made as asked."""


class AnswerAction(StrEnum):
    """What a simulated Teams user does when their client rings."""

    ACCEPT = "accept"
    DECLINE = "decline"
    BUSY = "busy"
    NO_ANSWER = "noAnswer"
    MANUAL = "manual"


@dataclass
class AnswerBehaviour:
    """The action a user takes and how long they let it ring first."""

    action: AnswerAction = AnswerAction.ACCEPT
    after_seconds: float = 1.0

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action.value, "afterSeconds": self.after_seconds}

    @classmethod
    def from_json(cls, data: object) -> AnswerBehaviour:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TenantError('answer must be an object like {"action": "accept", "afterSeconds": 1}')
        try:
            action = AnswerAction(data.get("action", AnswerAction.ACCEPT.value))
        except ValueError:
            raise TenantError("answer.action must be one of " + ", ".join(a.value for a in AnswerAction)) from None
        after = data.get("afterSeconds", 1.0)
        if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
            raise TenantError("answer.afterSeconds must be a number of seconds >= 0")
        return cls(action, float(after))


PROFILE_FIELDS = {
    "givenName": "given_name",
    "surname": "surname",
    "jobTitle": "job_title",
    "department": "department",
    "officeLocation": "office_location",
    "mobilePhone": "mobile_phone",
    "preferredLanguage": "preferred_language",
    "city": "city",
    "country": "country",
    "usageLocation": "usage_location",
    "companyName": "company_name",
    "employeeId": "employee_id",
}


@dataclass
class TenantUser:
    """A directory user with a Teams client; Graph shows the profile, the emulator drives the client."""

    id: str
    display_name: str
    mail: str | None
    user_principal_name: str
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    office_location: str | None = None
    mobile_phone: str | None = None
    preferred_language: str | None = None
    city: str | None = None
    country: str | None = None
    usage_location: str | None = None
    company_name: str | None = None
    employee_id: str | None = None
    business_phones: list[str] = field(default_factory=list)
    account_enabled: bool = True
    user_type: str = "Member"
    created_date_time: str = "2024-01-01T00:00:00Z"
    licences: tuple[AssignedLicence, ...] = ()
    licences_assigned_at: str = "2024-01-01T00:00:00Z"
    enterprise_voice_enabled: bool = True
    resource_account_app_id: str | None = None
    password: str = "callbridge"
    online: bool = True
    answer: AnswerBehaviour = field(default_factory=AnswerBehaviour)
    presence: Presence = field(default_factory=Presence)

    @property
    def is_resource_account(self) -> bool:
        return self.department == RESOURCE_ACCOUNT_DEPARTMENT

    @property
    def has_teams_phone(self) -> bool:
        return has_plan(self.licences, TEAMS_PHONE_PLAN)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "displayName": self.display_name,
            "mail": self.mail,
            "userPrincipalName": self.user_principal_name,
        }
        data.update({key: getattr(self, attr) for key, attr in PROFILE_FIELDS.items()})
        data.update(
            {
                "businessPhones": list(self.business_phones),
                "accountEnabled": self.account_enabled,
                "userType": self.user_type,
                "createdDateTime": self.created_date_time,
                "licenses": [
                    {
                        "skuId": lic.sku_id,
                        "skuPartNumber": lic.sku.part_number,
                        "disabledPlans": list(lic.disabled_plans),
                    }
                    for lic in self.licences
                ],
                "enterpriseVoiceEnabled": self.enterprise_voice_enabled,
                "resourceAccountAppId": self.resource_account_app_id,
                "online": self.online,
                "answer": self.answer.as_json(),
                "presence": self.presence.as_json(),
            }
        )
        return data

    def stored_json(self) -> dict[str, Any]:
        """What the data dir keeps: the public shape plus the password."""
        return {**self.as_json(), "password": self.password}

    @classmethod
    def from_json(cls, data: dict[str, Any], domain: str, now_iso: str) -> TenantUser:
        """Build a user from the control API's shape; missing ids, names and addresses are derived."""
        display_name = data.get("displayName")
        if not isinstance(display_name, str) or not display_name.strip():
            raise TenantError("displayName is required")
        display_name = display_name.strip()
        user_id = _guid(data.get("id") or str(uuid.uuid4()), "id")
        alias = "".join(ch for ch in display_name.lower() if ch.isalnum()) or user_id[:8]
        upn = str(data.get("userPrincipalName") or f"{alias}@{domain}")
        if "@" not in upn:
            raise TenantError(f"userPrincipalName {upn!r} must look like name@domain")
        parts = display_name.split()
        user = cls(
            id=user_id,
            display_name=display_name,
            mail=data.get("mail", upn),
            user_principal_name=upn,
            given_name=parts[0] if len(parts) > 1 else None,
            surname=" ".join(parts[1:]) if len(parts) > 1 else None,
            created_date_time=now_iso,
            licences_assigned_at=now_iso,
            licences=parse_licences(data.get("licenses", list(DEFAULT_LICENCES))),
        )
        user.update(data)
        return user

    def update(self, data: dict[str, Any]) -> None:
        """Apply the settable fields present in ``data``, checking each."""
        for key, attr in PROFILE_FIELDS.items():
            if key in data:
                value = data[key]
                if value is not None and not isinstance(value, str):
                    raise TenantError(f"{key} must be a string or null")
                setattr(self, attr, value)
        if "displayName" in data:
            name = data["displayName"]
            if not isinstance(name, str) or not name.strip():
                raise TenantError("displayName must be a non-empty string")
            self.display_name = name.strip()
        if "businessPhones" in data:
            phones = data["businessPhones"]
            if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
                raise TenantError("businessPhones must be a list of strings")
            self.business_phones = list(phones)
        for key, attr in (
            ("accountEnabled", "account_enabled"),
            ("enterpriseVoiceEnabled", "enterprise_voice_enabled"),
            ("online", "online"),
        ):
            if key in data:
                if not isinstance(data[key], bool):
                    raise TenantError(f"{key} must be true or false")
                setattr(self, attr, data[key])
        if "userType" in data:
            if data["userType"] not in ("Member", "Guest"):
                raise TenantError("userType must be Member or Guest")
            self.user_type = data["userType"]
        if "password" in data:
            self.password = str(data["password"])
        if "answer" in data:
            self.answer = AnswerBehaviour.from_json(data["answer"])
        if "presence" in data:
            self.presence = _presence(data["presence"])
        if data.get("resourceAccountAppId"):
            self.resource_account_app_id = _guid(data["resourceAccountAppId"], "resourceAccountAppId")
            self.department = RESOURCE_ACCOUNT_DEPARTMENT


def _guid(value: object, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise TenantError(f"{what} {value!r} is not a GUID") from None


def _presence(data: object) -> Presence:
    if not isinstance(data, dict):
        raise TenantError('presence must be an object like {"availability": "Busy", "activity": "InAMeeting"}')
    try:
        return Presence.parse(data.get("availability"), data.get("activity"))
    except ValueError as exc:
        raise TenantError(str(exc)) from None


def parse_licences(data: object) -> tuple[AssignedLicence, ...]:
    """Licences as part numbers (``"SPE_E5"``), SKU ids, or ``{"skuId", "disabledPlans"}`` objects."""
    if not isinstance(data, list):
        raise TenantError("licenses must be a list")
    licences = []
    try:
        for item in data:
            if isinstance(item, str):
                licences.append(AssignedLicence(find_sku(item).sku_id))
            elif isinstance(item, dict):
                sku = find_sku(str(item.get("skuId") or item.get("skuPartNumber") or ""))
                disabled = tuple(str(p) for p in item.get("disabledPlans", []))
                licences.append(AssignedLicence(sku.sku_id, disabled))
            else:
                raise TenantError("each licence is a part number, a SKU id or an object with skuId")
    except ValueError as exc:
        raise TenantError(str(exc)) from None
    return tuple(licences)
