"""Call control with the official async Call Automation SDK; errors become one sentence with the service code."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from azure.communication.callautomation import (
    CommunicationIdentifier,
    CommunicationUserIdentifier,
    MicrosoftTeamsAppIdentifier,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
    UnknownIdentifier,
)
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.transport import AioHttpTransport
from azure.identity.aio import DefaultAzureCredential

from callbridge import identifiers
from callbridge.service.settings import ServiceSettings

T = TypeVar("T")


class CallControlError(Exception):
    """ACS refused or could not be reached; ``code`` is the service's error code when there is one."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Answered:
    call_connection_id: str
    server_call_id: str | None
    correlation_id: str | None


class CallControl:
    """The operations callbridge performs on calls, each tagged with an operation context for its outcome."""

    def __init__(self, settings: ServiceSettings) -> None:
        options: dict[str, Any] = {}
        self._session: aiohttp.ClientSession | None = None
        if settings.acs_ca_file:
            # one SSL context and one connection pool: a CA path would make the SDK build both per request
            context = ssl.create_default_context(cafile=str(settings.acs_ca_file))
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
            options["transport"] = AioHttpTransport(session=self._session, session_owner=False)
        if settings.acs_connection_string is not None:
            self.client = CallAutomationClient.from_connection_string(
                settings.acs_connection_string.get_secret_value(), **options
            )
            self._credential: DefaultAzureCredential | None = None
        elif settings.acs_endpoint:
            self._credential = DefaultAzureCredential()
            self.client = CallAutomationClient(settings.acs_endpoint, self._credential, **options)
        else:
            raise CallControlError(
                "no ACS resource configured: set CALLBRIDGE_ACS_CONNECTION_STRING, or CALLBRIDGE_ACS_ENDPOINT "
                "with an azure-identity credential"
            )

    async def close(self) -> None:
        await self.client.close()
        if self._credential is not None:
            await self._credential.close()
        if self._session is not None:
            await self._session.close()

    async def answer(self, incoming_call_context: str, callback_url: str, operation_context: str) -> Answered:
        result = await _call(
            lambda: self.client.answer_call(
                incoming_call_context=incoming_call_context,
                callback_url=callback_url,
                operation_context=operation_context,
            )
        )
        return Answered(result.call_connection_id, result.server_call_id, result.correlation_id)

    async def add_teams_user(
        self,
        call_connection_id: str,
        user_id: str,
        source_display_name: str | None,
        timeout_seconds: int,
        operation_context: str,
    ) -> str:
        """Ring a Teams user into the call; returns the invitation id."""
        connection = self.client.get_call_connection(call_connection_id)
        result = await _call(
            lambda: connection.add_participant(
                MicrosoftTeamsUserIdentifier(user_id=user_id),
                source_display_name=source_display_name,
                invitation_timeout=timeout_seconds,
                operation_context=operation_context,
            )
        )
        return str(result.invitation_id)

    async def participant_ids(self, call_connection_id: str) -> list[str]:
        """The raw ids of everyone ACS has in the call right now (the service's roster may lag behind)."""
        connection = self.client.get_call_connection(call_connection_id)

        async def listed() -> list[str]:
            return [p.identifier.raw_id async for p in connection.list_participants()]

        return await _call(listed)

    async def remove(self, call_connection_id: str, raw_id: str, operation_context: str) -> None:
        connection = self.client.get_call_connection(call_connection_id)
        await _call(lambda: connection.remove_participant(_identifier(raw_id), operation_context=operation_context))

    async def transfer(
        self,
        call_connection_id: str,
        target_raw_id: str,
        operation_context: str,
        transferee_raw_id: str | None = None,
        source_caller_id: str | None = None,
    ) -> None:
        connection = self.client.get_call_connection(call_connection_id)
        options: dict[str, Any] = {"operation_context": operation_context}
        if transferee_raw_id:
            options["transferee"] = _identifier(transferee_raw_id)
        if source_caller_id:
            options["source_caller_id_number"] = PhoneNumberIdentifier(source_caller_id)
        await _call(lambda: connection.transfer_call_to_participant(_identifier(target_raw_id), **options))

    async def cancel_add(self, call_connection_id: str, invitation_id: str, operation_context: str) -> None:
        connection = self.client.get_call_connection(call_connection_id)
        await _call(
            lambda: connection.cancel_add_participant_operation(invitation_id, operation_context=operation_context)
        )

    async def hang_up(self, call_connection_id: str, for_everyone: bool) -> None:
        connection = self.client.get_call_connection(call_connection_id)
        await _call(lambda: connection.hang_up(is_for_everyone=for_everyone))

    async def probe(self) -> None:
        """A harmless signed request: GET of a call that does not exist should be a 404, not a 401."""
        connection = self.client.get_call_connection("00000000-0000-0000-0000-000000000000")
        try:
            await connection.get_call_properties()
        except HttpResponseError as exc:
            if exc.status_code == 404:
                return
            raise _translate(exc) from None
        except AzureError as exc:
            raise CallControlError(f"cannot reach ACS: {exc}") from None


def _identifier(raw_id: str) -> CommunicationIdentifier:
    """The SDK's identifier for a raw id, through callbridge's own identifiers module."""
    match identifiers.from_raw_id(raw_id):
        case identifiers.TeamsUser() as user:
            return MicrosoftTeamsUserIdentifier(user_id=user.user_id, is_anonymous=user.is_anonymous, raw_id=raw_id)
        case identifiers.PhoneNumber() as phone:
            return PhoneNumberIdentifier(phone.value, raw_id=raw_id)
        case identifiers.CommunicationUser() as user:
            return CommunicationUserIdentifier(user.id)
        case identifiers.TeamsApp() as app:
            return MicrosoftTeamsAppIdentifier(app.app_id, raw_id=raw_id)
        case _:
            return UnknownIdentifier(raw_id)


async def _call(request: Callable[[], Awaitable[T]]) -> T:
    try:
        return await request()
    except HttpResponseError as exc:
        raise _translate(exc) from None
    except AzureError as exc:
        raise CallControlError(f"cannot reach ACS: {exc}") from None


def _translate(exc: HttpResponseError) -> CallControlError:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or exc.message or str(exc)
    if exc.status_code == 401:
        message = f"ACS rejected the request signature ({message}); check the connection string's access key"
    return CallControlError(f"{message} ({exc.status_code}/{code})" if code else message, exc.status_code, code)
