"""CommunicationIdentifier kinds, raw ids and their wire model, shared by the service and the local cloud."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class IdentifierError(ValueError):
    """An identifier model or raw id that cannot be understood."""


class Cloud(StrEnum):
    """The Microsoft cloud an identifier lives in; the wire spells it in any case."""

    PUBLIC = "public"
    DOD = "dod"
    GCCH = "gcch"

    @classmethod
    def parse(cls, value: object) -> Cloud:
        """Parse a cloud name case-insensitively (Python sends ``PUBLIC``, JS ``public``)."""
        if value is None:
            return cls.PUBLIC
        if not isinstance(value, str):
            raise IdentifierError(f"cloud must be a string, got {value!r}")
        try:
            return cls(value.lower())
        except ValueError:
            raise IdentifierError(f"unknown cloud {value!r}; expected public, dod or gcch") from None


class Kind(StrEnum):
    """The ``kind`` discriminator of a CommunicationIdentifierModel."""

    COMMUNICATION_USER = "communicationUser"
    PHONE_NUMBER = "phoneNumber"
    MICROSOFT_TEAMS_USER = "microsoftTeamsUser"
    MICROSOFT_TEAMS_APP = "microsoftTeamsApp"
    TEAMS_EXTENSION_USER = "teamsExtensionUser"
    UNKNOWN = "unknown"


_TEAMS_USER_PREFIXES = {Cloud.PUBLIC: "8:orgid:", Cloud.DOD: "8:dod:", Cloud.GCCH: "8:gcch:"}
_TEAMS_APP_PREFIXES = {Cloud.PUBLIC: "28:orgid:", Cloud.DOD: "28:dod:", Cloud.GCCH: "28:gcch:"}
_LEGACY_BOT_PREFIXES = {"28:dod-global:": Cloud.DOD, "28:gcch-global:": Cloud.GCCH}
_ACS_PREFIXES = {Cloud.PUBLIC: "8:acs:", Cloud.DOD: "8:dod-acs:", Cloud.GCCH: "8:gcch-acs:"}
_TEAMS_VISITOR_PREFIX = "8:teamsvisitor:"
_SPOOL_PREFIX = "8:spool:"
_PHONE_PREFIX = "4:"
_ANONYMOUS_PHONE = "anonymous"


@dataclass(frozen=True)
class CommunicationUser:
    """An ACS user (``8:acs:…``); its id is its raw id."""

    id: str
    kind = Kind.COMMUNICATION_USER

    @property
    def raw_id(self) -> str:
        return self.id


@dataclass(frozen=True)
class PhoneNumber:
    """A PSTN number (``4:+1…``), possibly anonymous or with an asserted id."""

    value: str
    is_anonymous: bool = False
    asserted_id: str | None = None
    kind = Kind.PHONE_NUMBER

    @property
    def raw_id(self) -> str:
        if self.is_anonymous:
            return _PHONE_PREFIX + _ANONYMOUS_PHONE
        if self.asserted_id:
            return f"{_PHONE_PREFIX}{self.value}_{self.asserted_id}"
        return _PHONE_PREFIX + self.value


@dataclass(frozen=True)
class TeamsUser:
    """A Microsoft Teams user, addressed by Entra object id (``8:orgid:<oid>``) or as a visitor."""

    user_id: str
    is_anonymous: bool = False
    cloud: Cloud = Cloud.PUBLIC
    kind = Kind.MICROSOFT_TEAMS_USER

    @property
    def raw_id(self) -> str:
        if self.is_anonymous:
            return _TEAMS_VISITOR_PREFIX + self.user_id
        return _TEAMS_USER_PREFIXES[self.cloud] + self.user_id


@dataclass(frozen=True)
class TeamsApp:
    """A Teams app, bot or resource account (``28:orgid:<appId>``)."""

    app_id: str
    cloud: Cloud = Cloud.PUBLIC
    legacy_prefix: str | None = None
    kind = Kind.MICROSOFT_TEAMS_APP

    @property
    def raw_id(self) -> str:
        return (self.legacy_prefix or _TEAMS_APP_PREFIXES[self.cloud]) + self.app_id


@dataclass(frozen=True)
class TeamsExtensionUser:
    """A Teams Phone extensibility user (``8:acs:<resource>_<tenant>_<user>``)."""

    user_id: str
    tenant_id: str
    resource_id: str
    cloud: Cloud = Cloud.PUBLIC
    kind = Kind.TEAMS_EXTENSION_USER

    @property
    def raw_id(self) -> str:
        return f"{_ACS_PREFIXES[self.cloud]}{self.resource_id}_{self.tenant_id}_{self.user_id}"


@dataclass(frozen=True)
class UnknownIdentifier:
    """Any raw id the other kinds do not claim."""

    id: str
    kind = Kind.UNKNOWN

    @property
    def raw_id(self) -> str:
        return self.id


Identifier = CommunicationUser | PhoneNumber | TeamsUser | TeamsApp | TeamsExtensionUser | UnknownIdentifier


def from_raw_id(raw_id: str) -> Identifier:
    """Rebuild the identifier a raw id encodes, following the SDKs' prefix rules."""
    if not raw_id:
        raise IdentifierError("rawId must not be empty")
    if raw_id.startswith(_PHONE_PREFIX):
        return _phone_from_raw(raw_id[len(_PHONE_PREFIX) :])
    lowered = raw_id.lower()
    if lowered.startswith(_TEAMS_VISITOR_PREFIX):
        return TeamsUser(user_id=raw_id[len(_TEAMS_VISITOR_PREFIX) :], is_anonymous=True)
    for cloud, prefix in _TEAMS_USER_PREFIXES.items():
        if lowered.startswith(prefix):
            return TeamsUser(user_id=raw_id[len(prefix) :], cloud=cloud)
    for cloud, prefix in _TEAMS_APP_PREFIXES.items():
        if lowered.startswith(prefix):
            return TeamsApp(app_id=raw_id[len(prefix) :], cloud=cloud)
    for prefix, cloud in _LEGACY_BOT_PREFIXES.items():
        if lowered.startswith(prefix):
            return TeamsApp(app_id=raw_id[len(prefix) :], cloud=cloud, legacy_prefix=prefix)
    if lowered.startswith(_SPOOL_PREFIX):
        return CommunicationUser(id=raw_id)
    for cloud, prefix in _ACS_PREFIXES.items():
        if lowered.startswith(prefix):
            parts = raw_id[len(prefix) :].split("_")
            if len(parts) == 3:
                resource_id, tenant_id, user_id = parts
                return TeamsExtensionUser(user_id, tenant_id, resource_id, cloud)
            return CommunicationUser(id=raw_id)
    return UnknownIdentifier(id=raw_id)


def _phone_from_raw(number: str) -> PhoneNumber:
    if number == _ANONYMOUS_PHONE:
        return PhoneNumber(value=_ANONYMOUS_PHONE, is_anonymous=True)
    value, sep, asserted = number.rpartition("_")
    if sep and value and asserted:
        return PhoneNumber(value=value, asserted_id=asserted)
    return PhoneNumber(value=number)


def from_model(model: object) -> Identifier:
    """Parse a CommunicationIdentifierModel as either SDK sends it (with or without ``kind``)."""
    if not isinstance(model, dict):
        raise IdentifierError("an identifier must be a JSON object")
    kind = model.get("kind")
    raw_id = model.get("rawId")
    if raw_id is not None and not isinstance(raw_id, str):
        raise IdentifierError("rawId must be a string")
    sub_objects = [k for k in _SUB_OBJECT_PARSERS if model.get(k) is not None]
    if len(sub_objects) > 1:
        raise IdentifierError(f"an identifier carries exactly one of its kinds, got {', '.join(sub_objects)}")
    if sub_objects:
        key = sub_objects[0]
        if kind is not None and str(kind).lower() != key.lower():
            raise IdentifierError(f"kind {kind!r} does not match the {key!r} object")
        sub = model[key]
        if not isinstance(sub, dict):
            raise IdentifierError(f"{key} must be a JSON object")
        identifier = _SUB_OBJECT_PARSERS[key](sub)
        if raw_id and isinstance(identifier, TeamsApp):
            from_raw = from_raw_id(raw_id)
            if isinstance(from_raw, TeamsApp) and (from_raw.app_id, from_raw.cloud) == (
                identifier.app_id,
                identifier.cloud,
            ):
                return from_raw
        if raw_id and not _same_raw_id(raw_id, identifier):
            raise IdentifierError(f"rawId {raw_id!r} does not match the {key} object ({identifier.raw_id!r})")
        return identifier
    if raw_id:
        return from_raw_id(raw_id)
    raise IdentifierError("an identifier needs a rawId or one of " + ", ".join(_SUB_OBJECT_PARSERS))


def _same_raw_id(raw_id: str, identifier: Identifier) -> bool:
    parsed = from_raw_id(raw_id)
    return parsed == identifier or raw_id.lower() == identifier.raw_id.lower()


def _required_str(sub: dict[str, Any], field: str, owner: str) -> str:
    value = sub.get(field)
    if not isinstance(value, str) or not value:
        raise IdentifierError(f"{owner}.{field} is required and must be a non-empty string")
    return value


def _optional_bool(sub: dict[str, Any], field: str, owner: str) -> bool:
    value = sub.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise IdentifierError(f"{owner}.{field} must be a boolean")
    return value


def _parse_communication_user(sub: dict[str, Any]) -> Identifier:
    return CommunicationUser(id=_required_str(sub, "id", "communicationUser"))


def _parse_phone_number(sub: dict[str, Any]) -> Identifier:
    value = _required_str(sub, "value", "phoneNumber")
    if _optional_bool(sub, "isAnonymous", "phoneNumber"):
        return PhoneNumber(value=_ANONYMOUS_PHONE, is_anonymous=True)
    if not value.startswith("+") or not value[1:].isdigit() or not 2 <= len(value) <= 16:
        raise IdentifierError(f"phoneNumber.value {value!r} is not an E.164 number such as +14255550123")
    asserted = sub.get("assertedId")
    return PhoneNumber(value=value, asserted_id=asserted if isinstance(asserted, str) and asserted else None)


def _parse_teams_user(sub: dict[str, Any]) -> Identifier:
    return TeamsUser(
        user_id=_required_str(sub, "userId", "microsoftTeamsUser"),
        is_anonymous=_optional_bool(sub, "isAnonymous", "microsoftTeamsUser"),
        cloud=Cloud.parse(sub.get("cloud")),
    )


def _parse_teams_app(sub: dict[str, Any]) -> Identifier:
    return TeamsApp(app_id=_required_str(sub, "appId", "microsoftTeamsApp"), cloud=Cloud.parse(sub.get("cloud")))


def _parse_teams_extension_user(sub: dict[str, Any]) -> Identifier:
    return TeamsExtensionUser(
        user_id=_required_str(sub, "userId", "teamsExtensionUser"),
        tenant_id=_required_str(sub, "tenantId", "teamsExtensionUser"),
        resource_id=_required_str(sub, "resourceId", "teamsExtensionUser"),
        cloud=Cloud.parse(sub.get("cloud")),
    )


_SUB_OBJECT_PARSERS = {
    "communicationUser": _parse_communication_user,
    "phoneNumber": _parse_phone_number,
    "microsoftTeamsUser": _parse_teams_user,
    "microsoftTeamsApp": _parse_teams_app,
    "teamsExtensionUser": _parse_teams_extension_user,
}


def to_model(identifier: Identifier) -> dict[str, Any]:
    """Format an identifier as the service returns it: ``rawId``, ``kind``, then the kind's object."""
    model: dict[str, Any] = {"rawId": identifier.raw_id, "kind": identifier.kind.value}
    match identifier:
        case CommunicationUser(id=user_id):
            model["communicationUser"] = {"id": user_id}
        case PhoneNumber():
            phone: dict[str, Any] = {"value": identifier.value}
            if identifier.is_anonymous:
                phone["isAnonymous"] = True
            if identifier.asserted_id:
                phone["assertedId"] = identifier.asserted_id
            model["phoneNumber"] = phone
        case TeamsUser():
            model["microsoftTeamsUser"] = {
                "userId": identifier.user_id,
                "isAnonymous": identifier.is_anonymous,
                "cloud": identifier.cloud.value,
            }
        case TeamsApp():
            model["microsoftTeamsApp"] = {"appId": identifier.app_id, "cloud": identifier.cloud.value}
        case TeamsExtensionUser():
            model["teamsExtensionUser"] = {
                "userId": identifier.user_id,
                "tenantId": identifier.tenant_id,
                "resourceId": identifier.resource_id,
                "cloud": identifier.cloud.value,
            }
        case UnknownIdentifier():
            pass
    return model


def phone_model(number: PhoneNumber) -> dict[str, Any]:
    """Format a bare PhoneNumberIdentifierModel (``sourceCallerIdNumber``, ``answeredFor``)."""
    model: dict[str, Any] = {"value": number.value}
    if number.is_anonymous:
        model["isAnonymous"] = True
    return model


def identity_key(identifier: Identifier) -> str:
    """The key two identifiers of the same endpoint share: the raw id, case-folded."""
    return identifier.raw_id.lower()
