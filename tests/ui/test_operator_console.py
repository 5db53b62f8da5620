"""The operator console: adding by directory search with presence dots, and outcomes explained where the
operator acted, including a Teams admin gate switched in the local cloud UI's tenant admin panel."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.fixtures import StartService
from tests.support.flows import rule
from tests.support.scenario import CALLER, Cloud
from tests.ui.conftest import Browsing, screenshot
from tests.ui.pages import call_card


def test_megan_declines_and_the_console_says_so(browse: Browsing, cloud: Cloud, start_service: StartService) -> None:
    service = start_service(routes=[rule(cloud, [], strategy="none")])
    service.answered()
    console = browse.console(service)
    card = call_card(console, CALLER, cloud.number)

    card.get_by_role("combobox", name="Add Teams user").fill("Meg")
    option = card.get_by_role("option", name="Megan Bowen")
    expect(option.get_by_role("img", name="Available")).to_be_visible()
    option.click()

    outcomes = card.get_by_role("list", name="Outcomes")
    expect(outcomes).to_contain_text("Megan Bowen declined (603)")
    expect(card.get_by_role("list", name="In the call")).not_to_contain_text("Megan Bowen")


def test_a_tenant_gate_failure_is_explained_with_the_cmdlet_that_fixes_it(
    browse: Browsing, cloud: Cloud, start_service: StartService
) -> None:
    service = start_service(routes=[rule(cloud, [], strategy="none")])
    service.answered()
    ui = browse.local_cloud()
    federation = ui.get_by_role("form", name="ACS federation")
    expect(federation.get_by_label("Allowed ACS resources")).to_have_value(cloud.resource_id)
    federation.get_by_label("Allow ACS users").uncheck()
    federation.get_by_role("button", name="Save federation").click()
    expect(federation.get_by_role("status")).to_have_text("ACS users are blocked.")

    console = browse.console(service)
    card = call_card(console, CALLER, cloud.number)
    search = card.get_by_role("combobox", name="Add Teams user")
    search.fill("Art")
    expect(card.get_by_role("option", name="Art Anderson")).to_be_visible()
    search.press("ArrowDown")
    search.press("Enter")

    outcomes = card.get_by_role("list", name="Outcomes")
    expect(outcomes).to_contain_text("the Teams tenant does not allow this ACS resource (403/10124)")
    expect(outcomes.get_by_role("code")).to_contain_text(
        f"Set-CsTeamsAcsFederationConfiguration -EnableAcsUsers $true -AllowedAcsResources {cloud.resource_id}"
    )
    card.get_by_text("Service timeline").click()
    expect(card.get_by_role("group")).to_contain_text("AddParticipantFailed")
    screenshot(console, "operator-console.png")
