"""Both pages stay right with several tabs open and after a reload: they reload their state on every change,
so any tab shows what any other tab did."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.fixtures import StartService
from tests.support.scenario import ART, CALLER, Cloud
from tests.ui.conftest import Browsing
from tests.ui.pages import call_card, client_pane, timeline


def test_two_tabs_and_a_reload_show_the_same_call(browse: Browsing, cloud: Cloud, start_service: StartService) -> None:
    service = start_service()
    cloud.set_user(ART, answer={"action": "manual"})
    context = browse.context()
    first, second = browse.local_cloud(context), browse.local_cloud(context)
    for tab in (first, second):
        expect(tab.locator("#live")).to_have_text("Live")

    service.dial()
    for tab in (first, second):
        expect(client_pane(tab, "Art Anderson").get_by_role("button", name="Accept")).to_be_visible()
    client_pane(first, "Art Anderson").get_by_role("button", name="Accept").click()

    for tab in (first, second):
        roster = client_pane(tab, "Art Anderson").get_by_role("list", name="Roster")
        expect(roster).to_contain_text("Art Anderson")
    second.reload()
    expect(client_pane(second, "Art Anderson").get_by_role("list", name="Roster")).to_contain_text(CALLER)
    expect(timeline(second)).to_contain_text("Art Anderson accepts")

    consoles = browse.context()
    left, right = browse.console(service, consoles), browse.console(service, consoles)
    call_card(left, CALLER, cloud.number).get_by_role("button", name="Remove Art Anderson").click()
    for tab in (left, right):
        expect(call_card(tab, CALLER, cloud.number).get_by_role("list", name="Outcomes")).to_contain_text(
            "Art Anderson was removed"
        )
    right.reload()
    card = call_card(right, CALLER, cloud.number)
    expect(card.get_by_role("list", name="Outcomes")).to_contain_text("Art Anderson was removed")
    expect(card.get_by_role("list", name="In the call")).not_to_contain_text("Art Anderson")
    for tab in (first, second):
        expect(client_pane(tab, "Art Anderson").get_by_role("list", name="Roster")).to_have_count(0)
