"""Where things are on the two pages, as a user (or a screen reader) finds them."""

from __future__ import annotations

from playwright.sync_api import Locator, Page


def client_pane(page: Page, name: str) -> Locator:
    """A user's Teams client pane in the local cloud UI."""
    return page.get_by_role("article", name=name, exact=True)


def timeline(page: Page) -> Locator:
    """The selected call's timeline entries."""
    return page.get_by_role("list", name="What crossed the wire for this call, in order")


def call_card(page: Page, caller: str, number: str) -> Locator:
    """A call's card in the operator console."""
    return page.get_by_role("article", name=f"{caller} → {number}")
