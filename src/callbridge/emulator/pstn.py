"""The phone network: simulated callers dialling the resource's numbers, and phones the calls reach."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from callbridge.emulator.acs.calls import IncomingCallOffer, Invitation, Participant, ServerCall
from callbridge.emulator.clock import Clock
from callbridge.emulator.journal import CallIds, EntryKind, Journal, Lane
from callbridge.identifiers import Identifier, PhoneNumber

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class PhoneError(ValueError):
    """A phone action that cannot be made as asked."""


class CallPlacement(Protocol):
    """The engine operations a phone triggers."""

    def start_call(self, first: Participant, group_call_id: str | None = None) -> ServerCall: ...

    def offer(
        self,
        call: ServerCall,
        to: Identifier,
        caller: Identifier,
        caller_display_name: str = "",
        invitation: Invitation | None = None,
        custom_context: dict[str, Any] | None = None,
    ) -> IncomingCallOffer: ...

    def participant_left(self, server_call_id: str, identifier: Identifier) -> None: ...


def check_number(number: object, field: str) -> str:
    """An E.164 number such as +14255550123, or a PhoneError saying what is wrong."""
    if not isinstance(number, str) or not E164.match(number):
        raise PhoneError(f"{field} must be an E.164 phone number such as +14255550123, got {number!r}")
    return number


@dataclass
class PhoneCall:
    """A simulated phone's view of one call: the phone's number, who called whom, and how it went."""

    server_call_id: str
    correlation_id: str
    phone: str
    caller: str
    callee: str
    state: str = "ringing"
    started_at: float = 0.0
    ended_at: float | None = None

    @property
    def ids(self) -> CallIds:
        return CallIds(server_call_id=self.server_call_id, correlation_id=self.correlation_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "serverCallId": self.server_call_id,
            "correlationId": self.correlation_id,
            "phone": self.phone,
            "from": self.caller,
            "to": self.callee,
            "state": self.state,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
        }


class PhoneNetwork:
    """Callers that dial the resource's numbers, and the phones on the far end of calls."""

    def __init__(self, clock: Clock, journal: Journal, owned_numbers: list[str]) -> None:
        self.clock = clock
        self.journal = journal
        self.owned_numbers = owned_numbers
        self.calls: dict[str, dict[str, PhoneCall]] = {}
        self.history_seconds = 600.0
        self.engine: CallPlacement | None = None

    def dial(self, caller: str, callee: str, display_name: str = "") -> PhoneCall:
        """A phone calls one of the resource's numbers; the apps get IncomingCall through Event Grid."""
        check_number(caller, "from")
        check_number(callee, "to")
        if callee not in self.owned_numbers:
            raise PhoneError(f"{callee} is not a number of this Communication Services resource")
        engine = self._engine()
        phone = PhoneNumber(caller)
        call = engine.start_call(Participant(phone, display_name or caller))
        record = PhoneCall(
            call.server_call_id, call.correlation_id, caller, caller, callee, started_at=self.clock.time()
        )
        self.calls.setdefault(call.server_call_id, {})[caller] = record
        self.journal.record(EntryKind.PHONE, Lane.PHONE, Lane.ACS, f"{caller} dials {callee}", call.ids)
        engine.offer(call, PhoneNumber(callee), phone, display_name)
        return record

    def hang_up(self, server_call_id: str, phone: str | None = None) -> PhoneCall:
        """A phone in the call (by default the one that dialled) is put down."""
        phones = self.calls.get(server_call_id, {})
        record = next((r for n, r in phones.items() if (phone is None or n == phone) and r.state != "ended"), None)
        if record is None:
            raise PhoneError(f"no active phone call {server_call_id!r}" + (f" on {phone}" if phone else ""))
        self.journal.record(
            EntryKind.PHONE, Lane.PHONE, Lane.ACS, f"{record.phone} hangs up", record.ids, detail=record.as_json()
        )
        self._engine().participant_left(server_call_id, PhoneNumber(record.phone))
        return record

    def answered(self, call: ServerCall, number: PhoneNumber, caller: Identifier) -> None:
        """A phone the resource called picked up."""
        caller_number = caller.value if isinstance(caller, PhoneNumber) else caller.raw_id
        self.calls.setdefault(call.server_call_id, {}).setdefault(
            number.value,
            PhoneCall(
                call.server_call_id,
                call.correlation_id,
                number.value,
                caller_number,
                number.value,
                "connected",
                self.clock.time(),
            ),
        )

    def call_changed(self, call: ServerCall) -> None:
        """Follow the call's state: connected once someone else is in it, ended when it ends or we left."""
        phones = self.calls.get(call.server_call_id, {})
        for number, record in phones.items():
            if record.state == "ended":
                continue
            if call.ended or call.find(PhoneNumber(number)) is None:
                record.state = "ended"
                record.ended_at = self.clock.time()
            elif len(call.participants) > 1:
                record.state = "connected"
        if phones and all(r.state == "ended" for r in phones.values()):
            self.clock.call_later(self.history_seconds, lambda: self.calls.pop(call.server_call_id, None))

    def all_calls(self) -> list[PhoneCall]:
        """Every phone's calls, active and recent."""
        return [record for phones in self.calls.values() for record in phones.values()]

    def _engine(self) -> CallPlacement:
        if self.engine is None:
            raise RuntimeError("the phone network is not attached to a call engine")
        return self.engine
