"""The CLI's connection to a running local cloud's control API."""

from __future__ import annotations

from typing import Any

import click
import httpx

DEFAULT_EMULATOR_URL = "http://127.0.0.1:7080"

emulator_option = click.option(
    "--emulator",
    "emulator_url",
    envvar="CALLBRIDGE_EMULATOR_URL",
    default=DEFAULT_EMULATOR_URL,
    show_default=True,
    help="The local cloud's HTTP URL (or set CALLBRIDGE_EMULATOR_URL).",
)


class Control:
    """Calls ``/emulator/...``; any failure becomes a one-line error naming what to do."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url + "/emulator", timeout=30)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise click.ClickException(
                f"cannot reach the local cloud at {self.base_url} ({exc}); start it with `callbridge emulator`"
                " or pass --emulator"
            ) from None
        if response.status_code == 204:
            return None
        try:
            payload = response.json()
        except ValueError:
            raise click.ClickException(f"{self.base_url} answered {response.status_code} without JSON") from None
        if response.is_error:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            raise click.ClickException(error.get("message") or f"{response.status_code} {response.text}")
        return payload

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body or {})

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PUT", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)
