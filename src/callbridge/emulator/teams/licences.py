"""Microsoft 365 licences the tenant can assign, with the service plans (MCOEV, TEAMS1, …) inside them."""

from __future__ import annotations

from dataclasses import dataclass

TEAMS_PHONE_PLAN = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"  # MCOEV
TEAMS_PLAN = "57ff2da0-773e-42df-b2af-ffb7a2317929"  # TEAMS1


@dataclass(frozen=True)
class ServicePlan:
    """A capability inside a licence, e.g. MCOEV (Teams Phone)."""

    service_plan_id: str
    name: str
    service: str


@dataclass(frozen=True)
class Sku:
    """A licence product, e.g. ``MCOEV`` (Teams Phone Standard) or ``SPE_E5``."""

    sku_id: str
    part_number: str
    display_name: str
    plans: tuple[ServicePlan, ...]


MCOEV = ServicePlan(TEAMS_PHONE_PLAN, "MCOEV", "MicrosoftCommunicationsOnline")
TEAMS1 = ServicePlan(TEAMS_PLAN, "TEAMS1", "TeamspaceAPI")
MCOSTANDARD = ServicePlan("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD", "MicrosoftCommunicationsOnline")
EXCHANGE = ServicePlan("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange")
MCOEV_VIRTUALUSER = ServicePlan(
    "f47330e9-c134-43b3-9993-e7f004506889", "MCOEV_VIRTUALUSER", "MicrosoftCommunicationsOnline"
)

CATALOGUE: tuple[Sku, ...] = (
    Sku("e43b5b99-8dfb-405f-9987-dc307f34bcbd", "MCOEV", "Microsoft Teams Phone Standard", (MCOEV,)),
    Sku("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "Office 365 E3", (TEAMS1, MCOSTANDARD, EXCHANGE)),
    Sku(
        "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
        "SPE_E5",
        "Microsoft 365 E5",
        (TEAMS1, MCOSTANDARD, EXCHANGE, MCOEV),
    ),
    Sku("440eaaa8-b3e0-484b-a8be-62870b9ba70a", "PHONESYSTEM_VIRTUALUSER", "Teams Phone Resource Account",
        (MCOEV_VIRTUALUSER,)),
)  # fmt: skip


def find_sku(name_or_id: str) -> Sku:
    """A SKU by part number (any case) or id; a ValueError lists what exists."""
    wanted = name_or_id.strip().lower()
    for sku in CATALOGUE:
        if wanted in (sku.sku_id, sku.part_number.lower()):
            return sku
    known = ", ".join(s.part_number for s in CATALOGUE)
    raise ValueError(f"unknown licence {name_or_id!r}; known licences: {known}")


@dataclass(frozen=True)
class AssignedLicence:
    """One licence on a user, with plans an admin switched off."""

    sku_id: str
    disabled_plans: tuple[str, ...] = ()

    @property
    def sku(self) -> Sku:
        return find_sku(self.sku_id)

    def enabled_plans(self) -> tuple[ServicePlan, ...]:
        return tuple(p for p in self.sku.plans if p.service_plan_id not in self.disabled_plans)


def has_plan(licences: tuple[AssignedLicence, ...], service_plan_id: str) -> bool:
    """True when some licence carries the plan and it is not disabled."""
    return any(p.service_plan_id == service_plan_id for lic in licences for p in lic.enabled_plans())
