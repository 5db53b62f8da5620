"""The web pages both processes serve: static HTML, CSS and JavaScript modules, no build step, no CDN."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

WEBUI = Path(__file__).parent / "webui"


def page_routes(prefix: str, pages: Path) -> list[BaseRoute]:
    """A page's own files at ``prefix/`` and the shared ones (SSE reader, JSON viewer, styles) at
    ``prefix/common/``."""
    return [
        Mount(f"{prefix}/common", app=StaticFiles(directory=WEBUI)),
        Mount(prefix, app=StaticFiles(directory=pages, html=True)),
    ]
