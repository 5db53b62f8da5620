"""When ACS and Event Grid try a delivery again, when they give up, and what Event Grid keeps of an event it gave up on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from callbridge.emulator.delivery.transport import Reply

CALLBACK_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
SUCCESS = frozenset({200, 201, 202, 203, 204})
UNDELIVERABLE = {
    400: "UndeliverableDueToHttpBadRequest",
    401: "UndeliverableDueToHttpUnauthorized",
    403: "UndeliverableDueToHttpForbidden",
    413: "UndeliverableDueToHttpRequestEntityTooLarge",
}
MAX_ATTEMPTS_EXCEEDED = "MaxDeliveryAttemptsExceeded"
TTL_EXCEEDED = "TimeToLiveExceeded"


@dataclass(frozen=True)
class Verdict:
    """What follows one delivery attempt: done, another attempt after a delay, or the dead-letter store."""

    delivered: bool = False
    retry_in: float | None = None
    dead_letter_reason: str | None = None

    def describe(self) -> str:
        """A suffix for the attempt's journal summary."""
        if self.retry_in is not None:
            return f", retrying in {self.retry_in:g} s"
        if self.dead_letter_reason is not None:
            return f", dead-lettered ({self.dead_letter_reason})"
        return ""


class Policy(Protocol):
    """How one service judges a delivery attempt."""

    @property
    def timeout_seconds(self) -> float: ...

    def judge(self, reply: Reply, attempts: int, age: float) -> Verdict: ...


@dataclass(frozen=True)
class CallbackPolicy:
    """How hard ACS tries to reach an app's callback URI: a few quick retries of transient failures."""

    attempts: int = 3
    backoff_seconds: tuple[float, ...] = (0.5, 2.0)
    timeout_seconds: float = 10.0

    def judge(self, reply: Reply, attempts: int, age: float) -> Verdict:
        """Done when the app answered anything but a transient failure, or the attempts are used up."""
        status = reply.status
        if status is not None and (status < 400 or status not in CALLBACK_RETRYABLE):
            return Verdict(delivered=status < 400)
        if reply.final or attempts >= self.attempts:
            return Verdict()
        schedule = self.backoff_seconds
        return Verdict(retry_in=schedule[min(attempts - 1, len(schedule) - 1)] if schedule else 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry schedule and limits; a shortened form of Azure's 10 s, 30 s, 1 m, 5 m, ... schedule."""

    schedule: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    max_attempts: int = 6
    ttl_seconds: float = 300.0
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_attempts > 1 and not self.schedule:
            raise ValueError("a retry schedule needs at least one delay")
        if any(delay < 0 for delay in self.schedule):
            raise ValueError("retry delays cannot be negative")
        if self.ttl_seconds <= 0 or self.timeout_seconds <= 0:
            raise ValueError("ttl_seconds and timeout_seconds must be positive")

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure; the last delay repeats."""
        return self.schedule[min(attempts, len(self.schedule)) - 1]

    def judge(self, reply: Reply, attempts: int, age: float) -> Verdict:
        """Decide after ``attempts`` attempts, the last one answered by ``reply``, ``age`` s after publishing."""
        status = reply.status
        if status in SUCCESS:
            return Verdict(delivered=True)
        if status in UNDELIVERABLE:
            return Verdict(dead_letter_reason=UNDELIVERABLE[status])
        if reply.final:
            return Verdict()  # an event that cannot be sent has nothing to keep a dead letter of
        if attempts >= self.max_attempts:
            return Verdict(dead_letter_reason=MAX_ATTEMPTS_EXCEEDED)
        delay = self.delay_after(attempts)
        if age + delay > self.ttl_seconds:
            return Verdict(dead_letter_reason=TTL_EXCEEDED)
        return Verdict(retry_in=delay)


@dataclass
class DeadLetter:
    """An event Event Grid gave up on, with why; the emulator keeps these instead of a storage container."""

    subscription: str
    event: dict[str, Any]
    attempts: int
    last_status: int | None
    last_error: str | None
    reason: str
    dead_lettered_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "subscription": self.subscription,
            "event": self.event,
            "deliveryAttempts": self.attempts,
            "lastHttpStatusCode": self.last_status,
            "lastError": self.last_error,
            "deadLetterReason": self.reason,
            "deadLetterTime": self.dead_lettered_at,
        }
