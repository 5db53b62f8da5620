"""Tenant users as Graph v1.0 shows them: properties, default set, ``$select`` rules, licence shapes, and the
paged query behind ``GET /users``."""

from __future__ import annotations

import base64
import heapq
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callbridge.emulator.graph.errors import GraphError, bad_request, forbidden, unknown_property, unsupported_query
from callbridge.emulator.graph.odata import ADVANCED, DEFAULT, Edm, Field, Predicate
from callbridge.emulator.graph.options import Cursor, expired_page_token
from callbridge.emulator.graph.search import Getter
from callbridge.emulator.teams.licences import ServicePlan
from callbridge.emulator.teams.users import TenantUser

BASIC = frozenset({"id", "displayName", "givenName", "surname", "mail", "userPrincipalName"})
SORTING_UNSUPPORTED = "Sorting not supported for current query."


@dataclass(frozen=True)
class Property:
    """A user property: how to read it, whether it is in the default set, whether only a single GET returns it."""

    name: str
    get: Callable[[TenantUser], Any]
    default: bool = False
    single_only: bool = False


def _mail_nickname(user: TenantUser) -> str:
    return user.user_principal_name.split("@", 1)[0]


def _proxy_addresses(user: TenantUser) -> list[str]:
    return [f"SMTP:{user.mail}"] if user.mail else []


def _im_addresses(user: TenantUser) -> list[str]:
    return [user.user_principal_name] if user.user_type == "Member" else []


def assigned_licenses(user: TenantUser) -> list[dict[str, Any]]:
    """``assignedLicenses``: each SKU with the plans an admin disabled."""
    return [{"disabledPlans": list(lic.disabled_plans), "skuId": lic.sku_id} for lic in user.licences]


def assigned_plans(user: TenantUser) -> list[dict[str, Any]]:
    """``assignedPlans``: one entry per service plan; ``Deleted`` when every licence carrying it disables it."""
    plans: dict[str, tuple[ServicePlan, bool]] = {}
    for lic in user.licences:
        for plan in lic.sku.plans:
            enabled = plan.service_plan_id not in lic.disabled_plans
            earlier = plans.get(plan.service_plan_id)
            plans[plan.service_plan_id] = (plan, enabled or (earlier is not None and earlier[1]))
    return [
        {
            "assignedDateTime": user.licences_assigned_at,
            "capabilityStatus": "Enabled" if enabled else "Deleted",
            "service": plan.service,
            "servicePlanId": plan.service_plan_id,
        }
        for plan, enabled in plans.values()
    ]


def license_details(user: TenantUser) -> list[dict[str, Any]]:
    """``licenseDetails``: each SKU with its service plans; disabled plans show ``provisioningStatus: Disabled``."""
    return [
        {
            "id": base64.urlsafe_b64encode(uuid.UUID(user.id).bytes + uuid.UUID(lic.sku_id).bytes).decode().rstrip("="),
            "skuId": lic.sku_id,
            "skuPartNumber": lic.sku.part_number,
            "servicePlans": [
                {
                    "servicePlanId": plan.service_plan_id,
                    "servicePlanName": plan.name,
                    "provisioningStatus": "Disabled" if plan.service_plan_id in lic.disabled_plans else "Success",
                    "appliesTo": "User",
                }
                for plan in lic.sku.plans
            ],
        }
        for lic in user.licences
    ]


LICENSE_DETAIL_PROPERTIES = ("id", "skuId", "skuPartNumber", "servicePlans")

_ALL: tuple[Property, ...] = (
    Property("businessPhones", lambda u: list(u.business_phones), default=True),
    Property("displayName", lambda u: u.display_name, default=True),
    Property("givenName", lambda u: u.given_name, default=True),
    Property("jobTitle", lambda u: u.job_title, default=True),
    Property("mail", lambda u: u.mail, default=True),
    Property("mobilePhone", lambda u: u.mobile_phone, default=True),
    Property("officeLocation", lambda u: u.office_location, default=True),
    Property("preferredLanguage", lambda u: u.preferred_language, default=True),
    Property("surname", lambda u: u.surname, default=True),
    Property("userPrincipalName", lambda u: u.user_principal_name, default=True),
    Property("id", lambda u: u.id, default=True),
    Property("accountEnabled", lambda u: u.account_enabled),
    Property("assignedLicenses", assigned_licenses),
    Property("assignedPlans", assigned_plans),
    Property("city", lambda u: u.city),
    Property("companyName", lambda u: u.company_name),
    Property("country", lambda u: u.country),
    Property("createdDateTime", lambda u: u.created_date_time),
    Property("department", lambda u: u.department),
    Property("employeeId", lambda u: u.employee_id),
    Property("imAddresses", _im_addresses),
    Property("mailNickname", _mail_nickname),
    Property("otherMails", lambda u: []),
    Property("proxyAddresses", _proxy_addresses),
    Property("usageLocation", lambda u: u.usage_location),
    Property("userType", lambda u: u.user_type),
    *(Property(name, lambda u: None) for name in (
        "ageGroup", "consentProvidedForMinor", "creationType", "employeeType", "externalUserState", "faxNumber",
        "legalAgeGroupClassification", "onPremisesImmutableId", "onPremisesSyncEnabled", "passwordPolicies",
        "postalCode", "preferredDataLocation", "showInAddressList", "state", "streetAddress",
    )),
    *(Property(name, lambda u: None, single_only=True) for name in (
        "aboutMe", "birthday", "hireDate", "mailboxSettings", "mySite", "preferredName",
    )),
    *(Property(name, lambda u: [], single_only=True) for name in (
        "interests", "pastProjects", "responsibilities", "schools", "skills",
    )),
)  # fmt: skip
PROPERTIES = {p.name.lower(): p for p in _ALL}
DEFAULT_SELECTION = tuple(p for p in _ALL if p.default)


def selection(names: tuple[str, ...] | None, collection: bool, basic_only: bool) -> tuple[Property, ...]:
    """The properties a response carries: the default set, or ``$select`` checked against the type, the
    collection rule (501 for single-GET-only properties) and a basic-profile-only token (403)."""
    if names is None:
        return tuple(p for p in DEFAULT_SELECTION if p.name in BASIC) if basic_only else DEFAULT_SELECTION
    chosen: dict[str, Property] = {}
    for name in names:
        found = PROPERTIES.get(name.lower())
        if found is None:
            raise bad_request("Parsing OData Select and Expand failed: " + unknown_property(name))
        if collection and found.single_only:
            raise GraphError(501, "NotImplemented", "This operation target is not yet supported.")
        if basic_only and found.name not in BASIC:
            raise forbidden()
        chosen.setdefault(found.name, found)
    return tuple(chosen.values())


def project(user: TenantUser, properties: tuple[Property, ...]) -> dict[str, Any]:
    return {p.name: p.get(user) for p in properties}


def context_url(base: str, properties: tuple[Property, ...] | None, entity: bool) -> str:
    """``@odata.context`` for users: ``…/$metadata#users``, with the selection in parentheses when given."""
    selected = f"({','.join(p.name for p in properties)})" if properties is not None else ""
    return f"{base}/$metadata#users{selected}{'/$entity' if entity else ''}"


# ---------------------------------------------------------------------------------------------------- filtering

_STANDARD = {"eq": DEFAULT, "in": DEFAULT, "startsWith": DEFAULT, "ne": ADVANCED, "null": ADVANCED}
_ADVANCED_ONLY = {"eq": ADVANCED, "in": ADVANCED, "startsWith": ADVANCED, "ne": ADVANCED, "null": ADVANCED}
_EQUALITY = {"eq": DEFAULT, "in": DEFAULT, "ne": ADVANCED, "null": ADVANCED}
_ADDRESSES = {"eq": DEFAULT, "startsWith": DEFAULT, "endsWith": ADVANCED}


def _string(name: str, ops: dict[str, str]) -> Field:
    return Field(name, Edm.STRING, PROPERTIES[name.lower()].get, ops)


def _element(name: str, edm: Edm, ops: dict[str, str]) -> Field:
    return Field(name, edm, lambda element: element[name], ops)


FILTERS: dict[str, Field] = {
    f.name.lower(): f
    for f in (
        *(_string(name, _STANDARD) for name in (
            "displayName", "givenName", "surname", "jobTitle", "department", "city", "country", "usageLocation",
            "mailNickname",
        )),
        _string("mail", {**_STANDARD, "endsWith": ADVANCED}),
        _string("userPrincipalName", {"eq": DEFAULT, "in": DEFAULT, "startsWith": DEFAULT, "ne": ADVANCED,
                                      "endsWith": ADVANCED}),
        *(_string(name, _ADVANCED_ONLY) for name in ("mobilePhone", "officeLocation", "companyName")),
        *(_string(name, _EQUALITY) for name in ("id", "userType", "employeeId")),
        Field("accountEnabled", Edm.BOOLEAN, lambda u: u.account_enabled, {"eq": DEFAULT, "ne": ADVANCED}),
        Field("createdDateTime", Edm.DATETIME, lambda u: u.created_date_time,
              {**_EQUALITY, "ge": DEFAULT, "le": DEFAULT}),
        Field("businessPhones", Edm.STRING, lambda u: u.business_phones, {"eq": ADVANCED}, many=True),
        Field("proxyAddresses", Edm.STRING, _proxy_addresses, _ADDRESSES, many=True),
        Field("otherMails", Edm.STRING, lambda u: [], _ADDRESSES, many=True),
        Field("imAddresses", Edm.STRING, _im_addresses, {"eq": DEFAULT, "startsWith": DEFAULT}, many=True),
        Field("assignedLicenses", Edm.STRING, assigned_licenses, many=True,
              element={"skuid": _element("skuId", Edm.GUID, {"eq": DEFAULT})}),
        Field("assignedPlans", Edm.STRING, assigned_plans, many=True, element={
            "serviceplanid": _element("servicePlanId", Edm.GUID, {"eq": ADVANCED}),
            "capabilitystatus": _element("capabilityStatus", Edm.STRING, {"eq": ADVANCED}),
            "service": _element("service", Edm.STRING, {"eq": ADVANCED, "startsWith": ADVANCED}),
        }),
    )
}  # fmt: skip
FILTERS.update({key: Field(p.name, Edm.STRING, p.get) for key, p in PROPERTIES.items() if key not in FILTERS})


def check_basic(names: set[str]) -> None:
    """403 when a basic-profile-only token filters or searches on a property outside the basic profile."""
    basic = {name.lower() for name in BASIC}
    if not names <= basic:
        raise forbidden()


def search_property(name: str) -> tuple[str, Getter]:
    """A property ``$search`` can name: a single-valued string property with ``startsWith``."""
    found = FILTERS.get(name.lower())
    if found is None or found.many or found.edm is not Edm.STRING or "startsWith" not in found.ops:
        raise unsupported_query(
            f"Unsupported or invalid query filter clause specified for property '{name}' of resource 'User'."
        )
    return found.name, found.get


# ---------------------------------------------------------------------------------------------------- paging


@dataclass(frozen=True)
class Ordering:
    """``$orderby`` on one property."""

    key: Callable[[TenantUser], str]
    descending: bool


_SORTABLE: dict[str, tuple[Callable[[TenantUser], str], bool]] = {
    "displayname": (lambda u: u.display_name.casefold(), False),
    "userprincipalname": (lambda u: u.user_principal_name.casefold(), False),
    "createddatetime": (lambda u: u.created_date_time, True),
}


def ordering(name: str, descending: bool, advanced: bool) -> Ordering:
    """The sort for ``$orderby``; createdDateTime needs advanced query parameters, other properties fail."""
    found = _SORTABLE.get(name.lower())
    if found is None:
        if name.lower() in PROPERTIES:
            raise unsupported_query(SORTING_UNSUPPORTED)
        raise bad_request(unknown_property(name))
    key, needs_advanced = found
    if needs_advanced and not advanced:
        raise unsupported_query(SORTING_UNSUPPORTED)
    return Ordering(key, descending)


@dataclass(frozen=True)
class Page:
    """One page of users, where the next one starts (None on the last), and the total when it was asked for."""

    users: list[TenantUser]
    following: Cursor | None
    total: int | None = None


def find_page(
    users: list[TenantUser],
    matches: Predicate | None,
    order: Ordering | None,
    top: int,
    after: Cursor | None,
    count: bool = False,
) -> Page:
    """Matching users after the cursor: in tenant order from a position, or by ``$orderby`` through a bounded heap
    (no full sort per page); every match counted when asked."""
    if order is None:
        if after is not None and not isinstance(after, int):
            raise expired_page_token()
        start = 0 if after is None else after + 1
        if count:
            hits = [i for i in range(start, len(users)) if matches is None or matches(users[i])]
            following = hits[top - 1] if len(hits) > top else None
            return Page([users[i] for i in hits[:top]], following, len(hits))
        page: list[TenantUser] = []
        last = start - 1
        for index in range(start, len(users)):
            user = users[index]
            if matches is not None and not matches(user):
                continue
            if len(page) == top:
                return Page(page, last)
            page.append(user)
            last = index
        return Page(page, None)
    if after is not None and not isinstance(after, tuple):
        raise expired_page_token()
    keyed = [(order.key(u), u.id, u) for u in users if matches is None or matches(u)]
    total = len(keyed) if count else None
    if after is not None:
        keyed = [k for k in keyed if ((k[0], k[1]) < after if order.descending else (k[0], k[1]) > after)]
    pick = heapq.nlargest if order.descending else heapq.nsmallest
    best = pick(top + 1, keyed)
    if len(best) <= top:
        return Page([k[2] for k in best], None, total)
    key, user_id, _ = best[top - 1]
    return Page([k[2] for k in best[:top]], (key, user_id), total)
