"""``callbridge tenant …``: the local cloud's Teams admin, named after the cmdlets a Teams admin runs."""

from __future__ import annotations

from typing import Any

import click

from callbridge.cli.control import Control, emulator_option
from callbridge.cli.output import fields, json_option, show, table

ANSWERS = ["accept", "decline", "busy", "noAnswer", "manual"]
USER_COLUMNS = [
    ("Name", "displayName"),
    ("Id", "id"),
    ("UPN", "userPrincipalName"),
    ("Type", "userType"),
    ("Licences", "licenseNames"),
    ("Voice", "enterpriseVoiceEnabled"),
    ("Online", "online"),
    ("Presence", "presenceText"),
    ("Answers", "answerText"),
]


def _bool(value: str) -> bool:
    lowered = value.lower().lstrip("$")
    if lowered in ("true", "on", "yes", "1"):
        return True
    if lowered in ("false", "off", "no", "0"):
        return False
    raise click.BadParameter(f"{value!r} is not true or false")


BOOL = click.Choice(["true", "false", "$true", "$false", "on", "off"], case_sensitive=False)


@click.group()
@emulator_option
@click.pass_context
def tenant(ctx: click.Context, emulator_url: str) -> None:
    """Administer the local cloud's Teams tenant the way a Teams admin would."""
    ctx.obj = Control(emulator_url)


# ---------------------------------------------------------------------- ACS federation


@tenant.command("set-acs-federation")
@click.option("--enable-acs-users/--disable-acs-users", default=None, help="The tenant-wide switch.")
@click.option(
    "--allowed-acs-resources",
    "resources",
    multiple=True,
    help="Immutable ACS resource id allowed to call the tenant (repeat, or separate with commas).",
)
@json_option
@click.pass_obj
def set_acs_federation(
    control: Control, enable_acs_users: bool | None, resources: tuple[str, ...], as_json: bool
) -> None:
    """Set-CsTeamsAcsFederationConfiguration: allow ACS resources to call the tenant's users."""
    current = control.get("/teams/acs-federation")
    allowed = [r.strip() for value in resources for r in value.split(",") if r.strip()]
    body = {
        "enableAcsUsers": current["enableAcsUsers"] if enable_acs_users is None else enable_acs_users,
        "allowedAcsResources": allowed if resources else current["allowedAcsResources"],
    }
    show(control.put("/teams/acs-federation", body), as_json, lambda d: fields(d, "ACS federation"))  # fmt: skip


@tenant.command("get-acs-federation")
@json_option
@click.pass_obj
def get_acs_federation(control: Control, as_json: bool) -> None:
    """Get-CsTeamsAcsFederationConfiguration."""
    show(control.get("/teams/acs-federation"), as_json, lambda d: fields(d, "ACS federation"))


# ---------------------------------------------------------------------- external access policies


def _policy_table(data: dict[str, Any]) -> Any:
    return table(data["value"], [("Identity", "identity"), ("EnableAcsFederationAccess", "enableAcsFederationAccess"),
                                 ("Description", "description")], "External access policies")  # fmt: skip


@tenant.command("get-external-access-policy")
@json_option
@click.pass_obj
def get_external_access_policy(control: Control, as_json: bool) -> None:
    """Get-CsExternalAccessPolicy, with who has which policy."""
    data = control.get("/teams/external-access-policies")
    show(data, as_json, _policy_table)
    if not as_json:
        click.echo(f"Assignments: {data['assignments']}")


@tenant.command("new-external-access-policy")
@click.argument("identity")
@click.option("--enable-acs-federation-access", type=BOOL, default="true", show_default=True)
@click.option("--description", default="")
@json_option
@click.pass_obj
def new_external_access_policy(
    control: Control, identity: str, enable_acs_federation_access: str, description: str, as_json: bool
) -> None:
    """New-CsExternalAccessPolicy: a per-user policy (tag:NAME), granted to nobody yet."""
    body = {"identity": identity, "enableAcsFederationAccess": _bool(enable_acs_federation_access),
            "description": description}  # fmt: skip
    show(control.post("/teams/external-access-policies", body), as_json, lambda d: fields(d, "Created"))


@tenant.command("set-external-access-policy")
@click.argument("identity")
@click.option("--enable-acs-federation-access", type=BOOL, required=True)
@json_option
@click.pass_obj
def set_external_access_policy(
    control: Control, identity: str, enable_acs_federation_access: str, as_json: bool
) -> None:
    """Set-CsExternalAccessPolicy: change Global or a tag: policy."""
    body = {"enableAcsFederationAccess": _bool(enable_acs_federation_access)}
    show(control.patch(f"/teams/external-access-policies/{identity}", body), as_json, lambda d: fields(d, "Updated"))


@tenant.command("grant-external-access-policy")
@click.option("--policy-name", help="The policy to grant; leave out to revoke.")
@click.option("--user", help="Grant to one user (object id or UPN).")
@click.option("--group", help="Grant to a group (id or display name); needs --rank.")
@click.option("--rank", type=int, help="Group grant rank: 1 wins over 2.")
@click.option("--global", "to_global", is_flag=True, help="Make it the tenant's default.")
@json_option
@click.pass_obj
def grant_external_access_policy(
    control: Control, policy_name: str | None, user: str | None, group: str | None, rank: int | None,
    to_global: bool, as_json: bool,
) -> None:  # fmt: skip
    """Grant-CsExternalAccessPolicy: per user, per group with rank, or global. Precedence: user > group > global."""
    body: dict[str, Any] = {"policyName": policy_name, "user": user, "group": group, "rank": rank, "global": to_global}
    show(control.post("/teams/external-access-policies:grant", body), as_json, lambda d: fields(d, "Assignments"))


@tenant.command("groups")
@click.argument("name", required=False)
@click.option("--member", "members", multiple=True, help="User id or UPN (repeat).")
@json_option
@click.pass_obj
def groups(control: Control, name: str | None, members: tuple[str, ...], as_json: bool) -> None:
    """List groups, or create group NAME with members (for group policy grants)."""
    if name:
        control.post("/teams/groups", {"displayName": name, "members": list(members)})
    data = control.get("/teams/groups")
    show(data, as_json, lambda d: table(d["value"], [("Name", "displayName"), ("Id", "id"), ("Members", "members")]))


@tenant.command("settings")
@click.option("--propagation-delay", type=float, help="Seconds before an admin change takes effect.")
@click.option(
    "--presence-delegated-only/--presence-app-allowed",
    default=None,
    help="The quickstart's older rule: presence only with delegated tokens.",
)
@click.option("--presence-limit", type=int, help="Presence requests per window per app (Graph: 1500 per 30 s).")
@json_option
@click.pass_obj
def settings(
    control: Control, propagation_delay: float | None, presence_delegated_only: bool | None,
    presence_limit: int | None, as_json: bool,
) -> None:  # fmt: skip
    """Show or change tenant behaviour: propagation delay, presence rules and throttling."""
    body = {
        key: value
        for key, value in (
            ("propagationDelaySeconds", propagation_delay),
            ("presenceDelegatedOnly", presence_delegated_only),
            ("presenceRequestsPerWindow", presence_limit),
        )
        if value is not None
    }
    data = control.patch("/teams/settings", body) if body else control.get("/teams/settings")
    show(data, as_json, lambda d: fields(d, "Tenant settings"))


# ---------------------------------------------------------------------- users


@tenant.group()
def users() -> None:
    """Tenant users: add, list, presence, licences, Enterprise Voice, client online state."""


def _user_rows(users_json: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for user in users_json:
        presence = user["presence"]
        answer = user["answer"]
        rows.append(
            {
                **user,
                "licenseNames": [lic["skuPartNumber"] for lic in user["licenses"]],
                "presenceText": f"{presence['availability']}/{presence['activity']}",
                "answerText": f"{answer['action']} after {answer['afterSeconds']:g}s",
            }
        )
    return rows


def _show_user(control: Control, user: dict[str, Any], as_json: bool) -> None:
    show(user, as_json, lambda u: table(_user_rows([u]), USER_COLUMNS))


@users.command("add")
@click.argument("display_name")
@click.option("--id", "user_id", help="Entra object id (a GUID); generated if left out.")
@click.option("--upn", help="userPrincipalName; derived from the name if left out.")
@click.option("--mail")
@click.option("--license", "licenses", multiple=True, help="Licence part number or SKU id (repeat); default SPE_E5.")
@click.option("--voice/--no-voice", default=True, show_default=True, help="Enterprise Voice.")
@click.option("--guest", is_flag=True, help="userType Guest.")
@click.option("--offline", is_flag=True, help="Their Teams client is signed out.")
@click.option("--answer", type=click.Choice(ANSWERS), default="accept", show_default=True)
@click.option("--after", type=float, default=1.0, show_default=True, help="Seconds the client rings first.")
@json_option
@click.pass_obj
def users_add(
    control: Control, display_name: str, user_id: str | None, upn: str | None, mail: str | None,
    licenses: tuple[str, ...], voice: bool, guest: bool, offline: bool, answer: str, after: float, as_json: bool,
) -> None:  # fmt: skip
    """Add a user with a Teams client that answers as told."""
    body: dict[str, Any] = {
        "displayName": display_name,
        "enterpriseVoiceEnabled": voice,
        "userType": "Guest" if guest else "Member",
        "online": not offline,
        "answer": {"action": answer, "afterSeconds": after},
    }
    for key, value in (("id", user_id), ("userPrincipalName", upn), ("mail", mail)):
        if value:
            body[key] = value
    if licenses:
        body["licenses"] = list(licenses)
    _show_user(control, control.post("/teams/users", body), as_json)


@users.command("list")
@json_option
@click.pass_obj
def users_list(control: Control, as_json: bool) -> None:
    """Every user with licences, voice, presence and answering behaviour."""
    data = control.get("/teams/users")
    show(data["value"], as_json, lambda rows: table(_user_rows(rows), USER_COLUMNS, "Tenant users"))


@users.command("set-presence")
@click.argument("user")
@click.argument("availability")
@click.argument("activity", required=False)
@json_option
@click.pass_obj
def users_set_presence(control: Control, user: str, availability: str, activity: str | None, as_json: bool) -> None:
    """Set the presence a user shows when not in a call (e.g. Away, or Busy InAMeeting)."""
    presence = {"availability": availability, "activity": activity or availability}
    _show_user(control, control.patch(f"/teams/users/{user}", {"presence": presence}), as_json)


@users.command("set-license")
@click.argument("user")
@click.argument("licenses", nargs=-1)
@json_option
@click.pass_obj
def users_set_license(control: Control, user: str, licenses: tuple[str, ...], as_json: bool) -> None:
    """Replace a user's licences (none to remove all), e.g. SPE_E5, ENTERPRISEPACK MCOEV."""
    _show_user(control, control.patch(f"/teams/users/{user}", {"licenses": list(licenses)}), as_json)


@users.command("set-voice")
@click.argument("user")
@click.argument("enabled", type=BOOL)
@json_option
@click.pass_obj
def users_set_voice(control: Control, user: str, enabled: str, as_json: bool) -> None:
    """Set-CsPhoneNumberAssignment -EnterpriseVoiceEnabled: switch Enterprise Voice on or off."""
    _show_user(control, control.patch(f"/teams/users/{user}", {"enterpriseVoiceEnabled": _bool(enabled)}), as_json)


@users.command("set-online")
@click.argument("user")
@click.argument("online", type=BOOL)
@json_option
@click.pass_obj
def users_set_online(control: Control, user: str, online: str, as_json: bool) -> None:
    """Sign a user's Teams client in or out."""
    _show_user(control, control.patch(f"/teams/users/{user}", {"online": _bool(online)}), as_json)


# ---------------------------------------------------------------------- apps and clients


@tenant.group()
def apps() -> None:
    """Entra app registrations."""


@apps.command("add")
@click.argument("display_name")
@click.option("--permission", "permissions", multiple=True, help="Application permission (repeat), e.g. User.Read.All.")
@click.option("--delegated", multiple=True, help="Delegated permission (repeat).")
@json_option
@click.pass_obj
def apps_add(
    control: Control, display_name: str, permissions: tuple[str, ...], delegated: tuple[str, ...], as_json: bool
) -> None:
    """Register an app with admin-consented Graph permissions; prints its client id and secret (once)."""
    body = {"displayName": display_name, "applicationPermissions": list(permissions),
            "delegatedPermissions": list(delegated)}  # fmt: skip
    show(control.post("/entra/apps", body), as_json, lambda d: fields(d, "App registration"))


@apps.command("list")
@json_option
@click.pass_obj
def apps_list(control: Control, as_json: bool) -> None:
    """App registrations and their permissions."""
    columns = [("Name", "displayName"), ("Client id", "clientId"), ("Application", "applicationPermissions"),
               ("Delegated", "delegatedPermissions")]  # fmt: skip
    show(control.get("/entra/apps")["value"], as_json, lambda rows: table(rows, columns, "App registrations"))


@tenant.group()
def client() -> None:
    """Act as a user at their Teams client."""


def _client_view(data: dict[str, Any]) -> str:
    lines = [f"{data['displayName']} ({'online' if data['online'] else 'offline'}, "
             f"{data['presence']['availability']}/{data['presence']['activity']})"]  # fmt: skip
    for toast in data["incomingCalls"]:
        lines.append(f"  ringing: {toast['sourceDisplayName'] or toast['caller']['displayName']} "
                     f"(invitation {toast['invitationId']})")  # fmt: skip
    call = data["activeCall"]
    if call:
        lines.append("  in a call with: " + ", ".join(p["displayName"] for p in call["roster"]))
    return "\n".join(lines)


@client.command("show")
@click.argument("user")
@json_option
@click.pass_obj
def client_show(control: Control, user: str, as_json: bool) -> None:
    """What the user's Teams client shows: toasts and the call roster."""
    show(control.get(f"/teams/users/{user}/client"), as_json, _client_view)


def _client_action(control: Control, user: str, action: str, invitation: str | None, as_json: bool) -> None:
    body = {"invitationId": invitation} if invitation else {}
    show(control.post(f"/teams/users/{user}/client:{action}", body), as_json, _client_view)


@client.command("accept")
@click.argument("user")
@click.option("--invitation", help="Which toast, when several are ringing.")
@json_option
@click.pass_obj
def client_accept(control: Control, user: str, invitation: str | None, as_json: bool) -> None:
    """Click Accept on the user's incoming-call toast."""
    _client_action(control, user, "accept", invitation, as_json)


@client.command("decline")
@click.argument("user")
@click.option("--invitation", help="Which toast, when several are ringing.")
@json_option
@click.pass_obj
def client_decline(control: Control, user: str, invitation: str | None, as_json: bool) -> None:
    """Click Decline on the user's incoming-call toast."""
    _client_action(control, user, "decline", invitation, as_json)


@client.command("hang-up")
@click.argument("user")
@json_option
@click.pass_obj
def client_hang_up(control: Control, user: str, as_json: bool) -> None:
    """Click Leave in the user's call."""
    _client_action(control, user, "hangUp", None, as_json)
