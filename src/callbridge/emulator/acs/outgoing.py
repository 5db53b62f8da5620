"""Calls the app places: createCall (sim-ring) and connect to an existing, group or room call."""

from __future__ import annotations

from typing import Any

from callbridge.emulator.acs import errors, results, states
from callbridge.emulator.acs.calls import (
    CallConnection,
    Participant,
    Purpose,
    ServerCall,
)
from callbridge.emulator.acs.lifecycle import CallLifecycle
from callbridge.emulator.acs.states import ConnectionInput
from callbridge.identifiers import Identifier, PhoneNumber


class OutgoingCalls(CallLifecycle):
    """An app starting or joining a call."""

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
            raise errors.InvalidRequest("targets must contain at least one participant.")
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
        if not states.allows(connection, ConnectionInput.CONNECT_FAILED):
            return
        self._transition(
            connection, ConnectionInput.CONNECT_FAILED, results.CALL_NOT_FOUND, connection.operation_context
        )
        self._drop_connection(connection)
