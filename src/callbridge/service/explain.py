"""Failures in words a person can act on: who, what happened, the code, and the command that fixes it."""

from __future__ import annotations

FIXES: dict[tuple[int, int], str] = {
    (603, 0): "{name} declined",
    (487, 10024): "{name} declined",
    (487, 10004): "{name} did not answer in time",
    (480, 10037): "{name}'s Teams client is offline or signed out (or the id is not a Teams user)",
    (480, 10076): "{name} is registered but not online",
    (480, 10077): "{name} is registered but not reachable",
    (486, 8539): "{name} is busy",
    (486, 560486): "{name} is busy",
    (403, 10124): (
        "the Teams tenant does not allow this ACS resource: run `Set-CsTeamsAcsFederationConfiguration "
        "-EnableAcsUsers $true -AllowedAcsResources {resource}`"
    ),
    (403, 7604): (
        "{name}'s external access policy blocks calls from ACS: grant a policy with `-EnableAcsFederationAccess "
        "$true` (`Grant-CsExternalAccessPolicy -Identity {upn} -PolicyName <policy>`) or run "
        "`Set-CsExternalAccessPolicy -Identity Global -EnableAcsFederationAccess $true`"
    ),
    (403, 10391): (
        "{name} has no Teams Phone licence or Enterprise Voice is off: assign Teams Phone (MCOEV) and run "
        "`Set-CsPhoneNumberAssignment -Identity {upn} -EnterpriseVoiceEnabled $true`"
    ),
    (412, 10119): "{name} is a guest or consumer account and cannot be called as a Teams user",
    (0, 5300): "{name} was removed from the call",
    (200, 7015): "the call was transferred",
}


def explain(
    code: int | None, sub_code: int | None, name: str, upn: str | None = None, resource: str | None = None
) -> str:
    """A sentence for a resultInformation, e.g. "Art Anderson declined (603/0)"."""
    label = f"{code}" if not sub_code else f"{code}/{sub_code}"
    template = FIXES.get((code or 0, sub_code or 0))
    if template is None:
        return f"{name}: the call could not be completed ({label})"
    text = template.format(name=name, upn=upn or name, resource=resource or "<immutable resource id>")
    if "`" in text:
        head, _, fix = text.partition(":")
        return f"{head} ({label}):{fix}"
    return f"{text} ({label})"
