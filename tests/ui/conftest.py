"""Browser fixtures: Debian's Chromium driven by Playwright, against a real local cloud and service.

Every page opened through ``browse`` is watched: the test fails if any request leaves 127.0.0.1/localhost,
or if the page logs a console error or throws.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from tests.support.fixtures import StartService
from tests.support.scenario import Cloud
from tests.support.service import API_KEY, ServiceEnv

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
DESKTOP = {"width": 1280, "height": 800}
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed: `apt-get install chromium` (the CI script does this)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Browsing:
    """Opens the local cloud UI and the operator console, recording what every page requested and logged."""

    browser: Browser
    cloud: Cloud
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def context(self, viewport: dict[str, int] | None = None) -> BrowserContext:
        """A fresh browser profile (its own session storage); its tabs share it."""
        context = self.browser.new_context(viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def _watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def local_cloud(self, context: BrowserContext | None = None) -> Page:
        page = (context or self.context()).new_page()
        page.goto(self.cloud.emulator.cloud.urls.http + "/ui/")
        return page

    def console(self, service: ServiceEnv, context: BrowserContext | None = None) -> Page:
        page = (context or self.context()).new_page()
        page.goto(f"{service.url}/console/#key={API_KEY}")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def foreign_requests(self) -> list[str]:
        return [
            url for url in self.requests if urlsplit(url).hostname not in LOCAL_HOSTS and not url.startswith("data:")
        ]


@pytest.fixture
def browse(browser: Browser, cloud: Cloud, start_service: StartService) -> Iterator[Browsing]:
    """Pages on the local cloud and the service; closed before either stops, then checked."""
    browsing = Browsing(browser, cloud)
    yield browsing
    browsing.close()
    assert browsing.requests, "no page was loaded"
    assert not browsing.foreign_requests(), f"requests left 127.0.0.1: {browsing.foreign_requests()}"
    warnings = [p for p in browsing.problems if p.startswith("console warning")]
    errors = [p for p in browsing.problems if p not in warnings]
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)
    if warnings:
        print("browser warnings:\n" + "\n".join(warnings))


def screenshot(page: Page, name: str) -> None:
    """Take a 1280x800 screenshot; `make screenshots` (CALLBRIDGE_UPDATE_SCREENSHOTS=1) writes it to the docs."""
    png = page.screenshot()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000, "the screenshot is empty"
    if os.environ.get("CALLBRIDGE_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        (DOCS_IMAGES / name).write_bytes(png)
