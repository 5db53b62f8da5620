"""The ``demo`` seed: a number, federation allowing this resource, the quickstart's Teams users, an app
registration for the service, and one user behind each tenant gate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callbridge.emulator.entra.apps import AppRegistration
from callbridge.emulator.teams.policies import ExternalAccessPolicy
from callbridge.emulator.teams.tenant import AcsFederation
from callbridge.emulator.teams.users import TenantUser

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud

DEMO_NUMBER = "+18005550100"
ART_ANDERSON_ID = "fc4ccb5f-8046-4812-803f-6c344a5d1560"
DEMO_APP_NAME = "callbridge demo service"
DEMO_APP_CLIENT_ID = "5e0c7a3f-1d2b-4c6e-9a8f-0b1c2d3e4f5a"
BLOCKING_POLICY = "tag:AcsFederationBlocked"
QUEUE_APP_ID = "3f2e1d0c-9b8a-4766-8554-433221100ffe"

E5 = ["SPE_E5"]
DEMO_USERS: tuple[dict[str, Any], ...] = (
    {"id": ART_ANDERSON_ID, "displayName": "Art Anderson", "jobTitle": "Support Engineer",
     "department": "Customer Support", "answer": {"action": "accept", "afterSeconds": 1}},
    {"id": "2b7e8f4c-6d1a-4c3e-9f0b-5a8d7c6e1f20", "displayName": "Megan Bowen", "jobTitle": "Marketing Manager",
     "department": "Marketing", "answer": {"action": "decline", "afterSeconds": 1}},
    {"id": "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "displayName": "Alex Wilber", "jobTitle": "Marketing Assistant",
     "department": "Marketing", "answer": {"action": "noAnswer"}, "presence": {"availability": "Away"}},
    {"id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "displayName": "Diego Siciliani", "jobTitle": "HR Manager",
     "department": "HR", "online": False},
    {"id": "4f3e2d1c-0b9a-4876-9543-210fedcba987", "displayName": "Lynne Robbins", "jobTitle": "Planner",
     "department": "Retail", "answer": {"action": "busy", "afterSeconds": 1},
     "presence": {"availability": "DoNotDisturb"}},
    {"id": "61a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8", "displayName": "Nestor Wilke", "jobTitle": "Director",
     "department": "Operations", "licenses": ["ENTERPRISEPACK"]},
    {"id": "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a", "displayName": "Grady Archie", "jobTitle": "Designer",
     "department": "R&D", "enterpriseVoiceEnabled": False},
    {"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "displayName": "Isaiah Langer", "jobTitle": "Sales Rep",
     "department": "Sales"},
    {"id": "5c4b3a29-1807-4f6e-8d5c-4b3a29180706", "displayName": "Pradeep Gupta", "userType": "Guest",
     "userPrincipalName": "pradeep_fabrikam.com#EXT#@contoso.onmicrosoft.com", "mail": "pradeep@fabrikam.com"},
    {"id": "e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908", "displayName": "Contoso Support Queue",
     "resourceAccountAppId": QUEUE_APP_ID, "licenses": ["PHONESYSTEM_VIRTUALUSER"],
     "answer": {"action": "accept", "afterSeconds": 0}},
)  # fmt: skip
BLOCKED_USER = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"


def seed_demo(cloud: LocalCloud) -> None:
    """Create what the quickstart assumes exists, plus users who decline, let it ring, are offline or busy,
    and one user behind each admin gate (no Teams Phone, voice off, blocked by policy, guest)."""
    if DEMO_NUMBER not in cloud.resource.phone_numbers:
        cloud.resource.phone_numbers.append(DEMO_NUMBER)
    tenant = cloud.tenant
    tenant.set_federation(AcsFederation(enable_acs_users=True, allowed_acs_resources=[cloud.resource.immutable_id]))
    now = cloud.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    for data in DEMO_USERS:
        if data["id"] not in tenant.users:
            tenant.add_user(TenantUser.from_json({"licenses": E5, **data}, tenant.domain, now))
    if BLOCKING_POLICY not in tenant.policies:
        tenant.save_policy(ExternalAccessPolicy(BLOCKING_POLICY, enable_acs_federation_access=False))
        tenant.grant_policy(BLOCKING_POLICY, user=BLOCKED_USER)
    if DEMO_APP_CLIENT_ID not in tenant.apps:
        tenant.add_app(
            AppRegistration.create(
                DEMO_APP_NAME,
                ["User.Read.All", "Presence.Read.All"],
                ["User.Read.All", "Presence.Read.All"],
                client_id=DEMO_APP_CLIENT_ID,
            )
        )
