"""Call Automation request bodies: parsed and validated once at the edge, camelCase on the wire."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from callbridge.emulator.acs import errors
from callbridge.identifiers import Identifier, IdentifierError, PhoneNumber, from_model


def _identifier(value: object) -> Identifier:
    try:
        return from_model(value)
    except IdentifierError as exc:
        raise ValueError(str(exc)) from None


def _phone(value: object) -> str:
    """A PhoneNumberIdentifierModel (``{"value": "+1…"}``) as its E.164 string."""
    if not isinstance(value, dict) or not isinstance(value.get("value"), str):
        raise ValueError('must be a phone number object like {"value": "+14255550123"}')
    parsed = _identifier({"phoneNumber": value})
    assert isinstance(parsed, PhoneNumber)
    return parsed.value


def _user_id(value: object) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
        raise ValueError('must be a communication user object like {"id": "8:acs:…"}')
    return str(value["id"])


Ident = Annotated[Identifier, BeforeValidator(_identifier)]
Phone = Annotated[str, BeforeValidator(_phone)]
UserId = Annotated[str, BeforeValidator(_user_id)]


class Wire(BaseModel):
    """Base for request bodies: camelCase aliases, unknown fields ignored (bodies are the 2026-03-12 superset)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class CallbackRequest(Wire):
    """Fields every call-starting request shares."""

    callback_uri: str
    operation_context: str | None = None
    media_streaming_options: dict[str, Any] | None = None
    transcription_options: dict[str, Any] | None = None

    @field_validator("callback_uri")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value


class CreateCall(CallbackRequest):
    targets: list[Ident]
    source_caller_id_number: Phone | None = None
    source_display_name: str | None = None
    source: UserId | None = None


class AnswerCall(CallbackRequest):
    incoming_call_context: str = Field(min_length=1)
    answered_by: UserId | None = None


class RedirectCall(Wire):
    incoming_call_context: str = Field(min_length=1)
    target: Ident


class RejectCall(Wire):
    incoming_call_context: str = Field(min_length=1)
    call_reject_reason: Literal["none", "busy", "forbidden"] | None = None


class CallLocator(Wire):
    kind: Literal["groupCallLocator", "serverCallLocator", "roomCallLocator"] | None = None
    group_call_id: str | None = None
    server_call_id: str | None = None
    room_id: str | None = None

    def resolved(self) -> tuple[str, str]:
        """The locator kind and the id it names, inferring the kind when the SDK left it out."""
        for kind, value in (
            ("serverCallLocator", self.server_call_id),
            ("groupCallLocator", self.group_call_id),
            ("roomCallLocator", self.room_id),
        ):
            if value and (self.kind is None or self.kind == kind):
                return kind, value
        raise errors.invalid_body("callLocator needs the id its kind names (serverCallId, groupCallId or roomId).")


class Connect(CallbackRequest):
    call_locator: CallLocator


class TransferToParticipant(Wire):
    target_participant: Ident
    transferee: Ident | None = None
    operation_context: str | None = None
    operation_callback_uri: str | None = None
    source_caller_id_number: Phone | None = None


class AddParticipant(Wire):
    participant_to_add: Ident
    source_caller_id_number: Phone | None = None
    source_display_name: str | None = None
    invitation_timeout_in_seconds: int | None = None
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class RemoveParticipant(Wire):
    participant_to_remove: Ident
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class MuteParticipants(Wire):
    target_participants: list[Ident]
    operation_context: str | None = None


class CancelAddParticipant(Wire):
    invitation_id: str = Field(min_length=1)
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class MoveParticipants(Wire):
    target_participants: list[Ident]
    from_call: str = Field(min_length=1)
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class PlayOptions(Wire):
    loop: bool = False


class Play(Wire):
    play_sources: list[dict[str, Any]] = Field(min_length=1)
    play_to: list[Ident] = Field(default_factory=list)
    interrupt_call_media_operation: bool = False
    play_options: PlayOptions | None = None
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class RecognizeOptions(Wire):
    target_participant: Ident
    interrupt_prompt: bool | None = None
    initial_silence_timeout_in_seconds: int | None = Field(default=None, ge=0, le=300)
    choices: list[dict[str, Any]] | None = None
    dtmf_options: dict[str, Any] | None = None
    speech_options: dict[str, Any] | None = None


class Recognize(Wire):
    recognize_input_type: Literal["dtmf", "speech", "speechOrDtmf", "choices"]
    recognize_options: RecognizeOptions
    play_prompt: dict[str, Any] | None = None
    play_prompts: list[dict[str, Any]] | None = None
    interrupt_call_media_operation: bool = False
    operation_context: str | None = None
    operation_callback_uri: str | None = None

    def prompts(self) -> list[dict[str, Any]]:
        return ([self.play_prompt] if self.play_prompt else []) + list(self.play_prompts or [])


class ContinuousDtmf(Wire):
    target_participant: Ident
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class SendDtmfTones(Wire):
    tones: list[str]
    target_participant: Ident
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class Hold(Wire):
    target_participant: Ident
    play_source_info: dict[str, Any] | None = None
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class Transcription(Wire):
    locale: str | None = None
    speech_model_endpoint_id: str | None = None
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class MediaStreaming(Wire):
    operation_context: str | None = None
    operation_callback_uri: str | None = None


class StartRecording(Wire):
    call_locator: CallLocator | None = None
    call_connection_id: str | None = None
    recording_state_callback_uri: str | None = None
    recording_content_type: Literal["audio", "audioVideo"] | None = None
    recording_channel_type: Literal["mixed", "unmixed"] | None = None
    recording_format_type: Literal["wav", "mp3", "mp4"] | None = None
    pause_on_start: bool = False


M = TypeVar("M", bound=Wire)


def parse(model: type[M], body: object) -> M:
    """Validate a decoded JSON body, turning every problem into one 400/8523 message."""
    if not isinstance(body, dict):
        raise errors.invalid_body("the body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise errors.invalid_body(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """``participantToAdd: Field required; invitationTimeoutInSeconds: …`` from pydantic's errors."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}")
    return "; ".join(parts)
