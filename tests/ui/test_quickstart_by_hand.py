"""The quickstart by hand in a browser: a phone dials, the service answers and rings Art Anderson as "Jack
(Contoso Tech Support)", Art accepts in his Teams client, and the operator removes him from the console;
the local cloud UI follows every step live."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.fixtures import StartService
from tests.support.scenario import ART, CALLER, Cloud
from tests.ui.conftest import Browsing, screenshot
from tests.ui.pages import client_pane, timeline

JACK = "Jack (Contoso Tech Support)"


def dial_from_the_phone_pane(page: Page, cloud: Cloud) -> None:
    phone = page.get_by_role("region", name="Phone")
    phone.get_by_label("Caller number").fill(CALLER)
    expect(phone.get_by_label("Dials")).to_have_value(cloud.number)
    phone.get_by_role("button", name="Dial").click()


def test_quickstart_by_hand(browse: Browsing, cloud: Cloud, start_service: StartService) -> None:
    service = start_service()
    cloud.set_user(ART, answer={"action": "manual"})
    ui = browse.local_cloud()
    art = client_pane(ui, "Art Anderson")
    expect(ui.locator("#live")).to_have_text("Live")

    dial_from_the_phone_pane(ui, cloud)

    calls = ui.get_by_role("list", name="Phone calls")
    expect(calls).to_contain_text(f"{CALLER} → {cloud.number}")
    expect(calls).to_contain_text("connected")
    expect(timeline(ui)).to_contain_text("200 AnswerCall")
    toast = art.get_by_role("group", name=f"Incoming call from {JACK}")
    expect(toast).to_contain_text(JACK)
    expect(toast).to_contain_text(CALLER)
    expect(timeline(ui)).to_contain_text(f"Art Anderson: toast: {JACK} is calling")
    expect(timeline(ui)).to_contain_text("JWT accepted")
    screenshot(ui, "local-cloud-ui.png")

    toast.get_by_role("button", name="Accept").click()

    roster = art.get_by_role("list", name="Roster")
    expect(roster.get_by_role("listitem")).to_have_count(2)
    expect(roster.get_by_role("listitem").first).to_contain_text(CALLER)
    expect(roster.get_by_role("listitem").last).to_contain_text("Art Anderson")
    expect(roster).not_to_contain_text(cloud.number)
    expect(toast).to_have_count(0)
    expect(art).to_contain_text("Busy, in a call")

    console = browse.console(service)
    card = console.get_by_role("article", name=f"{CALLER} → {cloud.number}")
    expect(card.get_by_role("list", name="In the call")).to_contain_text("Art Anderson")
    card.get_by_role("button", name="Remove Art Anderson").click()
    expect(card.get_by_role("list", name="Outcomes")).to_contain_text("Art Anderson was removed")
    expect(card.get_by_role("list", name="In the call")).not_to_contain_text("Art Anderson")

    expect(roster).to_have_count(0)
    expect(art).to_contain_text("Available")
    expect(timeline(ui)).to_contain_text("RemoveParticipant")
