"""The Call Automation call engine: commands in, state changes and events out, no HTTP.

Routes translate the wire into these commands; endpoints (Teams clients, phones, apps) report back
through ``invitation_answered``/``invitation_failed``/``participant_left``; events leave through an
``EventSink``. Everything timed is scheduled on the injected clock.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Protocol

from callbridge.emulator.acs import errors, results
from callbridge.emulator.acs.calls import (
    CallConnection,
    ConnectionState,
    IncomingCallOffer,
    Invitation,
    InvitationState,
    Participant,
    Purpose,
    ServerCall,
)
from callbridge.emulator.acs.resource import AcsResource, IdFactory
from callbridge.emulator.acs.results import Result
from callbridge.emulator.acs.timings import Timings
from callbridge.emulator.clock import Clock
from callbridge.emulator.journal import EntryKind, Journal, Lane
from callbridge.identifiers import (
    CommunicationUser,
    Identifier,
    PhoneNumber,
    TeamsUser,
    identity_key,
    to_model,
)


class Endpoints(Protocol):
    """Whoever answers invitations and shows calls: Teams clients, phones, other apps."""

    def ring(self, invitation: Invitation) -> None:
        """Start ringing the invitation's target; report the outcome to the engine later."""

    def stop_ringing(self, invitation: Invitation) -> None:
        """The invitation ended (answered elsewhere, cancelled, timed out): stop showing it."""

    def call_changed(self, call: ServerCall) -> None:
        """The call's roster or state changed: refresh whatever shows it."""

    def display_name(self, identifier: Identifier) -> str:
        """The name a roster shows for an endpoint."""


class EventSink(Protocol):
    """Where the engine's outbound events go."""

    def callback(self, connection: CallConnection, uri: str, event_type: str, data: dict[str, Any]) -> None:
        """Deliver a mid-call event to an app's callback URI."""

    def incoming_call(self, offer: IncomingCallOffer, data: dict[str, Any]) -> None:
        """Publish ``Microsoft.Communication.IncomingCall`` through Event Grid."""


EVENT_PREFIX = "Microsoft.Communication."


class CallEngine:
    """Server calls, call connections, participants, invitations and transfers, with their state machine."""

    def __init__(
        self,
        clock: Clock,
        resource: AcsResource,
        journal: Journal,
        timings: Timings,
        endpoints: Endpoints,
        sink: EventSink,
        ids: IdFactory,
    ) -> None:
        self.clock = clock
        self.resource = resource
        self.journal = journal
        self.timings = timings
        self.endpoints = endpoints
        self.sink = sink
        self.ids = ids
        self.calls: dict[str, ServerCall] = {}
        self.connections: dict[str, CallConnection] = {}
        self.invitations: dict[str, Invitation] = {}
        self.offers: dict[str, IncomingCallOffer] = {}
        self._tombstones: dict[str, float] = {}
        self._group_calls: dict[str, ServerCall] = {}
        self.on_connected: list[Callable[[CallConnection], None]] = []

    # ------------------------------------------------------------------ lookups

    def connection(self, call_connection_id: str) -> CallConnection:
        """The live call connection, or the error the service answers for a gone or unknown one."""
        found = self.connections.get(call_connection_id)
        if found is not None:
            return found
        if call_connection_id in self._tombstones:
            raise errors.terminated(call_connection_id)
        raise errors.call_not_found(call_connection_id)

    def readable_connection(self, call_connection_id: str) -> CallConnection:
        """Like ``connection`` but a terminated call reads as not found, as GET does on the service."""
        found = self.connections.get(call_connection_id)
        if found is None:
            raise errors.call_not_found(call_connection_id)
        return found

    def established(self, call_connection_id: str) -> CallConnection:
        """A connection that can take mid-call actions."""
        connection = self.connection(call_connection_id)
        if not connection.is_established:
            raise errors.not_established(call_connection_id)
        return connection

    def participant(self, connection: CallConnection, identifier: Identifier) -> Participant:
        found = connection.call.find(identifier)
        if found is None:
            raise errors.participant_not_found(identifier.raw_id)
        return found

    # ------------------------------------------------------------------ inbound calls

    def start_call(self, first: Participant, group_call_id: str | None = None) -> ServerCall:
        """Open a server call with its first participant (a caller, or the app that creates it)."""
        call = ServerCall(
            server_call_id=self.ids.server_call_id(),
            correlation_id=self.ids.guid(),
            created_at=self.clock.time(),
            group_call_id=group_call_id,
        )
        call.participants[self._participant_key(first)] = first
        self.calls[call.server_call_id] = call
        if group_call_id:
            self._group_calls[group_call_id] = call
        self.journal.record(EntryKind.CALL, Lane.ACS, Lane.ACS, f"call started by {first.identifier.raw_id}", call.ids)
        return call

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
            raise errors.invalid_body("incomingCallContext is not a context this resource issued.")
        if offer.expired:
            raise errors.not_answered_in_time()
        if offer.call.ended:
            raise errors.AcsError(400, "8528", "The call has already ended: the caller hung up before it was answered.")
        if offer.settled:
            raise errors.wrong_state("the incoming call has already been answered, rejected or redirected.")
        self._retire_offer(offer)
        return offer

    def _retire_offer(self, offer: IncomingCallOffer) -> None:
        """No one may answer the offer any more; keep it a while so late answers get a precise error."""
        if offer.settled:
            return
        offer.settled = True
        if offer.timer is not None:
            offer.timer.cancel()
        self.clock.call_later(self.timings.tombstone_seconds, lambda: self.offers.pop(offer.context, None))

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

    # ------------------------------------------------------------------ outbound calls

    def create_call(
        self,
        targets: list[Identifier],
        callback_uri: str,
        api_version: str,
        source: Identifier | None = None,
        source_caller_id: str | None = None,
        source_display_name: str | None = None,
        operation_context: str | None = None,
        media_streaming: dict[str, Any] | None = None,
        transcription: dict[str, Any] | None = None,
    ) -> CallConnection:
        """Place a call from the app to one or more targets (sim-ring: the first to answer wins)."""
        if not targets:
            raise errors.invalid_body("targets must contain at least one participant.")
        for target in targets:
            self._check_target_reachable(target, source_caller_id)
        identity = source or self.resource.app_identity
        app = Participant(identity, self.endpoints.display_name(identity))
        call = self.start_call(app)
        connection = self._new_connection(call, identity, callback_uri, api_version, participant=app)
        connection.targets = list(targets)
        connection.source = identity
        connection.source_caller_id = source_caller_id
        connection.source_display_name = source_display_name
        connection.operation_context = operation_context
        connection.media_streaming = media_streaming
        connection.transcription = transcription
        caller: Identifier = PhoneNumber(source_caller_id) if source_caller_id else identity
        for target in targets:
            invitation = self._new_invitation(Purpose.CREATE, call, target, caller=caller, connection=connection)
            invitation.source_display_name = source_display_name
            invitation.source_caller_id = source_caller_id
            invitation.operation_context = operation_context
        for invitation in list(call.invitations.values()):
            self._ring(invitation)
        return connection

    def connect(
        self,
        locator_kind: str,
        locator_id: str,
        callback_uri: str,
        api_version: str,
        operation_context: str | None = None,
    ) -> CallConnection:
        """Join the app to an existing server call, group call or room call."""
        call: ServerCall | None
        if locator_kind == "serverCallLocator":
            call = self.calls.get(locator_id)
        else:
            call = self._group_calls.get(locator_id)
            if call is None:
                identity = self.resource.app_identity
                app = Participant(identity, self.endpoints.display_name(identity))
                call = self.start_call(app, group_call_id=locator_id)
                connection = self._new_connection(call, identity, callback_uri, api_version, participant=app)
                connection.operation_context = operation_context
                self.clock.call_later(self.timings.connect, lambda: self._connect_leg(connection))
                return connection
        placeholder = call or ServerCall(locator_id, self.ids.guid(), self.clock.time())
        connection = self._new_connection(placeholder, self.resource.app_identity, callback_uri, api_version)
        connection.operation_context = operation_context
        if call is None or call.ended:
            self.clock.call_later(self.timings.connect, lambda: self._connect_failed(connection))
        else:
            self.clock.call_later(self.timings.connect, lambda: self._connect_leg(connection))
        return connection

    def _connect_failed(self, connection: CallConnection) -> None:
        self.emit(connection, "ConnectFailed", results.CALL_NOT_FOUND, connection.operation_context)
        self._drop_connection(connection)

    def _connected(self, connection: CallConnection) -> None:
        """CallConnected, then whatever the app asked to start with the call (media streaming, transcription)."""
        self.emit(connection, "CallConnected", results.SUCCESS, connection.operation_context)
        for listener in self.on_connected:
            listener(connection)

    def _new_connection(
        self,
        call: ServerCall,
        identity: Identifier,
        callback_uri: str,
        api_version: str,
        participant: Participant | None = None,
    ) -> CallConnection:
        connection = CallConnection(
            call_connection_id=self.ids.guid(),
            call=call,
            identity=identity,
            callback_uri=callback_uri,
            api_version=api_version,
        )
        if participant is not None:
            participant.connection = connection
            call.connections[connection.call_connection_id] = connection
        call.legs[connection.call_connection_id] = connection
        self.connections[connection.call_connection_id] = connection
        return connection

    def _connect_leg(self, connection: CallConnection) -> None:
        """The app's leg is up: it joins the roster and hears CallConnected then ParticipantsUpdated."""
        if connection.call_connection_id not in self.connections:
            return
        call = connection.call
        if call.ended:
            self._drop_connection(connection)
            return
        if connection.call_connection_id not in call.connections:
            app = Participant(connection.identity, self.endpoints.display_name(connection.identity), connection)
            call.participants[self._participant_key(app)] = app
            call.connections[connection.call_connection_id] = connection
        connection.state = ConnectionState.CONNECTED
        self._connected(connection)
        self.announce_roster(call)

    # ------------------------------------------------------------------ mid-call operations

    def add_participant(
        self,
        call_connection_id: str,
        target: Identifier,
        source_display_name: str | None = None,
        source_caller_id: str | None = None,
        timeout_seconds: int | None = None,
        operation_context: str | None = None,
        operation_callback_uri: str | None = None,
    ) -> Invitation:
        """Invite someone into the call; 202 now, AddParticipantSucceeded or Failed when they answer."""
        connection = self._ready_for_participant_ops(call_connection_id)
        call = connection.call
        if call.find(target) is not None:
            raise errors.conflict(f"{target.raw_id} is already in the call.")
        if any(identity_key(i.target) == identity_key(target) and i.is_ringing for i in call.invitations.values()):
            raise errors.conflict(f"{target.raw_id} is already being invited to the call.")
        caller_id = source_caller_id or connection.source_caller_id
        self._check_target_reachable(target, caller_id)
        timeout = self._invitation_timeout(timeout_seconds)
        invitation = self._new_invitation(
            Purpose.ADD,
            call,
            target,
            caller=self._presented_caller(connection, source_caller_id),
            connection=connection,
        )
        invitation.source_display_name = source_display_name
        invitation.source_caller_id = caller_id
        invitation.timeout_seconds = timeout
        invitation.operation_context = operation_context
        invitation.operation_callback_uri = operation_callback_uri
        self._ring(invitation)
        return invitation

    def remove_participant(
        self,
        call_connection_id: str,
        target: Identifier,
        operation_context: str | None = None,
        operation_callback_uri: str | None = None,
    ) -> None:
        """Remove someone; RemoveParticipantSucceeded and ParticipantsUpdated follow."""
        connection = self._ready_for_participant_ops(call_connection_id)
        call = connection.call
        participant = self.participant(connection, target)
        if participant.is_app:
            raise errors.invalid_body("a Call Automation app cannot be removed; use hang up instead.")

        def remove() -> None:
            if connection.call_connection_id not in self.connections or call.find(target) is not participant:
                return
            self._remove(connection.call, participant)
            self.emit(
                connection,
                "RemoveParticipantSucceeded",
                results.SUCCESS,
                operation_context,
                {"participant": to_model(participant.identifier)},
                operation_callback_uri,
            )
            self._after_departure(connection.call)

        self.clock.call_later(self.timings.join, remove)

    def mute(self, call_connection_id: str, targets: list[Identifier]) -> None:
        """Mute Communication Services users; the change shows in ParticipantsUpdated."""
        connection = self.established(call_connection_id)
        if len(targets) != 1:
            raise errors.invalid_body("targetParticipants must contain exactly one participant.")
        target = targets[0]
        if not isinstance(target, CommunicationUser):
            raise errors.invalid_body(
                f"only Communication Services users can be muted; {target.raw_id!r} is a {target.kind.value}."
            )
        participant = self.participant(connection, target)
        if not participant.is_muted:
            participant.is_muted = True
            self.clock.call_later(self.timings.join, lambda: self.announce_roster(connection.call))

    def cancel_add(
        self,
        call_connection_id: str,
        invitation_id: str,
        operation_context: str | None = None,
        operation_callback_uri: str | None = None,
    ) -> None:
        """Withdraw a pending invitation; CancelAddParticipantSucceeded (and no AddParticipantFailed)."""
        connection = self.established(call_connection_id)
        invitation = self.invitations.get(invitation_id)
        data = {"invitationId": invitation_id}
        outcome: tuple[str, Result]
        if invitation is None or invitation.connection is not connection or invitation.purpose is not Purpose.ADD:
            outcome = ("CancelAddParticipantFailed", results.INVITATION_NOT_FOUND)
        elif not invitation.is_ringing:
            outcome = ("CancelAddParticipantFailed", results.INVITATION_ALREADY_ANSWERED)
        else:
            self._settle(invitation, InvitationState.CANCELLED)
            outcome = ("CancelAddParticipantSucceeded", results.SUCCESS)
        event_type, result = outcome
        self.clock.call_later(
            self.timings.join,
            lambda: self.emit(connection, event_type, result, operation_context, data, operation_callback_uri),
        )

    def transfer(
        self,
        call_connection_id: str,
        target: Identifier,
        transferee: Identifier | None = None,
        operation_context: str | None = None,
        operation_callback_uri: str | None = None,
        source_caller_id: str | None = None,
    ) -> None:
        """Blind transfer: 1:1 hands the caller to the target and drops the app; with a transferee, swaps."""
        connection = self._ready_for_participant_ops(call_connection_id)
        call = connection.call
        humans = call.humans()
        if call.find(target) is not None:
            raise errors.invalid_body(f"the transfer target {target.raw_id} is already in the call.")
        if transferee is not None:
            moved = self.participant(connection, transferee)
            if moved.is_app:
                raise errors.invalid_body("the Call Automation endpoint itself cannot be transferred.")
        elif len(humans) != 1:
            raise errors.invalid_body(
                f"the call has {len(humans)} participants besides the app; name the transferee to transfer one."
            )
        else:
            moved = humans[0]
        self._check_target_reachable(target, source_caller_id or connection.source_caller_id)
        invitation = self._new_invitation(
            Purpose.TRANSFER, call, target, caller=moved.identifier, connection=connection
        )
        invitation.transferee = transferee
        invitation.source_caller_id = source_caller_id
        invitation.operation_context = operation_context
        invitation.operation_callback_uri = operation_callback_uri
        connection.pending_transfer = invitation
        connection.state = ConnectionState.TRANSFERRING
        self._ring(invitation)

    def move_here(
        self,
        call_connection_id: str,
        targets: list[Identifier],
        from_call: str,
        operation_context: str | None = None,
        operation_callback_uri: str | None = None,
    ) -> list[Participant]:
        """Move participants from another of the resource's calls into this one."""
        connection = self._ready_for_participant_ops(call_connection_id)
        if not targets:
            raise errors.invalid_body("targetParticipants must contain at least one participant.")
        source = self.established(from_call)
        if source.call is connection.call:
            raise errors.invalid_body("fromCall is the same call as the destination.")
        echoed = [Participant(t, self.endpoints.display_name(t)) for t in targets]

        def move() -> None:
            for target in targets:
                self._move_one(connection, source, target, operation_context, operation_callback_uri)

        self.clock.call_later(self.timings.join, move)
        return echoed

    def _move_one(
        self,
        connection: CallConnection,
        source: CallConnection,
        target: Identifier,
        operation_context: str | None,
        operation_callback_uri: str | None,
    ) -> None:
        data = {"participant": to_model(target), "fromCall": source.call_connection_id}
        participant = source.call.find(target)
        if participant is None or participant.is_app or connection.call_connection_id not in self.connections:
            self.emit(
                connection,
                "MoveParticipantFailed",
                results.MOVE_SOURCE_GONE,
                operation_context,
                data,
                operation_callback_uri,
            )
            return
        self._remove(source.call, participant)
        connection.call.participants[participant.key] = participant
        self.emit(
            connection, "MoveParticipantSucceeded", results.SUCCESS, operation_context, data, operation_callback_uri
        )
        self.announce_roster(connection.call)
        self._after_departure(source.call)

    def hang_up(self, call_connection_id: str) -> None:
        """The app leaves; in a call with one other party left, the call ends for everyone."""
        connection = self.connection(call_connection_id)
        call = connection.call
        self._disconnect(connection, results.ENDED_BY_APP)
        if len(call.humans()) <= 1 and not call.connections:
            self._end_call(call, results.ENDED_BY_APP)
        else:
            self.announce_roster(call)

    def terminate(self, call_connection_id: str) -> None:
        """End the call for every participant."""
        connection = self.connection(call_connection_id)
        self._end_call(connection.call, results.ENDED_BY_APP)

    # ------------------------------------------------------------------ outcomes reported by endpoints

    def invitation_answered(self, invitation_id: str) -> None:
        """The invited endpoint picked up."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None or not invitation.is_ringing:
            return
        self._settle(invitation, InvitationState.ACCEPTED)
        joining = invitation.answering
        if invitation.purpose is Purpose.TRANSFER:
            self._complete_transfer(invitation, joining)
            return
        participant = Participant(invitation.target, self.endpoints.display_name(invitation.target), joining)
        call = invitation.call
        call.participants[self._participant_key(participant)] = participant
        if joining is not None:
            self._join_answering_app(joining)
        if invitation.purpose is Purpose.CREATE:
            self._create_call_answered(invitation)
        elif invitation.purpose is Purpose.ADD and invitation.connection is not None:
            self.emit(
                invitation.connection,
                "AddParticipantSucceeded",
                results.SUCCESS,
                invitation.operation_context,
                {"participant": to_model(invitation.target)},
                invitation.operation_callback_uri,
            )
            self.announce_roster(call)
        else:
            self.announce_roster(call)

    def _join_answering_app(self, connection: CallConnection) -> None:
        call = connection.call
        call.connections[connection.call_connection_id] = connection
        connection.state = ConnectionState.CONNECTED
        self._connected(connection)

    def _create_call_answered(self, invitation: Invitation) -> None:
        connection = invitation.connection
        assert connection is not None
        for other in list(invitation.call.invitations.values()):
            if other.purpose is Purpose.CREATE and other.is_ringing:
                self._settle(other, InvitationState.FAILED)
        connection.state = ConnectionState.CONNECTED
        self._connected(connection)
        self.announce_roster(invitation.call)

    def invitation_failed(self, invitation_id: str, result: Result) -> None:
        """The invited endpoint declined, was busy, unreachable, blocked, or let it ring out."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None or not invitation.is_ringing:
            return
        self._settle(invitation, InvitationState.FAILED)
        connection = invitation.connection
        if invitation.purpose is Purpose.ADD and connection is not None:
            self.emit(
                connection,
                "AddParticipantFailed",
                result,
                invitation.operation_context,
                {"participant": to_model(invitation.target)},
                invitation.operation_callback_uri,
            )
        elif invitation.purpose is Purpose.TRANSFER and connection is not None:
            connection.pending_transfer = None
            if connection.state is ConnectionState.TRANSFERRING:
                connection.state = ConnectionState.CONNECTED
            self.emit(
                connection,
                "CallTransferFailed",
                result,
                invitation.operation_context,
                operation_callback_uri=invitation.operation_callback_uri,
            )
        elif invitation.purpose is Purpose.CREATE and connection is not None:
            still_ringing = [i for i in invitation.call.invitations.values() if i.is_ringing]
            if not still_ringing and connection.state is ConnectionState.CONNECTING:
                self.emit(connection, "CreateCallFailed", result, connection.operation_context)
                self._end_call(invitation.call, result)
        elif invitation.purpose is Purpose.REDIRECT and not invitation.call.connections:
            self._end_call(invitation.call, result)

    def participant_left(self, server_call_id: str, identifier: Identifier) -> None:
        """A human hung up on their own (Teams Leave, phone hang-up)."""
        call = self.calls.get(server_call_id)
        if call is None or call.ended:
            return
        participant = call.find(identifier)
        if participant is None or participant.is_app:
            return
        self._remove(call, participant)
        self._after_departure(call)

    # ------------------------------------------------------------------ internals

    def _ready_for_participant_ops(self, call_connection_id: str) -> CallConnection:
        connection = self.established(call_connection_id)
        if connection.state is ConnectionState.TRANSFERRING:
            raise errors.conflict("a transfer is in progress on this call.")
        return connection

    def _check_target_reachable(self, target: Identifier, source_caller_id: str | None) -> None:
        if isinstance(target, PhoneNumber) and not self.resource.owns(target) and not source_caller_id:
            raise errors.invalid_body(
                f"sourceCallerIdNumber is required to call the phone number {target.value}; "
                "use one of the resource's numbers."
            )
        if source_caller_id and source_caller_id not in self.resource.phone_numbers:
            raise errors.invalid_body(
                f"sourceCallerIdNumber {source_caller_id} is not a number of this Communication Services resource."
            )

    def _presented_caller(self, connection: CallConnection, source_caller_id: str | None) -> Identifier:
        """Who the invitee sees calling: the caller id number, else the call's first human, else the app."""
        if source_caller_id:
            return PhoneNumber(source_caller_id)
        humans = connection.call.humans()
        return humans[0].identifier if humans else connection.identity

    def _invitation_timeout(self, requested: int | None) -> float:
        if requested is None:
            return self.timings.default_invitation_timeout
        if not 1 <= requested <= self.timings.max_invitation_timeout:
            raise errors.invalid_body(
                f"invitationTimeoutInSeconds must be between 1 and {int(self.timings.max_invitation_timeout)}, "
                f"got {requested}."
            )
        return float(requested)

    def _new_invitation(
        self,
        purpose: Purpose,
        call: ServerCall,
        target: Identifier,
        caller: Identifier,
        connection: CallConnection | None,
    ) -> Invitation:
        invitation = Invitation(
            invitation_id=self.ids.guid(),
            purpose=purpose,
            call=call,
            target=target,
            caller=caller,
            connection=connection,
            timeout_seconds=self.timings.default_invitation_timeout,
            started_at=self.clock.time(),
        )
        call.invitations[invitation.invitation_id] = invitation
        self.invitations[invitation.invitation_id] = invitation
        return invitation

    def _ring(self, invitation: Invitation) -> None:
        invitation.timers.append(
            self.clock.call_later(
                invitation.timeout_seconds,
                lambda: self.invitation_failed(invitation.invitation_id, results.NO_ANSWER),
            )
        )
        self.journal.record(
            EntryKind.CALL,
            Lane.ACS,
            _lane_of(invitation.target),
            f"ringing {invitation.target.raw_id} ({invitation.purpose.value})",
            invitation.connection.ids if invitation.connection else invitation.call.ids,
            detail={"invitationId": invitation.invitation_id, "timeoutSeconds": invitation.timeout_seconds},
        )
        self.endpoints.ring(invitation)

    def _settle(self, invitation: Invitation, state: InvitationState) -> None:
        invitation.state = state
        invitation.stop_timers()
        if invitation.offer is not None:
            self._retire_offer(invitation.offer)
        self.endpoints.stop_ringing(invitation)

    def _complete_transfer(self, invitation: Invitation, joining: CallConnection | None) -> None:
        connection = invitation.connection
        assert connection is not None
        call = invitation.call
        connection.pending_transfer = None
        transferee = invitation.transferee
        moved = call.find(transferee) if transferee is not None else None
        target = Participant(invitation.target, self.endpoints.display_name(invitation.target), joining)
        data: dict[str, Any] = {
            "transferTarget": to_model(invitation.target),
            "transferee": to_model(transferee if transferee is not None else invitation.caller),
        }
        if joining is not None:
            self._join_answering_app(joining)
        if transferee is None:
            connection.state = ConnectionState.TRANSFER_ACCEPTED
            self.emit(
                connection,
                "CallTransferAccepted",
                results.SUCCESS,
                invitation.operation_context,
                data,
                invitation.operation_callback_uri,
            )
            call.participants[self._participant_key(target)] = target
            self._disconnect(connection, results.ENDED_AFTER_TRANSFER)
            self.announce_roster(call)
            return
        connection.state = ConnectionState.CONNECTED
        self.emit(
            connection,
            "CallTransferAccepted",
            results.SUCCESS,
            invitation.operation_context,
            data,
            invitation.operation_callback_uri,
        )
        if moved is not None:
            self._remove(call, moved)
        call.participants[self._participant_key(target)] = target
        self.announce_roster(call)

    def _remove(self, call: ServerCall, participant: Participant) -> None:
        for key, candidate in list(call.participants.items()):
            if candidate is participant:
                del call.participants[key]

    def _after_departure(self, call: ServerCall) -> None:
        """After someone left: end the call if no human is left to talk to, else tell the apps."""
        if call.ended:
            return
        humans = call.humans()
        if not humans or (len(humans) == 1 and not call.connections):
            self._end_call(call, results.REMOTE_HUNG_UP)
        else:
            self.announce_roster(call)

    def announce_roster(self, call: ServerCall) -> None:
        if call.ended:
            return
        participants = [p.as_json() for p in call.participants.values()]
        sequence = call.next_sequence_number()
        for connection in list(call.connections.values()):
            if connection.state in (ConnectionState.CONNECTED, ConnectionState.TRANSFERRING):
                self.emit(
                    connection,
                    "ParticipantsUpdated",
                    results.SUCCESS,
                    None,
                    {"participants": participants, "sequenceNumber": sequence},
                )
        self.endpoints.call_changed(call)

    def _disconnect(self, connection: CallConnection, result: Result) -> None:
        """Take one app leg out of its call and tell the app, last event it gets."""
        call = connection.call
        for key, participant in list(call.participants.items()):
            if participant.connection is connection:
                del call.participants[key]
        call.connections.pop(connection.call_connection_id, None)
        connection.state = ConnectionState.DISCONNECTED
        self.emit(connection, "CallDisconnected", result, None)
        self._drop_connection(connection)

    def _drop_connection(self, connection: CallConnection) -> None:
        connection.state = ConnectionState.DISCONNECTED
        connection.call.legs.pop(connection.call_connection_id, None)
        for invitation in list(connection.call.invitations.values()):
            if invitation.connection is connection and invitation.is_ringing:
                self._settle(invitation, InvitationState.CANCELLED)
        if self.connections.pop(connection.call_connection_id, None) is not None:
            now = self.clock.time()
            self._tombstones[connection.call_connection_id] = now
            self._forget_old_tombstones(now)

    def _forget_old_tombstones(self, now: float) -> None:
        horizon = now - self.timings.tombstone_seconds
        for key, when in list(self._tombstones.items()):
            if when >= horizon:
                break
            del self._tombstones[key]

    def _end_call(self, call: ServerCall, result: Result) -> None:
        """Everyone out: apps get CallDisconnected, clients and phones drop the call."""
        if call.ended:
            return
        for invitation in list(call.invitations.values()):
            if invitation.is_ringing:
                self._settle(invitation, InvitationState.CANCELLED)
        for connection in list(call.connections.values()):
            self._disconnect(connection, result)
        for connection in list(call.legs.values()):
            self._drop_connection(connection)
        call.ended = True
        call.participants.clear()
        self.calls.pop(call.server_call_id, None)
        if call.group_call_id:
            self._group_calls.pop(call.group_call_id, None)
        for invitation_id in list(call.invitations):
            self.invitations.pop(invitation_id, None)
        for offer in call.offers:
            self._retire_offer(offer)
        self.journal.record(EntryKind.CALL, Lane.ACS, Lane.ACS, f"call ended ({result.label})", call.ids)
        self.endpoints.call_changed(call)

    def _participant_key(self, participant: Participant) -> str:
        if participant.connection is not None:
            return f"app:{participant.connection.call_connection_id}"
        return participant.key

    def emit(
        self,
        connection: CallConnection,
        event_type: str,
        result: Result | None,
        operation_context: str | None,
        extra: dict[str, Any] | None = None,
        operation_callback_uri: str | None = None,
    ) -> None:
        """Send one event to the app that owns the connection; nothing is sent once it has disconnected."""
        if connection.call_connection_id not in self.connections:
            return
        data: dict[str, Any] = dict(extra or {})
        if result is not None:
            data["resultInformation"] = result.as_json()
        if operation_context is not None:
            data["operationContext"] = operation_context
        data.update(
            {
                "version": connection.api_version,
                "callConnectionId": connection.call_connection_id,
                "serverCallId": connection.call.server_call_id,
                "correlationId": connection.call.correlation_id,
                "publicEventType": EVENT_PREFIX + event_type,
            }
        )
        self.sink.callback(
            connection, operation_callback_uri or connection.callback_uri, EVENT_PREFIX + event_type, data
        )


def _lane_of(identifier: Identifier) -> Lane:
    if isinstance(identifier, TeamsUser):
        return Lane.TEAMS
    if isinstance(identifier, PhoneNumber):
        return Lane.PHONE
    return Lane.APP


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
