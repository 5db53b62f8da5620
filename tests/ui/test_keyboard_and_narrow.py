"""A narrow window (420x900) still works, and so does the keyboard: Tab to Accept, press Enter."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.fixtures import StartService
from tests.support.scenario import ART, CALLER, Cloud
from tests.ui.conftest import Browsing
from tests.ui.pages import call_card, client_pane, timeline

NARROW = {"width": 420, "height": 900}


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_narrow_window_and_the_keyboard_are_enough(
    browse: Browsing, cloud: Cloud, start_service: StartService
) -> None:
    service = start_service()
    cloud.set_user(ART, answer={"action": "manual"})
    ui = browse.local_cloud(browse.context(NARROW))
    art = client_pane(ui, "Art Anderson")
    expect(ui.locator("#live")).to_have_text("Live")

    service.dial()
    accept = art.get_by_role("button", name="Accept")
    expect(accept).to_be_visible()
    art.get_by_label("Status").focus()
    ui.keyboard.press("Tab")
    expect(accept).to_be_focused()
    ui.keyboard.press("Enter")

    expect(art.get_by_role("list", name="Roster")).to_contain_text(CALLER)
    expect(timeline(ui)).to_contain_text("Art Anderson accepts")
    assert fits_the_width(ui)

    console = browse.console(service, browse.context(NARROW))
    card = call_card(console, CALLER, cloud.number)
    remove = card.get_by_role("button", name="Remove Art Anderson")
    expect(remove).to_be_visible()
    assert fits_the_width(console)
    remove.focus()
    console.keyboard.press("Enter")
    expect(card.get_by_role("list", name="Outcomes")).to_contain_text("Art Anderson was removed")
