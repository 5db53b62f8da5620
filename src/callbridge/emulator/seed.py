"""The ``demo`` seed: a number, federation allowing this resource, and the quickstart's Teams users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callbridge.emulator.teams.tenant import AcsFederation, AnswerAction, AnswerBehaviour, TenantUser

if TYPE_CHECKING:
    from callbridge.emulator.cloud import LocalCloud

DEMO_NUMBER = "+18005550100"
ART_ANDERSON_ID = "fc4ccb5f-8046-4812-803f-6c344a5d1560"

DEMO_USERS = (
    (ART_ANDERSON_ID, "Art Anderson", AnswerAction.ACCEPT, True),
    ("2b7e8f4c-6d1a-4c3e-9f0b-5a8d7c6e1f20", "Megan Bowen", AnswerAction.DECLINE, True),
    ("7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "Alex Wilber", AnswerAction.NO_ANSWER, True),
    ("9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "Diego Siciliani", AnswerAction.ACCEPT, False),
    ("4f3e2d1c-0b9a-4876-9543-210fedcba987", "Lynne Robbins", AnswerAction.BUSY, True),
)


def seed_demo(cloud: LocalCloud) -> None:
    """Create what the quickstart assumes exists, plus users who decline, let it ring, are offline or busy."""
    if DEMO_NUMBER not in cloud.resource.phone_numbers:
        cloud.resource.phone_numbers.append(DEMO_NUMBER)
    cloud.tenant.federation = AcsFederation(enable_acs_users=True, allowed_acs_resources=[cloud.resource.immutable_id])
    for user_id, name, action, online in DEMO_USERS:
        if user_id in cloud.tenant.users:
            continue
        alias = name.split()[0].lower() + name.split()[1].lower()
        cloud.tenant.add_user(
            TenantUser(
                id=user_id,
                display_name=name,
                mail=f"{alias}@{cloud.tenant.domain}",
                user_principal_name=f"{alias}@{cloud.tenant.domain}",
                online=online,
                answer=AnswerBehaviour(action, 1.0),
            )
        )
