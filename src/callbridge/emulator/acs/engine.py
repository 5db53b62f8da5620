"""The Call Automation call engine: commands in, state changes and events out, no HTTP.

Routes translate the wire into these commands; endpoints (Teams clients, phones, apps) report back
through ``invitation_answered``/``invitation_failed``/``participant_left``; events leave through an
``EventSink``. Everything timed is scheduled on the injected clock.
"""

from __future__ import annotations

from callbridge.emulator.acs.incoming import IncomingCalls
from callbridge.emulator.acs.lifecycle import EVENT_PREFIX, Endpoints, EventSink
from callbridge.emulator.acs.midcall import MidCallOperations
from callbridge.emulator.acs.outgoing import OutgoingCalls

__all__ = ["EVENT_PREFIX", "CallEngine", "Endpoints", "EventSink"]


class CallEngine(IncomingCalls, OutgoingCalls, MidCallOperations):
    """Server calls, call connections, participants, invitations and transfers, with their state machine."""
