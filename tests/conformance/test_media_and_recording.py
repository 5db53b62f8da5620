"""Media and recording through the official sync SDK: the events an app waits for, in order, where it asked."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from azure.communication.callautomation import (
    CallConnectionClient,
    FileSource,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    RecognitionChoice,
    TextSource,
    TranscriptionOptions,
)
from azure.core.exceptions import ResourceNotFoundError

from tests.support.scenario import CALLER, Cloud

PROMPT = FileSource(url="https://contoso.example/prompts/welcome.wav")
SPEECH = TextSource(text="Press one for sales.", voice_name="en-US-NancyNeural")
CALLER_ID = PhoneNumberIdentifier(CALLER)
STREAMING = MediaStreamingOptions(
    transport_url="wss://contoso.example/media",
    transport_type="websocket",
    content_type="audio",
    audio_channel_type="mixed",
    start_media_streaming=False,
)
TRANSCRIPTION = TranscriptionOptions(
    transport_url="wss://contoso.example/transcripts",
    transport_type="websocket",
    locale="en-US",
    start_transcription=False,
)


def _answer(cloud: Cloud, **options: Any) -> tuple[CallConnectionClient, str]:
    incoming = cloud.incoming_call()
    answer = cloud.client().answer_call(incoming["data"]["incomingCallContext"], cloud.callback_url(), **options)
    cloud.app.wait_event("CallConnected", answer.call_connection_id)
    return cloud.client().get_call_connection(answer.call_connection_id), answer.call_connection_id


def _on(cloud: Cloud, path_suffix: str, call_id: str) -> list[str]:
    """Event types (without namespace) delivered to one callback path for a call, in arrival order."""
    return [
        event["type"].removeprefix("Microsoft.Communication.")
        for received in list(cloud.app.callbacks)
        if received.path.endswith(path_suffix)
        for event in received.body
        if event["data"].get("callConnectionId") == call_id
    ]


def _media_types(cloud: Cloud, call_id: str, prefix: str) -> list[str]:
    return [t for t in cloud.app.types(call_id) if t.startswith(prefix)]


# ---------------------------------------------------------------------- play


def test_play_reports_started_then_completed_with_the_operation_context(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()

    connection.play_media([PROMPT, SPEECH], play_to=[CALLER_ID], operation_context="welcome")

    completed = cloud.app.wait_event("PlayCompleted", call_id)
    started = cloud.app.wait_event("PlayStarted", call_id)
    assert _media_types(cloud, call_id, "Play") == ["PlayStarted", "PlayCompleted"]
    assert started["data"]["operationContext"] == "welcome"
    assert completed["data"]["operationContext"] == "welcome"
    assert completed["data"]["resultInformation"]["code"] == 200


def test_play_to_all_completes(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()

    connection.play_media(SPEECH, operation_context="to-all")

    assert cloud.app.wait_event("PlayCompleted", call_id)["data"]["operationContext"] == "to-all"


def test_play_with_operation_callback_url_sends_its_events_there_only(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    cloud.app.wait_event("ParticipantsUpdated", call_id)

    connection.play_media(PROMPT, operation_context="elsewhere", operation_callback_url=cloud.callback_url("override"))

    cloud.app.wait_event("PlayCompleted", call_id)
    assert _on(cloud, "/callbacks/override", call_id) == ["PlayStarted", "PlayCompleted"]
    assert [t for t in _on(cloud, "/callbacks/main", call_id) if t.startswith("Play")] == []
    connection.play_media(PROMPT, operation_context="home")
    cloud.app.wait_event("PlayCompleted", call_id, count=2)
    assert _on(cloud, "/callbacks/main", call_id)[-2:] == ["PlayStarted", "PlayCompleted"]


def test_a_looping_play_never_completes_and_ends_as_canceled(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    connection.play_media(PROMPT, loop=True, operation_context="hold-music")
    cloud.app.wait_event("PlayStarted", call_id)
    cloud.advance(600)
    assert not cloud.app.events("PlayCompleted", call_id)

    connection.cancel_all_media_operations()

    canceled = cloud.app.wait_event("PlayCanceled", call_id)
    assert canceled["data"]["operationContext"] == "hold-music"
    cloud.advance(60)
    assert _media_types(cloud, call_id, "Play") == ["PlayStarted", "PlayCanceled"]


# ---------------------------------------------------------------------- recognize


RECOGNIZE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "dtmf": ({"dtmf_max_tones_to_collect": 3}, {"recognitionType": "dtmf", "dtmfResult": {"tones": ["four", "two"]}}),
    "choices": (
        {
            "choices": [
                RecognitionChoice(label="Sales", phrases=["sales", "buy"], tone="one"),
                RecognitionChoice(label="Support", phrases=["support", "help"], tone="two"),
            ]
        },
        {
            "recognitionType": "choices",
            "choiceResult": {"label": "Support", "recognizedPhrase": "help", "confidence": 0.91},
        },
    ),
    "speech": (
        {"end_silence_timeout": 2},
        {"recognitionType": "speech", "speechResult": {"speech": "I want to pay my bill", "confidence": 0.88}},
    ),
}

DEFAULT_RESULTS = {
    "dtmf": {"recognitionType": "dtmf", "dtmfResult": {"tones": ["one"]}},
    "choices": {"recognitionType": "choices", "choiceResult": {"label": "Sales", "recognizedPhrase": "sales"}},
    "speech": {"recognitionType": "speech", "speechResult": {"speech": "hello"}},
}


def _subset(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    for key, value in expected.items():
        if isinstance(value, dict):
            assert isinstance(actual.get(key), dict), (key, actual)
            _subset(value, actual[key])
        else:
            assert actual.get(key) == value, (key, actual)


@pytest.mark.parametrize("input_type", list(RECOGNIZE_CASES))
def test_recognize_completes_with_the_scripted_result(virtual_cloud: Cloud, input_type: str) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    options, scripted = RECOGNIZE_CASES[input_type]
    cloud.ok(cloud.control.post("/media/recognize-results", json={"callConnectionId": call_id, "result": scripted}))

    connection.start_recognizing_media(
        input_type, CALLER_ID, play_prompt=SPEECH, operation_context=f"menu-{input_type}", **options
    )

    completed = cloud.app.wait_event("RecognizeCompleted", call_id)
    assert completed["data"]["operationContext"] == f"menu-{input_type}"
    assert completed["data"]["resultInformation"]["code"] == 200
    _subset(scripted, completed["data"])


@pytest.mark.parametrize("input_type", list(RECOGNIZE_CASES))
def test_recognize_without_a_script_returns_the_default_result(virtual_cloud: Cloud, input_type: str) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    options, _ = RECOGNIZE_CASES[input_type]

    connection.start_recognizing_media(input_type, CALLER_ID, play_prompt=PROMPT, **options)

    completed = cloud.app.wait_event("RecognizeCompleted", call_id)
    _subset(DEFAULT_RESULTS[input_type], completed["data"])
    assert "operationContext" not in completed["data"]


def test_a_script_for_one_call_does_not_leak_into_another(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    first, first_id = cloud.answered_call()
    second, second_id = cloud.answered_call(caller="+14255550166")
    scripted = {"recognitionType": "dtmf", "dtmfResult": {"tones": ["nine"]}}
    cloud.ok(cloud.control.post("/media/recognize-results", json={"callConnectionId": first_id, "result": scripted}))

    second.start_recognizing_media("dtmf", PhoneNumberIdentifier("+14255550166"), dtmf_max_tones_to_collect=1)
    first.start_recognizing_media("dtmf", CALLER_ID, dtmf_max_tones_to_collect=1)

    assert cloud.app.wait_event("RecognizeCompleted", second_id)["data"]["dtmfResult"]["tones"] == ["one"]
    assert cloud.app.wait_event("RecognizeCompleted", first_id)["data"]["dtmfResult"]["tones"] == ["nine"]


# ---------------------------------------------------------------------- DTMF


def test_continuous_dtmf_reports_each_tone_in_order_then_stopped(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    server_call_id = connection.get_call_properties().server_call_id
    connection.start_continuous_dtmf_recognition(CALLER_ID, operation_context="keys")

    pressed = cloud.ok(
        cloud.control.post(f"/pstn/calls/{quote(server_call_id, safe='')}:sendDtmf", json={"tones": "12#"})
    )

    assert pressed.json()["tonesDelivered"] == 3
    cloud.app.wait_event("ContinuousDtmfRecognitionToneReceived", call_id, count=3)
    received = cloud.app.events("ContinuousDtmfRecognitionToneReceived", call_id)
    assert [e["data"]["tone"] for e in received] == ["one", "two", "pound"]
    sequence = [e["data"]["sequenceId"] for e in received]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3
    assert all(e["data"]["operationContext"] == "keys" for e in received)

    connection.stop_continuous_dtmf_recognition(CALLER_ID, operation_context="keys-done")

    stopped = cloud.app.wait_event("ContinuousDtmfRecognitionStopped", call_id)
    assert stopped["data"]["operationContext"] == "keys-done"
    after = cloud.ok(cloud.control.post(f"/pstn/calls/{quote(server_call_id, safe='')}:sendDtmf", json={"tones": "9"}))
    assert after.json()["tonesDelivered"] == 0
    assert len(cloud.app.events("ContinuousDtmfRecognitionToneReceived", call_id)) == 3


def test_send_dtmf_tones_completes_with_the_operation_context(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()

    result = connection.send_dtmf_tones(["one", "two", "pound"], CALLER_ID, operation_context="ivr")

    assert result.operation_context == "ivr"
    completed = cloud.app.wait_event("SendDtmfTonesCompleted", call_id)
    assert completed["data"]["operationContext"] == "ivr"
    assert completed["data"]["resultInformation"]["code"] == 200


# ---------------------------------------------------------------------- hold


def _on_hold(event: dict[str, Any], raw_id: str) -> bool:
    (entry,) = [p for p in event["data"]["participants"] if p["identifier"]["rawId"] == raw_id]
    return bool(entry["isOnHold"])


def test_hold_and_unhold_show_in_participants_updated(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    cloud.app.wait_event("ParticipantsUpdated", call_id)

    connection.hold(CALLER_ID, play_source=PROMPT)

    held = cloud.app.wait_event("ParticipantsUpdated", call_id, count=2)
    assert _on_hold(held, f"4:{CALLER}") is True
    assert connection.get_participant(CALLER_ID).is_on_hold is True

    connection.unhold(CALLER_ID)

    released = cloud.app.wait_event("ParticipantsUpdated", call_id, count=3)
    assert _on_hold(released, f"4:{CALLER}") is False
    assert connection.get_participant(CALLER_ID).is_on_hold is False
    assert released["data"]["sequenceNumber"] > held["data"]["sequenceNumber"]


# ---------------------------------------------------------------------- streaming and transcription


def test_media_streaming_starts_and_stops_on_a_call_answered_with_it(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = _answer(cloud, media_streaming=STREAMING)
    assert connection.get_call_properties().media_streaming_subscription.state == "inactive"

    connection.start_media_streaming(operation_context="stream")

    started = cloud.app.wait_event("MediaStreamingStarted", call_id)
    assert started["data"]["operationContext"] == "stream"
    assert started["data"]["mediaStreamingUpdate"]["mediaStreamingStatus"] == "mediaStreamingStarted"
    assert connection.get_call_properties().media_streaming_subscription.state == "active"

    connection.stop_media_streaming(operation_context="stream-off")

    stopped = cloud.app.wait_event("MediaStreamingStopped", call_id)
    assert stopped["data"]["operationContext"] == "stream-off"
    assert stopped["data"]["mediaStreamingUpdate"]["mediaStreamingStatus"] == "mediaStreamingStopped"
    assert connection.get_call_properties().media_streaming_subscription.state == "inactive"


def test_transcription_starts_updates_and_stops_on_a_call_answered_with_it(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = _answer(cloud, transcription=TRANSCRIPTION)

    connection.start_transcription(locale="en-US", operation_context="tx")
    started = cloud.app.wait_event("TranscriptionStarted", call_id)
    connection.update_transcription(locale="es-ES", operation_context="tx-es")
    updated = cloud.app.wait_event("TranscriptionUpdated", call_id)
    connection.stop_transcription(operation_context="tx-off")
    stopped = cloud.app.wait_event("TranscriptionStopped", call_id)

    assert _media_types(cloud, call_id, "Transcription") == [
        "TranscriptionStarted",
        "TranscriptionUpdated",
        "TranscriptionStopped",
    ]
    assert [e["data"]["operationContext"] for e in (started, updated, stopped)] == ["tx", "tx-es", "tx-off"]
    assert [e["data"]["transcriptionUpdate"]["transcriptionStatus"] for e in (started, updated, stopped)] == [
        "transcriptionStarted",
        "transcriptionUpdated",
        "transcriptionStopped",
    ]
    assert connection.get_call_properties().transcription_subscription.locale == "es-ES"


def test_streaming_and_transcription_fail_on_a_call_answered_without_them(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    assert connection.get_call_properties().media_streaming_subscription.state == "disabled"

    connection.start_media_streaming(operation_context="no-stream")
    connection.start_transcription(locale="en-US", operation_context="no-tx")

    streaming = cloud.app.wait_event("MediaStreamingFailed", call_id)
    transcription = cloud.app.wait_event("TranscriptionFailed", call_id)
    assert streaming["data"]["operationContext"] == "no-stream"
    assert transcription["data"]["operationContext"] == "no-tx"
    assert streaming["data"]["resultInformation"]["code"] >= 400
    assert transcription["data"]["resultInformation"]["code"] >= 400
    assert not cloud.app.events("MediaStreamingStarted", call_id)
    assert not cloud.app.events("TranscriptionStarted", call_id)


@pytest.mark.parametrize("kind", ["media_streaming", "transcription"])
def test_start_on_answer_starts_without_an_explicit_start(virtual_cloud: Cloud, kind: str) -> None:
    """``startMediaStreaming``/``startTranscription`` true in the answer: the service starts it once connected."""
    cloud = virtual_cloud
    if kind == "media_streaming":
        options: dict[str, Any] = {
            "media_streaming": MediaStreamingOptions(
                transport_url="wss://contoso.example/media",
                transport_type="websocket",
                content_type="audio",
                audio_channel_type="mixed",
                start_media_streaming=True,
            )
        }
        event, attribute = "MediaStreamingStarted", "media_streaming_subscription"
    else:
        options = {
            "transcription": TranscriptionOptions(
                transport_url="wss://contoso.example/transcripts",
                transport_type="websocket",
                locale="en-US",
                start_transcription=True,
            )
        }
        event, attribute = "TranscriptionStarted", "transcription_subscription"

    connection, call_id = _answer(cloud, **options)

    cloud.app.wait_event(event, call_id, timeout=1)
    assert getattr(connection.get_call_properties(), attribute).state == "active"


# ---------------------------------------------------------------------- recording


def _recording_states(cloud: Cloud, recording_id: str) -> list[str]:
    return [
        e["data"]["state"]
        for e in cloud.app.events("RecordingStateChanged")
        if e["data"]["recordingId"] == recording_id
    ]


def test_recording_by_server_call_id_through_pause_resume_and_stop(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    connection, call_id = cloud.answered_call()
    server_call_id = connection.get_call_properties().server_call_id
    client = cloud.client()

    started = client.start_recording(
        server_call_id=server_call_id, recording_state_callback_url=cloud.callback_url("rec")
    )

    assert started.recording_state == "active"
    recording_id = started.recording_id
    cloud.app.wait(lambda: _recording_states(cloud, recording_id) == ["active"], what="RecordingStateChanged active")
    assert client.get_recording_properties(recording_id).recording_state == "active"

    statuses: list[int] = []

    def status(response: Any) -> None:
        statuses.append(response.http_response.status_code)

    client.pause_recording(recording_id, raw_response_hook=status)
    cloud.app.wait(lambda: _recording_states(cloud, recording_id)[-1:] == ["inactive"], what="paused")
    assert client.get_recording_properties(recording_id).recording_state == "inactive"

    client.resume_recording(recording_id, raw_response_hook=status)
    cloud.app.wait(lambda: _recording_states(cloud, recording_id) == ["active", "inactive", "active"], what="resumed")
    assert client.get_recording_properties(recording_id).recording_state == "active"

    assert client.stop_recording(recording_id, raw_response_hook=status) is None
    assert statuses == [202, 202, 204]
    with pytest.raises(ResourceNotFoundError):
        client.get_recording_properties(recording_id)
    assert {
        r.path for r in cloud.app.callbacks if any(e["type"].endswith("RecordingStateChanged") for e in r.body)
    } == {"/callbacks/rec"}
    changed = cloud.app.events("RecordingStateChanged")[0]["data"]
    assert changed["callConnectionId"] == call_id
    assert {"recordingId", "state", "startDateTime", "recordingKind"} <= set(changed)


def test_recording_by_call_connection_id_reports_to_the_call_callback(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    _connection, call_id = cloud.answered_call()
    client = cloud.client()

    started = client.start_recording(call_connection_id=call_id)

    assert started.recording_state == "active"
    changed = cloud.app.wait_event("RecordingStateChanged", call_id)
    assert changed["data"]["recordingId"] == started.recording_id
    assert changed["data"]["state"] == "active"
    assert _on(cloud, "/callbacks/main", call_id)[-1] == "RecordingStateChanged"
    assert client.get_recording_properties(started.recording_id).recording_state == "active"
    client.stop_recording(started.recording_id)


def test_recording_paused_on_start_is_inactive(virtual_cloud: Cloud) -> None:
    cloud = virtual_cloud
    _connection, call_id = cloud.answered_call()

    started = cloud.client().start_recording(call_connection_id=call_id, pause_on_start=True)

    assert started.recording_state == "inactive"
    assert cloud.app.wait_event("RecordingStateChanged", call_id)["data"]["state"] == "inactive"


@pytest.mark.parametrize("action", ["get", "pause", "resume", "stop"])
def test_an_unknown_recording_is_404(virtual_cloud: Cloud, action: str) -> None:
    client = virtual_cloud.client()
    unknown = "bm90LWEtcmVjb3JkaW5n"

    with pytest.raises(ResourceNotFoundError) as missing:
        {
            "get": client.get_recording_properties,
            "pause": client.pause_recording,
            "resume": client.resume_recording,
            "stop": client.stop_recording,
        }[action](unknown)

    assert missing.value.status_code == 404
