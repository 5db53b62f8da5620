"""Calls coming in: IncomingCall offers, and answering, rejecting or redirecting them."""

from __future__ import annotations

import base64
import json
from typing import Any

from callbridge.emulator.acs import errors, results
from callbridge.emulator.acs.calls import (
    CallConnection,
    IncomingCallOffer,
    Invitation,
    Purpose,
    ServerCall,
)
from callbridge.emulator.acs.lifecycle import CallLifecycle
from callbridge.identifiers import CommunicationUser, Identifier, PhoneNumber, to_model


class IncomingCalls(CallLifecycle):
    """Offers to the resource's apps and what an app does with one."""

    def offer(
        self,
        call: ServerCall,
        to: Identifier,
        caller: Identifier,
        caller_display_name: str = "",
        invitation: Invitation | None = None,
        custom_context: dict[str, Any] | None = None,
    ) -> IncomingCallOffer:
        """Raise IncomingCall for a number or identity of this resource; one app may answer it, in time."""
        context = self._incoming_call_context(call)
        offer = IncomingCallOffer(
            context=context,
            call=call,
            to=to,
            caller=caller,
            caller_display_name=caller_display_name,
            invitation=invitation,
            custom_context=custom_context,
        )
        self.offers[context] = offer
        call.offers.append(offer)
        if invitation is not None:
            invitation.offer = offer
        offer.timer = self.clock.call_later(self.timings.incoming_call_window, lambda: self._offer_expired(offer))
        data: dict[str, Any] = {
            "to": to_model(to),
            "from": to_model(caller),
            "serverCallId": call.server_call_id,
            "callerDisplayName": caller_display_name,
            "incomingCallContext": context,
            "correlationId": call.correlation_id,
        }
        if custom_context:
            data["customContext"] = custom_context
        self.sink.incoming_call(offer, data)
        return offer

    def _incoming_call_context(self, call: ServerCall) -> str:
        """An unsigned JWT like the real one; opaque to apps, it maps back to the offer."""
        header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        claims = {"cc": self.ids.token(), "sid": call.server_call_id, "ts": int(self.clock.time())}
        return f"{header}.{_b64url(json.dumps(claims).encode())}."

    def _offer_expired(self, offer: IncomingCallOffer) -> None:
        if offer.settled:
            return
        offer.expired = True
        self._retire_offer(offer)
        if offer.invitation is not None:
            self.invitation_failed(offer.invitation.invitation_id, results.NO_ANSWER)
        elif not offer.call.connections:
            self._end_call(offer.call, results.NO_ANSWER)

    def _take_offer(self, context: str) -> IncomingCallOffer:
        offer = self.offers.get(context)
        if offer is None:
            raise errors.InvalidRequest("incomingCallContext is not a context this resource issued.")
        if offer.expired:
            raise errors.OfferExpired()
        if offer.call.ended:
            raise errors.CallerHungUp()
        if offer.settled:
            raise errors.WrongState("the incoming call has already been answered, rejected or redirected.")
        self._retire_offer(offer)
        return offer

    def answer(
        self,
        context: str,
        callback_uri: str,
        api_version: str,
        operation_context: str | None = None,
        answered_by: str | None = None,
        media_streaming: dict[str, Any] | None = None,
        transcription: dict[str, Any] | None = None,
    ) -> CallConnection:
        """Answer an IncomingCall: the app's leg joins and CallConnected follows."""
        offer = self._take_offer(context)
        identity: Identifier = CommunicationUser(answered_by) if answered_by else offer.to
        connection = self._new_connection(offer.call, identity, callback_uri, api_version)
        connection.operation_context = operation_context
        connection.source = offer.caller
        connection.targets = [offer.to]
        connection.answered_by = answered_by
        connection.answered_for = offer.to.value if isinstance(offer.to, PhoneNumber) else None
        connection.media_streaming = media_streaming
        connection.transcription = transcription
        invitation = offer.invitation
        if invitation is not None:
            invitation.answering = connection
            self.clock.call_later(self.timings.connect, lambda: self.invitation_answered(invitation.invitation_id))
        else:
            self.clock.call_later(self.timings.connect, lambda: self._connect_leg(connection))
        return connection

    def reject(self, context: str, reason: str | None) -> None:
        """Refuse an IncomingCall; the caller hears busy or declined, no events reach the app."""
        offer = self._take_offer(context)
        result = results.BUSY if reason == "busy" else results.DECLINED
        if offer.invitation is not None:
            self.invitation_failed(offer.invitation.invitation_id, result)
        elif not offer.call.connections:
            self._end_call(offer.call, result)

    def redirect(self, context: str, target: Identifier) -> None:
        """Send an IncomingCall on to another endpoint without answering it."""
        offer = self._take_offer(context)
        invitation = self._new_invitation(Purpose.REDIRECT, offer.call, target, caller=offer.caller, connection=None)
        invitation.source_display_name = offer.caller_display_name or None
        self._ring(invitation)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
