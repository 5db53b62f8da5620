"""Mid-call operations: add, remove, mute, cancel, transfer, move, hang up, terminate."""

from __future__ import annotations

from callbridge.emulator.acs import errors, results, states
from callbridge.emulator.acs.calls import (
    CallConnection,
    Invitation,
    Participant,
    Purpose,
)
from callbridge.emulator.acs.lifecycle import CallLifecycle
from callbridge.emulator.acs.results import Result
from callbridge.emulator.acs.states import ConnectionInput, InvitationInput
from callbridge.identifiers import CommunicationUser, Identifier, PhoneNumber, identity_key, to_model


class MidCallOperations(CallLifecycle):
    """What an app does to a connected call."""

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
        connection = self.connection(call_connection_id, ConnectionInput.ADD_PARTICIPANT)
        call = connection.call
        if call.find(target) is not None:
            raise errors.Conflict(f"{target.raw_id} is already in the call.")
        if any(identity_key(i.target) == identity_key(target) and i.is_ringing for i in call.invitations.values()):
            raise errors.Conflict(f"{target.raw_id} is already being invited to the call.")
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
        connection = self.connection(call_connection_id, ConnectionInput.REMOVE_PARTICIPANT)
        call = connection.call
        participant = self.participant(connection, target)
        if participant.is_app:
            raise errors.InvalidRequest("a Call Automation app cannot be removed; use hang up instead.")

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
        connection = self.connection(call_connection_id, ConnectionInput.MUTE)
        if len(targets) != 1:
            raise errors.InvalidRequest("targetParticipants must contain exactly one participant.")
        target = targets[0]
        if not isinstance(target, CommunicationUser):
            raise errors.InvalidRequest(
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
        connection = self.connection(call_connection_id, ConnectionInput.CANCEL_ADD)
        invitation = self.invitations.get(invitation_id)
        data = {"invitationId": invitation_id}
        outcome: tuple[str, Result]
        if invitation is None or invitation.connection is not connection or invitation.purpose is not Purpose.ADD:
            outcome = ("CancelAddParticipantFailed", results.INVITATION_NOT_FOUND)
        elif not invitation.is_ringing:
            outcome = ("CancelAddParticipantFailed", results.INVITATION_ALREADY_ANSWERED)
        else:
            self._settle(invitation, InvitationInput.CANCEL)
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
        connection = self.connection(call_connection_id, ConnectionInput.TRANSFER)
        call = connection.call
        humans = call.humans()
        if call.find(target) is not None:
            raise errors.InvalidRequest(f"the transfer target {target.raw_id} is already in the call.")
        if transferee is not None:
            moved = self.participant(connection, transferee)
            if moved.is_app:
                raise errors.InvalidRequest("the Call Automation endpoint itself cannot be transferred.")
        elif len(humans) != 1:
            raise errors.InvalidRequest(
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
        states.step(connection, ConnectionInput.TRANSFER)
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
        connection = self.connection(call_connection_id, ConnectionInput.MOVE_PARTICIPANTS)
        if not targets:
            raise errors.InvalidRequest("targetParticipants must contain at least one participant.")
        source = self.connection(from_call, ConnectionInput.MOVE_FROM)
        if source.call is connection.call:
            raise errors.InvalidRequest("fromCall is the same call as the destination.")
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
        connection = self.connection(call_connection_id, ConnectionInput.HANG_UP)
        call = connection.call
        self._disconnect(connection, results.ENDED_BY_APP)
        if len(call.humans()) <= 1 and not call.connections:
            self._end_call(call, results.ENDED_BY_APP)
        else:
            self.announce_roster(call)

    def terminate(self, call_connection_id: str) -> None:
        """End the call for every participant."""
        connection = self.connection(call_connection_id, ConnectionInput.TERMINATE)
        self._end_call(connection.call, results.ENDED_BY_APP)

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
            raise errors.InvalidRequest(
                f"invitationTimeoutInSeconds must be between 1 and {int(self.timings.max_invitation_timeout)}, "
                f"got {requested}."
            )
        return float(requested)
