"""Every Call Automation operation: wire body in, engine command, documented status and shape out."""

from __future__ import annotations

import re
from typing import Any

from callbridge.emulator.acs import errors, wire
from callbridge.emulator.acs.api import Call, Handler, Operation, Reply, path
from callbridge.emulator.acs.calls import CallConnection
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.media import CallMedia
from callbridge.emulator.journal import CallIds
from callbridge.identifiers import PhoneNumber, from_raw_id, phone_model, to_model

CONNECTIONS = "/calling/callConnections"
CONNECTION = CONNECTIONS + "/{callConnectionId}"
PARTICIPANTS = CONNECTION + "/participants"
RECORDINGS = "/calling/recordings"


def connection_properties(connection: CallConnection, with_server_call_id: bool = True) -> dict[str, Any]:
    """CallConnectionProperties as create, answer, connect and get return them."""
    body: dict[str, Any] = {"callConnectionId": connection.call_connection_id}
    if with_server_call_id:
        body["serverCallId"] = connection.call.server_call_id
    body["targets"] = [to_model(t) for t in connection.targets]
    body["callConnectionState"] = connection.state.value
    body["callbackUri"] = connection.callback_uri
    body["sourceDisplayName"] = connection.source_display_name or ""
    if connection.source is not None:
        body["source"] = to_model(connection.source)
    if connection.source_caller_id:
        body["sourceCallerIdNumber"] = phone_model(PhoneNumber(connection.source_caller_id))
    body["correlationId"] = connection.call.correlation_id
    if connection.answered_by:
        body["answeredBy"] = {"id": connection.answered_by}
    if connection.answered_for:
        body["answeredFor"] = phone_model(PhoneNumber(connection.answered_for))
    body["mediaStreamingSubscription"] = _subscription(
        connection.media_streaming, connection.media.streaming_active, {"subscribedContentTypes": ["audio"]}
    )
    body["transcriptionSubscription"] = _subscription(
        connection.transcription,
        connection.media.transcription_active,
        {
            "subscribedResultTypes": ["final"],
            **(
                {"locale": connection.transcription["locale"]}
                if connection.transcription and connection.transcription.get("locale")
                else {}
            ),
        },
    )
    return body


def _subscription(options: dict[str, Any] | None, active: bool, extra: dict[str, Any]) -> dict[str, Any]:
    state = "disabled" if options is None else ("active" if active else "inactive")
    return {"id": "", "state": state, **(extra if options is not None else {})}


def _answering_refusals(
    name: str, method: str, pattern: re.Pattern[str], handler: Handler, repeatable: bool = False
) -> Operation:
    """An operation whose engine refusals leave as the ACS error the real service answers."""

    def handle(call: Call) -> Reply:
        try:
            return handler(call)
        except errors.EngineError as exc:
            raise errors.to_acs_error(exc) from None

    return Operation(name, method, pattern, handle, repeatable)


def _context(operation_context: str | None) -> dict[str, Any]:
    return {"operationContext": operation_context} if operation_context is not None else {}


class CallAutomationRoutes:
    """Handlers for ``/calling``; each translates one request into engine commands."""

    def __init__(self, engine: CallEngine, media: CallMedia) -> None:
        self.engine = engine
        self.media = media

    def operations(self) -> list[Operation]:
        """The route table, most specific paths first."""
        op = _answering_refusals
        return [
            op("CreateCall", "POST", path(CONNECTIONS), self.create_call, repeatable=True),
            op("AnswerCall", "POST", path(CONNECTIONS + ":answer"), self.answer, repeatable=True),
            op("RedirectCall", "POST", path(CONNECTIONS + ":redirect"), self.redirect, repeatable=True),
            op("RejectCall", "POST", path(CONNECTIONS + ":reject"), self.reject, repeatable=True),
            op("Connect", "POST", path(CONNECTIONS + ":connect"), self.connect, repeatable=True),
            op("GetParticipants", "GET", path(PARTICIPANTS), self.list_participants),
            op("GetParticipant", "GET", path(PARTICIPANTS + "/{participantRawId}"), self.get_participant),
            op("AddParticipant", "POST", path(PARTICIPANTS + ":add"), self.add_participant, repeatable=True),
            op("RemoveParticipant", "POST", path(PARTICIPANTS + ":remove"), self.remove_participant, repeatable=True),
            op("Mute", "POST", path(PARTICIPANTS + ":mute"), self.mute, repeatable=True),
            op("CancelAddParticipant", "POST", path(PARTICIPANTS + ":cancelAddParticipant"), self.cancel_add,
               repeatable=True),
            op("MoveParticipants", "POST", path(PARTICIPANTS + ":moveHere"), self.move_here, repeatable=True),
            op("Terminate", "POST", path(CONNECTION + ":terminate"), self.terminate, repeatable=True),
            op("TransferToParticipant", "POST", path(CONNECTION + ":transferToParticipant"), self.transfer,
               repeatable=True),
            op("Play", "POST", path(CONNECTION + ":play"), self.play),
            op("Recognize", "POST", path(CONNECTION + ":recognize"), self.recognize),
            op("CancelAllMediaOperations", "POST", path(CONNECTION + ":cancelAllMediaOperations"), self.cancel_media),
            op("StartContinuousDtmfRecognition", "POST", path(CONNECTION + ":startContinuousDtmfRecognition"),
               self.start_dtmf),
            op("StopContinuousDtmfRecognition", "POST", path(CONNECTION + ":stopContinuousDtmfRecognition"),
               self.stop_dtmf),
            op("SendDtmfTones", "POST", path(CONNECTION + ":sendDtmfTones"), self.send_dtmf, repeatable=True),
            op("Hold", "POST", path(CONNECTION + ":hold"), self.hold),
            op("Unhold", "POST", path(CONNECTION + ":unhold"), self.unhold),
            op("StartTranscription", "POST", path(CONNECTION + ":startTranscription"), self.start_transcription),
            op("StopTranscription", "POST", path(CONNECTION + ":stopTranscription"), self.stop_transcription),
            op("UpdateTranscription", "POST", path(CONNECTION + ":updateTranscription"), self.update_transcription),
            op("StartMediaStreaming", "POST", path(CONNECTION + ":startMediaStreaming"), self.start_streaming),
            op("StopMediaStreaming", "POST", path(CONNECTION + ":stopMediaStreaming"), self.stop_streaming),
            op("GetCall", "GET", path(CONNECTION), self.get_call),
            op("HangupCall", "DELETE", path(CONNECTION), self.hang_up),
            op("StartRecording", "POST", path(RECORDINGS), self.start_recording, repeatable=True),
            op("PauseRecording", "POST", path(RECORDINGS + "/{recordingId}:pause"), self.pause_recording),
            op("ResumeRecording", "POST", path(RECORDINGS + "/{recordingId}:resume"), self.resume_recording),
            op("GetRecordingProperties", "GET", path(RECORDINGS + "/{recordingId}"), self.get_recording),
            op("StopRecording", "DELETE", path(RECORDINGS + "/{recordingId}"), self.stop_recording),
        ]  # fmt: skip

    # ------------------------------------------------------------------ calls

    def create_call(self, call: Call) -> Reply:
        req = wire.parse(wire.CreateCall, call.body)
        connection = self.engine.create_call(
            targets=list(req.targets),
            callback_uri=req.callback_uri,
            api_version=call.api_version,
            source=from_raw_id(req.source) if req.source else None,
            source_caller_id=req.source_caller_id_number,
            source_display_name=req.source_display_name,
            operation_context=req.operation_context,
            media_streaming=req.media_streaming_options,
            transcription=req.transcription_options,
        )
        return Reply(201, connection_properties(connection, with_server_call_id=False), connection.ids)

    def answer(self, call: Call) -> Reply:
        req = wire.parse(wire.AnswerCall, call.body)
        connection = self.engine.answer(
            req.incoming_call_context,
            req.callback_uri,
            call.api_version,
            operation_context=req.operation_context,
            answered_by=req.answered_by,
            media_streaming=req.media_streaming_options,
            transcription=req.transcription_options,
        )
        return Reply(200, connection_properties(connection), connection.ids)

    def redirect(self, call: Call) -> Reply:
        req = wire.parse(wire.RedirectCall, call.body)
        self.engine.redirect(req.incoming_call_context, req.target)
        return Reply(204)

    def reject(self, call: Call) -> Reply:
        req = wire.parse(wire.RejectCall, call.body)
        self.engine.reject(req.incoming_call_context, req.call_reject_reason)
        return Reply(204)

    def connect(self, call: Call) -> Reply:
        req = wire.parse(wire.Connect, call.body)
        kind, locator = req.call_locator.resolved()
        connection = self.engine.connect(kind, locator, req.callback_uri, call.api_version, req.operation_context)
        return Reply(200, connection_properties(connection), connection.ids)

    def get_call(self, call: Call) -> Reply:
        connection = self.engine.readable_connection(call.params["callConnectionId"])
        return Reply(200, connection_properties(connection), connection.ids)

    def hang_up(self, call: Call) -> Reply:
        ids = self._ids(call)
        self.engine.hang_up(call.params["callConnectionId"])
        return Reply(204, ids=ids)

    def terminate(self, call: Call) -> Reply:
        ids = self._ids(call)
        self.engine.terminate(call.params["callConnectionId"])
        return Reply(204, ids=ids)

    def transfer(self, call: Call) -> Reply:
        req = wire.parse(wire.TransferToParticipant, call.body)
        self.engine.transfer(
            call.params["callConnectionId"],
            req.target_participant,
            transferee=req.transferee,
            operation_context=req.operation_context,
            operation_callback_uri=req.operation_callback_uri,
            source_caller_id=req.source_caller_id_number,
        )
        return Reply(202, _context(req.operation_context), self._ids(call))

    # ------------------------------------------------------------------ participants

    def list_participants(self, call: Call) -> Reply:
        connection = self.engine.readable_connection(call.params["callConnectionId"])
        value = [p.as_json() for p in connection.call.participants.values()]
        return Reply(200, {"value": value}, connection.ids)

    def get_participant(self, call: Call) -> Reply:
        connection = self.engine.readable_connection(call.params["callConnectionId"])
        participant = self.engine.participant(connection, from_raw_id(call.params["participantRawId"]))
        return Reply(200, participant.as_json(), connection.ids)

    def add_participant(self, call: Call) -> Reply:
        req = wire.parse(wire.AddParticipant, call.body)
        invitation = self.engine.add_participant(
            call.params["callConnectionId"],
            req.participant_to_add,
            source_display_name=req.source_display_name,
            source_caller_id=req.source_caller_id_number,
            timeout_seconds=req.invitation_timeout_in_seconds,
            operation_context=req.operation_context,
            operation_callback_uri=req.operation_callback_uri,
        )
        body = {
            "participant": {"identifier": to_model(req.participant_to_add), "isMuted": False, "isOnHold": False},
            "invitationId": invitation.invitation_id,
            **_context(req.operation_context),
        }
        return Reply(202, body, self._ids(call))

    def remove_participant(self, call: Call) -> Reply:
        req = wire.parse(wire.RemoveParticipant, call.body)
        self.engine.remove_participant(
            call.params["callConnectionId"],
            req.participant_to_remove,
            req.operation_context,
            req.operation_callback_uri,
        )
        return Reply(202, _context(req.operation_context), self._ids(call))

    def mute(self, call: Call) -> Reply:
        req = wire.parse(wire.MuteParticipants, call.body)
        self.engine.mute(call.params["callConnectionId"], list(req.target_participants))
        return Reply(200, _context(req.operation_context), self._ids(call))

    def cancel_add(self, call: Call) -> Reply:
        req = wire.parse(wire.CancelAddParticipant, call.body)
        self.engine.cancel_add(
            call.params["callConnectionId"], req.invitation_id, req.operation_context, req.operation_callback_uri
        )
        return Reply(202, {"invitationId": req.invitation_id, **_context(req.operation_context)}, self._ids(call))

    def move_here(self, call: Call) -> Reply:
        req = wire.parse(wire.MoveParticipants, call.body)
        moved = self.engine.move_here(
            call.params["callConnectionId"],
            list(req.target_participants),
            req.from_call,
            req.operation_context,
            req.operation_callback_uri,
        )
        body = {
            "participants": [p.as_json() for p in moved],
            "fromCall": req.from_call,
            **_context(req.operation_context),
        }
        return Reply(202, body, self._ids(call))

    # ------------------------------------------------------------------ media

    def play(self, call: Call) -> Reply:
        req = wire.parse(wire.Play, call.body)
        loop = req.play_options.loop if req.play_options else False
        self.media.play(
            call.params["callConnectionId"], list(req.play_sources), list(req.play_to), loop, req.operation_context,
            req.operation_callback_uri,
        )  # fmt: skip
        return Reply(202, ids=self._ids(call))

    def recognize(self, call: Call) -> Reply:
        req = wire.parse(wire.Recognize, call.body)
        options = req.recognize_options.model_dump(by_alias=True, exclude={"target_participant"})
        self.media.recognize(
            call.params["callConnectionId"], req.recognize_input_type, options, req.recognize_options.target_participant,
            req.prompts(), req.operation_context, req.operation_callback_uri,
        )  # fmt: skip
        return Reply(202, ids=self._ids(call))

    def cancel_media(self, call: Call) -> Reply:
        self.media.cancel_all(call.params["callConnectionId"])
        return Reply(202, ids=self._ids(call))

    def start_dtmf(self, call: Call) -> Reply:
        req = wire.parse(wire.ContinuousDtmf, call.body)
        self.media.start_continuous_dtmf(
            call.params["callConnectionId"], req.target_participant, req.operation_context, req.operation_callback_uri
        )
        return Reply(200, ids=self._ids(call))

    def stop_dtmf(self, call: Call) -> Reply:
        req = wire.parse(wire.ContinuousDtmf, call.body)
        self.media.stop_continuous_dtmf(
            call.params["callConnectionId"], req.target_participant, req.operation_context, req.operation_callback_uri
        )
        return Reply(200, ids=self._ids(call))

    def send_dtmf(self, call: Call) -> Reply:
        req = wire.parse(wire.SendDtmfTones, call.body)
        self.media.send_dtmf(
            call.params["callConnectionId"], list(req.tones), req.target_participant, req.operation_context,
            req.operation_callback_uri,
        )  # fmt: skip
        return Reply(202, _context(req.operation_context), self._ids(call))

    def hold(self, call: Call) -> Reply:
        req = wire.parse(wire.Hold, call.body)
        self.media.hold(call.params["callConnectionId"], req.target_participant, on_hold=True)
        return Reply(200, ids=self._ids(call))

    def unhold(self, call: Call) -> Reply:
        req = wire.parse(wire.Hold, call.body)
        self.media.hold(call.params["callConnectionId"], req.target_participant, on_hold=False)
        return Reply(200, ids=self._ids(call))

    def _transcription(self, call: Call, action: str) -> Reply:
        req = wire.parse(wire.Transcription, call.body or {})
        self.media.transcription(
            call.params["callConnectionId"], action, req.locale, req.operation_context, req.operation_callback_uri
        )
        return Reply(202, ids=self._ids(call))

    def start_transcription(self, call: Call) -> Reply:
        return self._transcription(call, "start")

    def stop_transcription(self, call: Call) -> Reply:
        return self._transcription(call, "stop")

    def update_transcription(self, call: Call) -> Reply:
        return self._transcription(call, "update")

    def _streaming(self, call: Call, start: bool) -> Reply:
        req = wire.parse(wire.MediaStreaming, call.body or {})
        self.media.media_streaming(
            call.params["callConnectionId"], start, req.operation_context, req.operation_callback_uri
        )
        return Reply(202, ids=self._ids(call))

    def start_streaming(self, call: Call) -> Reply:
        return self._streaming(call, True)

    def stop_streaming(self, call: Call) -> Reply:
        return self._streaming(call, False)

    # ------------------------------------------------------------------ recording

    def start_recording(self, call: Call) -> Reply:
        req = wire.parse(wire.StartRecording, call.body)
        server_call_id = None
        if req.call_locator is not None:
            _, server_call_id = req.call_locator.resolved()
        recording = self.media.start_recording(
            server_call_id, req.call_connection_id, req.recording_state_callback_uri, req.pause_on_start
        )
        return Reply(200, recording.as_json(), CallIds(server_call_id=recording.server_call_id))

    def get_recording(self, call: Call) -> Reply:
        return Reply(200, self.media.recording(call.params["recordingId"]).as_json())

    def stop_recording(self, call: Call) -> Reply:
        self.media.set_recording_state(call.params["recordingId"], "stopped")
        return Reply(204)

    def pause_recording(self, call: Call) -> Reply:
        self.media.set_recording_state(call.params["recordingId"], "inactive")
        return Reply(202)

    def resume_recording(self, call: Call) -> Reply:
        self.media.set_recording_state(call.params["recordingId"], "active")
        return Reply(202)

    def _ids(self, call: Call) -> CallIds:
        connection = self.engine.connections.get(call.params.get("callConnectionId", ""))
        return connection.ids if connection else CallIds(call_connection_id=call.params.get("callConnectionId"))
