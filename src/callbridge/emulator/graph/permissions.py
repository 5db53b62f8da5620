"""Which Graph permissions each operation accepts, read from the token's ``roles`` (app) or ``scp`` (delegated)."""

from __future__ import annotations

from callbridge.emulator.entra.tokens import Principal
from callbridge.emulator.graph.errors import GraphError, forbidden

USERS_READ = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
USERS_BASIC = frozenset({"User.ReadBasic.All"})
OWN_PROFILE = frozenset({"User.Read", "User.ReadWrite"})
PRESENCE_ALL = frozenset({"Presence.Read.All", "Presence.ReadWrite.All"})
OWN_PRESENCE = frozenset({"Presence.Read", "Presence.ReadWrite"})
LICENCES = USERS_READ | {"LicenseAssignment.Read.All"}


def _own(principal: Principal, user_id: str | None, scopes: frozenset[str]) -> bool:
    return user_id is not None and principal.user_id == user_id and bool(principal.scopes & scopes)


def profile_access(principal: Principal, user_id: str | None = None) -> bool:
    """Whether the token reads full profiles (True) or the basic profile only (False); 403 for neither.
    ``user_id`` is the one user asked for, if any: a delegated ``User.Read`` reads its own profile."""
    if principal.holds(USERS_READ) or _own(principal, user_id, OWN_PROFILE):
        return True
    if principal.holds(USERS_BASIC):
        return False
    raise forbidden()


def require_presence(principal: Principal, delegated_only: bool, user_id: str | None = None) -> None:
    """Presence reads: ``Presence.Read.All`` (app or delegated), or a delegated ``Presence.Read`` for oneself.
    With the tenant's delegated-only rule on, app-only tokens are refused as the quickstart once documented."""
    if principal.is_app_only and delegated_only:
        raise GraphError(
            403,
            "Forbidden",
            "Application permissions are not supported for presence in this tenant; call with a delegated token.",
        )
    if not (principal.holds(PRESENCE_ALL) or _own(principal, user_id, OWN_PRESENCE)):
        raise forbidden()


def require_licences(principal: Principal, user_id: str) -> None:
    """``licenseDetails``: the directory read permissions or ``LicenseAssignment.Read.All``, app or delegated;
    a delegated ``User.Read`` for one's own licences."""
    if not (principal.holds(LICENCES) or _own(principal, user_id, OWN_PROFILE)):
        raise forbidden()
