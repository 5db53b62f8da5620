"""One HTTP exchange with an app's endpoint, bounded by the clock and never raising for the endpoint's faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from callbridge.emulator.clock import Clock

T = TypeVar("T")
UNSENDABLE = (httpx.InvalidURL, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class Reply:
    """What the endpoint answered, or why there was no answer; ``final`` when trying again cannot help."""

    status: int | None
    headers: httpx.Headers
    body: bytes
    error: str | None
    duration_ms: int
    final: bool = False

    @classmethod
    def unsent(cls, error: BaseException) -> Reply:
        """The request could not even be built (an unparsable URI, an event that cannot be encoded)."""
        return cls(None, httpx.Headers(), b"", describe(error, 0.0), 0, final=True)

    @property
    def outcome(self) -> str:
        """The status code, or the error when there was none."""
        return str(self.status) if self.status is not None else str(self.error)

    def json(self) -> Any:
        """The body parsed as JSON; None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


async def within(clock: Clock, seconds: float, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``, cancelling it and raising TimeoutError after ``seconds`` of the clock's time."""
    task = asyncio.ensure_future(awaitable)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = clock.call_later(seconds, expire)
    try:
        return await task
    except asyncio.CancelledError:
        if expired:
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()


async def exchange(
    http: httpx.AsyncClient,
    clock: Clock,
    timeout: float,
    method: str,
    url: str,
    headers: dict[str, str],
    content: bytes | None = None,
) -> Reply:
    """Send one request; a bad URI, a refusal, reset, garbage or silence becomes a Reply with an error."""
    started = clock.time()
    # The budget runs on the clock; httpx gets the same budget as a wall-clock backstop, so a hung socket cannot
    # outlive it under a virtual clock that nobody advances (and the client's own default timeout cannot cut it short).
    try:
        response = await within(
            clock,
            timeout,
            http.request(method, url, headers=headers, content=content, timeout=timeout),
        )
    except UNSENDABLE as error:
        return Reply.unsent(error)
    except Exception as error:  # any failure of the endpoint or the connection is an outcome, not a crash
        return Reply(None, httpx.Headers(), b"", describe(error, timeout), _elapsed_ms(clock, started))
    return Reply(response.status_code, response.headers, response.content, None, _elapsed_ms(clock, started))


def describe(error: BaseException, timeout: float) -> str:
    """A short, exact reason for a failed exchange."""
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return f"no response within {timeout:g} s"
    root = _innermost(error)
    if isinstance(root, ConnectionRefusedError):
        return "connection refused"
    if isinstance(root, ConnectionResetError):
        return "connection reset"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect: {root}"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"connection dropped or invalid HTTP response: {error}"
    return f"{type(error).__name__}: {error or root or type(root).__name__}"


def _innermost(error: BaseException) -> BaseException:
    seen = {id(error)}
    while (cause := error.__cause__ or error.__context__) is not None and id(cause) not in seen:
        seen.add(id(cause))
        error = cause
    return error


def _elapsed_ms(clock: Clock, started: float) -> int:
    return round((clock.time() - started) * 1000)
