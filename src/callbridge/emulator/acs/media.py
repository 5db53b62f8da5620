"""Media and recording operations: validated, answered with their documented status, events without audio."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from callbridge.emulator.acs import errors, results
from callbridge.emulator.acs.calls import CallConnection, Participant
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.states import ConnectionInput
from callbridge.identifiers import Identifier

TONE_NAMES = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
    "8": "eight", "9": "nine", "a": "a", "b": "b", "c": "c", "d": "d", "#": "pound", "*": "asterisk",
}  # fmt: skip
DTMF_TONES = frozenset(TONE_NAMES.values())


@dataclass
class Recording:
    """A recording session of a server call."""

    recording_id: str
    server_call_id: str
    state: str
    kind: str
    state_callback_uri: str | None
    started_at: str

    def as_json(self) -> dict[str, Any]:
        return {"recordingId": self.recording_id, "recordingState": self.state, "recordingKind": self.kind}


@dataclass
class RecognizeScript:
    """Recognition results queued by tests or the UI, taken in order by ``recognize``."""

    per_connection: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    shared: deque[dict[str, Any]] = field(default_factory=deque)

    def push(self, result: dict[str, Any], call_connection_id: str | None = None) -> None:
        if call_connection_id:
            self.per_connection.setdefault(call_connection_id, deque()).append(result)
        else:
            self.shared.append(result)

    def take(self, call_connection_id: str) -> dict[str, Any] | None:
        queue = self.per_connection.get(call_connection_id)
        if queue:
            return queue.popleft()
        return self.shared.popleft() if self.shared else None


class CallMedia:
    """Play, recognize, DTMF, hold, transcription, media streaming and recording on the call engine."""

    def __init__(self, engine: CallEngine) -> None:
        self.engine = engine
        self.recordings: dict[str, Recording] = {}
        self.script = RecognizeScript()
        engine.on_connected.append(self._start_with_call)

    def _start_with_call(self, connection: CallConnection) -> None:
        """Honour ``startMediaStreaming`` / ``startTranscription`` given when the call was answered or created."""
        if (connection.media_streaming or {}).get("startMediaStreaming"):
            self.media_streaming(connection.call_connection_id, True, connection.operation_context, None)
        if (connection.transcription or {}).get("startTranscription"):
            self.transcription(connection.call_connection_id, "start", None, connection.operation_context, None)

    @property
    def _delay(self) -> float:
        return self.engine.timings.media

    def _later(self, action: Any) -> None:
        self.engine.clock.call_later(self._delay, action)

    def _member(self, connection: CallConnection, identifier: Identifier) -> Participant:
        return self.engine.participant(connection, identifier)

    # ------------------------------------------------------------------ play

    def play(
        self,
        call_connection_id: str,
        sources: list[dict[str, Any]],
        play_to: list[Identifier],
        loop: bool,
        operation_context: str | None,
        operation_callback_uri: str | None,
    ) -> None:
        """Play prompts: PlayStarted, then PlayCompleted (never, while looping, until cancelled)."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        _check_play_sources(sources, "playSources")
        for target in play_to:
            self._member(connection, target)
        op = (operation_context, operation_callback_uri)
        connection.media.playing.append(op)
        emit = self.engine.emit
        emit(connection, "PlayStarted", results.MEDIA_SUCCESS, operation_context, None, operation_callback_uri)
        if loop:
            return

        def complete() -> None:
            if op in connection.media.playing:
                connection.media.playing.remove(op)
                emit(
                    connection, "PlayCompleted", results.MEDIA_SUCCESS, operation_context, None, operation_callback_uri
                )

        self._later(complete)

    # ------------------------------------------------------------------ recognize

    def recognize(
        self,
        call_connection_id: str,
        input_type: str,
        options: dict[str, Any],
        target: Identifier,
        prompts: list[dict[str, Any]],
        operation_context: str | None,
        operation_callback_uri: str | None,
    ) -> None:
        """Collect input from a participant: RecognizeCompleted with the next scripted result."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        self._member(connection, target)
        _check_play_sources(prompts, "playPrompts")
        choices = options.get("choices") or []
        if input_type == "choices" and not choices:
            raise errors.InvalidRequest("recognizeOptions.choices is required when recognizeInputType is choices.")
        if connection.media.recognizing is not None:
            raise errors.Conflict("a recognize operation is already running on this call.")
        op = (operation_context, operation_callback_uri)
        connection.media.recognizing = op
        result = self.script.take(call_connection_id) or _default_recognition(input_type, options)

        def complete() -> None:
            if connection.media.recognizing is op:
                connection.media.recognizing = None
                self.engine.emit(
                    connection,
                    "RecognizeCompleted",
                    results.MEDIA_SUCCESS,
                    operation_context,
                    result,
                    operation_callback_uri,
                )

        self._later(complete)

    def cancel_all(self, call_connection_id: str) -> None:
        """Stop every play and recognize: PlayCanceled / RecognizeCanceled."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        media = connection.media
        for operation_context, uri in media.playing:
            self.engine.emit(connection, "PlayCanceled", results.PLAY_CANCELED, operation_context, None, uri)
        media.playing.clear()
        if media.recognizing is not None:
            operation_context, uri = media.recognizing
            media.recognizing = None
            self.engine.emit(connection, "RecognizeCanceled", results.RECOGNIZE_CANCELED, operation_context, None, uri)

    # ------------------------------------------------------------------ DTMF

    def start_continuous_dtmf(
        self, call_connection_id: str, target: Identifier, operation_context: str | None, uri: str | None
    ) -> None:
        """Listen for tones from a participant until stopped."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        participant = self._member(connection, target)
        connection.media.continuous_dtmf[participant.key] = (operation_context, uri)

    def stop_continuous_dtmf(
        self, call_connection_id: str, target: Identifier, operation_context: str | None, uri: str | None
    ) -> None:
        """Stop listening: ContinuousDtmfRecognitionStopped."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        participant = self._member(connection, target)
        connection.media.continuous_dtmf.pop(participant.key, None)
        self._later(
            lambda: self.engine.emit(
                connection, "ContinuousDtmfRecognitionStopped", results.DTMF_STOPPED, operation_context, None, uri
            )
        )

    def tones_pressed(self, connection: CallConnection, participant: Participant, tones: str) -> int:
        """A participant presses keys: ToneReceived for each tone the app listens to; returns how many."""
        listening = connection.media.continuous_dtmf.get(participant.key)
        if listening is None:
            return 0
        operation_context, uri = listening
        for tone in tones:
            data = {"tone": TONE_NAMES[tone.lower()], "sequenceId": next(connection.media.dtmf_sequence)}
            self.engine.emit(
                connection, "ContinuousDtmfRecognitionToneReceived", results.SUCCESS, operation_context, data, uri
            )
        return len(tones)

    def send_dtmf(
        self,
        call_connection_id: str,
        tones: list[str],
        target: Identifier,
        operation_context: str | None,
        uri: str | None,
    ) -> None:
        """Send tones to a participant: SendDtmfTonesCompleted."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        self._member(connection, target)
        if not tones:
            raise errors.InvalidRequest("tones must contain at least one tone.")
        unknown = [t for t in tones if t not in DTMF_TONES]
        if unknown:
            raise errors.InvalidRequest(f"unknown tones {unknown}; use zero..nine, a..d, pound or asterisk.")
        self._later(
            lambda: self.engine.emit(
                connection, "SendDtmfTonesCompleted", results.MEDIA_SUCCESS, operation_context, None, uri
            )
        )

    # ------------------------------------------------------------------ hold

    def hold(self, call_connection_id: str, target: Identifier, on_hold: bool) -> None:
        """Put a participant on hold or take them off it; ParticipantsUpdated shows ``isOnHold``."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        participant = self._member(connection, target)
        if participant.is_app:
            raise errors.InvalidRequest("a Call Automation app cannot be put on hold.")
        if participant.is_on_hold != on_hold:
            participant.is_on_hold = on_hold
            self.engine.announce_roster(connection.call)

    # ------------------------------------------------------------------ transcription and streaming

    def transcription(
        self, call_connection_id: str, action: str, locale: str | None, operation_context: str | None, uri: str | None
    ) -> None:
        """Start, update or stop transcription: TranscriptionStarted / Updated / Stopped, or Failed."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        media = connection.media
        if connection.transcription is None:
            update = {"transcriptionStatus": "transcriptionFailed", "transcriptionStatusDetails": "badRequest"}
            self._later(
                lambda: self.engine.emit(
                    connection,
                    "TranscriptionFailed",
                    results.TRANSCRIPTION_NOT_CONFIGURED,
                    operation_context,
                    {"transcriptionUpdate": update},
                    uri,
                )
            )
            return
        event, status, details = {
            "start": ("TranscriptionStarted", "transcriptionStarted", "subscriptionStarted"),
            "update": ("TranscriptionUpdated", "transcriptionUpdated", "transcriptionLocaleUpdated"),
            "stop": ("TranscriptionStopped", "transcriptionStopped", "subscriptionStopped"),
        }[action]
        if action == "start" and media.transcription_active:
            raise errors.Conflict("transcription is already running on this call.")
        if action != "start" and not media.transcription_active:
            raise errors.WrongState("transcription is not running on this call.")
        media.transcription_active = action != "stop"
        if locale:
            connection.transcription = {**connection.transcription, "locale": locale}
        update = {"transcriptionStatus": status, "transcriptionStatusDetails": details}
        self._later(
            lambda: self.engine.emit(
                connection, event, results.SUCCESS, operation_context, {"transcriptionUpdate": update}, uri
            )
        )

    def media_streaming(
        self, call_connection_id: str, start: bool, operation_context: str | None, uri: str | None
    ) -> None:
        """Start or stop media streaming: MediaStreamingStarted / Stopped, or Failed."""
        connection = self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        media = connection.media
        if connection.media_streaming is None:
            update = {"mediaStreamingStatus": "mediaStreamingFailed", "mediaStreamingStatusDetails": "streamUrlMissing"}
            self._later(
                lambda: self.engine.emit(
                    connection,
                    "MediaStreamingFailed",
                    results.MEDIA_STREAMING_NOT_CONFIGURED,
                    operation_context,
                    {"mediaStreamingUpdate": {"contentType": "Audio", **update}},
                    uri,
                )
            )
            return
        if media.streaming_active == start:
            raise errors.WrongState(f"media streaming is already {'running' if start else 'stopped'}.")
        media.streaming_active = start
        status = "mediaStreamingStarted" if start else "mediaStreamingStopped"
        details = "subscriptionStarted" if start else "subscriptionStopped"
        update = {"contentType": "Audio", "mediaStreamingStatus": status, "mediaStreamingStatusDetails": details}
        event = "MediaStreamingStarted" if start else "MediaStreamingStopped"
        self._later(
            lambda: self.engine.emit(
                connection, event, results.SUCCESS, operation_context, {"mediaStreamingUpdate": update}, uri
            )
        )

    # ------------------------------------------------------------------ recording

    def start_recording(
        self,
        server_call_id: str | None,
        call_connection_id: str | None,
        state_callback_uri: str | None,
        pause_on_start: bool,
    ) -> Recording:
        """Start recording a call: RecordingStateChanged follows."""
        connection = self._recording_connection(server_call_id, call_connection_id)
        call = connection.call
        if any(r.server_call_id == call.server_call_id and r.state == "active" for r in self.recordings.values()):
            raise errors.Conflict("the call is already being recorded.")
        recording = Recording(
            recording_id=self.engine.ids.token(),
            server_call_id=call.server_call_id,
            state="inactive" if pause_on_start else "active",
            kind="azureCommunicationServices",
            state_callback_uri=state_callback_uri,
            started_at=self.engine.clock.now().isoformat(),
        )
        self.recordings[recording.recording_id] = recording
        self._recording_event(recording)
        return recording

    def recording(self, recording_id: str) -> Recording:
        found = self.recordings.get(recording_id)
        if found is None:
            raise errors.RecordingNotFound(recording_id)
        return found

    def set_recording_state(self, recording_id: str, state: str) -> Recording:
        """Pause (inactive), resume (active) or stop (removed) a recording."""
        recording = self.recording(recording_id)
        if state == "stopped":
            del self.recordings[recording_id]
            recording.state = "inactive"
        elif recording.state == state:
            return recording
        else:
            recording.state = state
        self._recording_event(recording)
        return recording

    def _recording_connection(self, server_call_id: str | None, call_connection_id: str | None) -> CallConnection:
        if call_connection_id:
            return self.engine.connection(call_connection_id, ConnectionInput.MEDIA)
        if not server_call_id:
            raise errors.InvalidRequest("callLocator with a serverCallId, or callConnectionId, is required.")
        call = self.engine.calls.get(server_call_id)
        connection = next((c for c in call.connections.values() if c.is_established), None) if call else None
        if connection is None:
            raise errors.ServerCallNotFound(server_call_id)
        return connection

    def _recording_event(self, recording: Recording) -> None:
        call = self.engine.calls.get(recording.server_call_id)
        connection = next(iter(call.connections.values()), None) if call else None
        if connection is None:
            return
        data = {
            "recordingId": recording.recording_id,
            "state": recording.state,
            "startDateTime": recording.started_at,
            "recordingKind": recording.kind,
        }
        self._later(
            lambda: self.engine.emit(
                connection, "RecordingStateChanged", None, None, data, recording.state_callback_uri
            )
        )


def _check_play_sources(sources: list[dict[str, Any]], field_name: str) -> None:
    required = {"file": ("file", "uri"), "text": ("text", "text"), "ssml": ("ssml", "ssmlText")}
    for index, source in enumerate(sources):
        kind = source.get("kind")
        if kind not in required:
            raise errors.InvalidRequest(f"{field_name}[{index}].kind must be file, text or ssml.")
        container, key = required[kind]
        value = (source.get(container) or {}).get(key)
        if not isinstance(value, str) or not value:
            raise errors.InvalidRequest(f"{field_name}[{index}].{container}.{key} is required for a {kind} source.")


def _default_recognition(input_type: str, options: dict[str, Any]) -> dict[str, Any]:
    """What a caller 'says' when nothing was scripted: tone 1, the first choice, or 'hello'."""
    choices = options.get("choices") or []
    if input_type == "choices" and choices:
        first = choices[0]
        phrase = (first.get("phrases") or [first.get("label", "")])[0]
        return {
            "recognitionType": "choices",
            "choiceResult": {"label": first.get("label"), "recognizedPhrase": phrase, "confidence": 0.98},
        }
    if input_type == "speech":
        return {"recognitionType": "speech", "speechResult": {"speech": "hello", "confidence": 0.93}}
    return {"recognitionType": "dtmf", "dtmfResult": {"tones": ["one"]}}
