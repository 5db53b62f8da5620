"""Entra's OAuth 2.0 error body and the AADSTS errors the local cloud's Entra answers with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ERROR_URI = "https://login.microsoftonline.com/error?code={code}"
INVALID_REQUEST = "invalid_request"
INVALID_TENANT = "invalid_tenant"


@dataclass(frozen=True)
class RequestTrace:
    """The ids and time Entra stamps on a response: its own trace id and the client's correlation id."""

    trace_id: str
    correlation_id: str
    time: datetime

    @classmethod
    def start(cls, client_request_id: str | None, time: datetime) -> RequestTrace:
        """A new trace; the correlation id is the client's ``client-request-id`` when it is a GUID."""
        try:
            correlation_id = str(uuid.UUID(client_request_id or ""))
        except ValueError:
            correlation_id = str(uuid.uuid4())
        return cls(str(uuid.uuid4()), correlation_id, time)

    @property
    def timestamp(self) -> str:
        return self.time.strftime("%Y-%m-%d %H:%M:%SZ")


class EntraError(Exception):
    """A request Entra refuses: HTTP status, OAuth ``error``, AADSTS code and message, optional ``suberror``."""

    def __init__(self, status: int, error: str, code: int, message: str, suberror: str | None = None) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.suberror = suberror

    def body(self, trace: RequestTrace) -> dict[str, Any]:
        """The JSON body, in Entra's key order."""
        description = (
            f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace.trace_id}\r\n"
            f"Correlation ID: {trace.correlation_id}\r\nTimestamp: {trace.timestamp}"
        )
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": trace.timestamp,
            "trace_id": trace.trace_id,
            "correlation_id": trace.correlation_id,
            "error_uri": ERROR_URI.format(code=self.code),
        }
        if self.suberror:
            body["suberror"] = self.suberror
        return body


# ---------------------------------------------------------------------- request and tenant


def missing_parameter(name: str) -> EntraError:
    """AADSTS900144: a required form field is absent (also what a body that is not a form gets)."""
    return EntraError(400, INVALID_REQUEST, 900144, f"The request body must contain the following parameter: '{name}'.")


def post_only(method: str) -> EntraError:
    """AADSTS900561: the token endpoint was called with another method than POST."""
    return EntraError(
        400, INVALID_REQUEST, 900561, f"The endpoint only accepts POST, OPTIONS requests. Received a {method} request."
    )


def request_too_large(size: int, limit: int) -> EntraError:
    """AADSTS90013 with 413: the request body is larger than the endpoint reads."""
    return EntraError(413, INVALID_REQUEST, 90013, f"Invalid input received: the body is {size} bytes, over {limit}.")


def invalid_parameter(name: str) -> EntraError:
    """AADSTS90100: a parameter (here ``claims``) is present but empty or unreadable."""
    return EntraError(400, INVALID_REQUEST, 90100, f"{name} parameter is empty or not valid.")


def tenant_not_found(tenant: str, error: str = INVALID_REQUEST) -> EntraError:
    """AADSTS90002: a well-formed tenant id or domain that is not this tenant's."""
    return EntraError(
        400,
        error,
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the "
        "correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    )


def malformed_tenant(tenant: str, error: str = INVALID_REQUEST) -> EntraError:
    """AADSTS900023: the tenant segment is neither a GUID nor a domain name."""
    return EntraError(
        400,
        error,
        900023,
        f"Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain.",
    )


def no_tenant_information() -> EntraError:
    """AADSTS50059: an app-only grant on /organizations or /common, which names no tenant."""
    return EntraError(
        400,
        INVALID_REQUEST,
        50059,
        "No tenant-identifying information found in either the request or implied by any provided credentials.",
    )


def unknown_instance() -> EntraError:
    """AADSTS50049: instance discovery for an authority this service does not serve."""
    return EntraError(400, "invalid_instance", 50049, "Unknown or invalid instance.")


def unsupported_grant_type(grant_type: str) -> EntraError:
    """AADSTS70003: a grant type the endpoint does not take."""
    return EntraError(
        400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
    )


# ---------------------------------------------------------------------- client


def app_not_found(client_id: str, directory: str) -> EntraError:
    """AADSTS700016: no app registration with this client id in the tenant."""
    return EntraError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if "
        "the application has not been installed by the administrator of the tenant or consented to by any user in "
        "the tenant. You may have sent your authentication request to the wrong tenant.",
    )


def missing_client_credential() -> EntraError:
    """AADSTS7000216: client credentials without a secret or an assertion."""
    return EntraError(
        401,
        "invalid_client",
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    )


def invalid_client_secret(client_id: str) -> EntraError:
    """AADSTS7000215: a secret that is not one of the app's."""
    return EntraError(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not "
        f"the client secret ID, for a secret added to app '{client_id}'.",
    )


def unregistered_certificate(client_id: str, thumbprint: str) -> EntraError:
    """AADSTS700027: a client assertion; the local cloud's registrations hold secrets only, so no key matches."""
    return EntraError(
        401,
        "invalid_client",
        700027,
        "The certificate with identifier used to sign the client assertion is not registered on application. "
        f"[Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure "
        f"Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'. "
        "The local cloud's app registrations hold client secrets only: send client_secret instead.]",
    )


# ---------------------------------------------------------------------- scope


def invalid_scope(scope: str) -> EntraError:
    """AADSTS70011: a scope value the grant cannot use."""
    return EntraError(
        400,
        "invalid_scope",
        70011,
        f"The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
    )


def unknown_permission(scope: str) -> EntraError:
    """AADSTS70011: a permission the resource does not define."""
    return EntraError(
        400,
        "invalid_scope",
        70011,
        f"The provided value for the input parameter 'scope' is not valid. The scope '{scope}' does not exist.",
    )


def default_scope_required(scope: str) -> EntraError:
    """AADSTS1002012: client credentials asked for a permission instead of ``{resource}/.default``."""
    return EntraError(
        400,
        "invalid_scope",
        1002012,
        f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
        "/.default suffixed to the resource identifier (application ID URI).",
    )


def several_resources(scope: str) -> EntraError:
    """AADSTS28000: delegated scopes of more than one resource in one request."""
    return EntraError(
        400,
        "invalid_scope",
        28000,
        "Provided value for the input parameter scope is not valid because it contains more than one resource. "
        f"Scope {scope} is not valid.",
    )


def resource_not_found(resource: str, tenant: str) -> EntraError:
    """AADSTS500011: a resource that has no service principal in the tenant (here: anything but Graph)."""
    return EntraError(
        400,
        "invalid_resource",
        500011,
        f"The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the "
        "application has not been installed by the administrator of the tenant or consented to by any user in the "
        "tenant. You might have sent your authentication request to the wrong tenant.",
    )


# ---------------------------------------------------------------------- user and grant


def bad_credentials() -> EntraError:
    """AADSTS50126: the password does not match the user's."""
    return EntraError(400, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.")


def user_not_found(directory: str) -> EntraError:
    """AADSTS50034: no user with that sign-in name (Entra hides the name itself)."""
    return EntraError(
        400,
        "invalid_grant",
        50034,
        f"The user account {{EUII Hidden}} does not exist in the {directory} directory. To sign into this "
        "application, the account must be added to the directory.",
    )


def user_disabled() -> EntraError:
    """AADSTS50057: the user's account is disabled (``accountEnabled`` false)."""
    return EntraError(400, "invalid_grant", 50057, "The user account is disabled.")


def consent_required(client_id: str, display_name: str) -> EntraError:
    """AADSTS65001: a delegated permission nobody consented to for this app."""
    return EntraError(
        400,
        "invalid_grant",
        65001,
        f"The user or administrator has not consented to use the application with ID '{client_id}' named "
        f"'{display_name}'. Send an interactive authorization request for this user and resource.",
        suberror="consent_required",
    )


def invalid_refresh_token() -> EntraError:
    """AADSTS9002313: a refresh token this service did not issue."""
    return EntraError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")


def refresh_token_of_another_app() -> EntraError:
    """AADSTS70000: a refresh token issued to another client id."""
    return EntraError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")


def refresh_token_expired(issued: datetime, inactive_days: int) -> EntraError:
    """AADSTS700082: a refresh token past its inactivity lifetime."""
    return EntraError(
        400,
        "invalid_grant",
        700082,
        f"The refresh token has expired due to inactivity. The token was issued on {issued.isoformat()} and was "
        f"inactive for {inactive_days}.00:00:00.",
    )
