"""The call engine's shared core: its state, lookups, ringing, outcomes reported by endpoints, rosters,
and how legs and calls end. The command groups (incoming, outgoing, mid-call) build on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from callbridge.emulator.acs import errors, results, states
from callbridge.emulator.acs.calls import (
    CallConnection,
    ConnectionState,
    IncomingCallOffer,
    Invitation,
    Participant,
    Purpose,
    ServerCall,
)
from callbridge.emulator.acs.resource import AcsResource, IdFactory
from callbridge.emulator.acs.results import Result
from callbridge.emulator.acs.states import ConnectionInput, InvitationInput
from callbridge.emulator.acs.timings import Timings
from callbridge.emulator.clock import Clock
from callbridge.emulator.journal import EntryKind, Journal, Lane
from callbridge.identifiers import (
    Identifier,
    PhoneNumber,
    TeamsUser,
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


class CallLifecycle:
    """State and the transitions every command shares; no I/O, all time from the injected clock."""

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

    def connection(self, call_connection_id: str, command: ConnectionInput) -> CallConnection:
        """The call connection the command is for, refused unless the table takes it in its state."""
        found = self.connections.get(call_connection_id)
        if found is not None:
            states.require(found, command)
            return found
        if call_connection_id in self._tombstones:
            raise errors.NotAllowedInState(call_connection_id, ConnectionState.DISCONNECTED, command)
        raise errors.CallNotFound(call_connection_id)

    def readable_connection(self, call_connection_id: str) -> CallConnection:
        """A live call connection; a terminated one reads as not found, as GET does on the service."""
        found = self.connections.get(call_connection_id)
        if found is None:
            raise errors.CallNotFound(call_connection_id)
        return found

    def participant(self, connection: CallConnection, identifier: Identifier) -> Participant:
        found = connection.call.find(identifier)
        if found is None:
            raise errors.ParticipantNotFound(identifier.raw_id)
        return found

    def _retire_offer(self, offer: IncomingCallOffer) -> None:
        """No one may answer the offer any more; keep it a while so late answers get a precise error."""
        if offer.settled:
            return
        offer.settled = True
        if offer.timer is not None:
            offer.timer.cancel()
        self.clock.call_later(self.timings.tombstone_seconds, lambda: self.offers.pop(offer.context, None))

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

    def _connected(self, connection: CallConnection) -> None:
        """CallConnected, then whatever the app asked to start with the call (media streaming, transcription)."""
        self._transition(connection, ConnectionInput.LEG_UP, results.SUCCESS, connection.operation_context)
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
        self._connected(connection)
        self.announce_roster(call)

    def invitation_answered(self, invitation_id: str) -> None:
        """The invited endpoint picked up."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None or not invitation.is_ringing:
            return
        self._settle(invitation, InvitationInput.ANSWER)
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
        if not states.allows(connection, ConnectionInput.LEG_UP):
            return
        connection.call.connections[connection.call_connection_id] = connection
        self._connected(connection)

    def _create_call_answered(self, invitation: Invitation) -> None:
        connection = invitation.connection
        assert connection is not None
        for other in list(invitation.call.invitations.values()):
            if other.purpose is Purpose.CREATE and other.is_ringing:
                self._settle(other, InvitationInput.FAIL)
        self._connected(connection)
        self.announce_roster(invitation.call)

    def invitation_failed(self, invitation_id: str, result: Result) -> None:
        """The invited endpoint declined, was busy, unreachable, blocked, or let it ring out."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None or not invitation.is_ringing:
            return
        self._settle(invitation, InvitationInput.FAIL)
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
            if states.allows(connection, ConnectionInput.TRANSFER_FAILED):
                self._transition(
                    connection,
                    ConnectionInput.TRANSFER_FAILED,
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

    def _check_target_reachable(self, target: Identifier, source_caller_id: str | None) -> None:
        if isinstance(target, PhoneNumber) and not self.resource.owns(target) and not source_caller_id:
            raise errors.InvalidRequest(
                f"sourceCallerIdNumber is required to call the phone number {target.value}; "
                "use one of the resource's numbers."
            )
        if source_caller_id and source_caller_id not in self.resource.phone_numbers:
            raise errors.InvalidRequest(
                f"sourceCallerIdNumber {source_caller_id} is not a number of this Communication Services resource."
            )

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

    def _settle(self, invitation: Invitation, command: InvitationInput) -> None:
        states.settle(invitation, command)
        invitation.stop_timers()
        if invitation.offer is not None:
            self._retire_offer(invitation.offer)
        self.endpoints.stop_ringing(invitation)

    def _complete_transfer(self, invitation: Invitation, joining: CallConnection | None) -> None:
        connection = invitation.connection
        assert connection is not None
        call = invitation.call
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
            self._transition(
                connection,
                ConnectionInput.TRANSFER_ACCEPTED,
                results.SUCCESS,
                invitation.operation_context,
                data,
                invitation.operation_callback_uri,
            )
            call.participants[self._participant_key(target)] = target
            self._disconnect(connection, results.ENDED_AFTER_TRANSFER)
            self.announce_roster(call)
            return
        self._transition(
            connection,
            ConnectionInput.TRANSFEREE_REPLACED,
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
        self._transition(connection, ConnectionInput.LEAVE, result)
        self._drop_connection(connection)

    def _drop_connection(self, connection: CallConnection) -> None:
        """The leg is gone: no more events, and later requests for it are told it has been terminated."""
        states.step(connection, ConnectionInput.DROP)
        connection.call.legs.pop(connection.call_connection_id, None)
        for invitation in list(connection.call.invitations.values()):
            if invitation.connection is connection and invitation.is_ringing:
                self._settle(invitation, InvitationInput.CANCEL)
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
                self._settle(invitation, InvitationInput.CANCEL)
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

    def _transition(
        self,
        connection: CallConnection,
        command: ConnectionInput,
        result: Result | None = None,
        operation_context: str | None = None,
        extra: dict[str, Any] | None = None,
        operation_callback_uri: str | None = None,
    ) -> None:
        """Step the connection through the transition table and send the event its row names."""
        for event_type in states.step(connection, command).emits:
            self.emit(connection, event_type, result, operation_context, extra, operation_callback_uri)

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
