"""The ``/emulator`` control API: a public, documented contract that tests, the CLI and the UI use."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from callbridge.emulator.acs.calls import ServerCall
from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.cloud import LocalCloud
from callbridge.emulator.endpoints import RuleError
from callbridge.emulator.eventgrid.delivery import HandshakeFailed
from callbridge.emulator.journal import CallIds
from callbridge.emulator.pstn import PhoneError, check_number
from callbridge.emulator.teams.clients import ClientError
from callbridge.emulator.teams.tenant import AcsFederation, AnswerBehaviour, TenantError, TenantUser
from callbridge.identifiers import PhoneNumber, TeamsUser, to_model


class ControlError(Exception):
    """A control request refused with a status, a code and a message saying what to change."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def guarded(handler: Endpoint) -> Endpoint:
    """Turn the domain's errors into JSON error bodies; the server keeps serving whatever the input."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ControlError as exc:
            return _error(exc.status, exc.code, exc.message)
        except (TenantError, PhoneError, RuleError, ValueError) as exc:
            return _error(400, "BadRequest", str(exc))
        except ClientError as exc:
            return _error(409, "Conflict", str(exc))
        except HandshakeFailed as exc:
            return _error(400, "SubscriptionValidationFailed", f"The endpoint failed the validation handshake: {exc}")

    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(400, "InvalidJson", f"The body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ControlError(400, "InvalidJson", "The body must be a JSON object.")
    return body


class ControlApi:
    """Handlers over one LocalCloud."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def routes(self) -> list[BaseRoute]:
        g = guarded
        return [
            Route("/info", g(self.info), methods=["GET"]),
            Route("/reset", g(self.reset), methods=["POST"]),
            Route("/phone-numbers", g(self.phone_numbers), methods=["GET", "POST"]),
            Route("/eventgrid/subscriptions", g(self.subscriptions), methods=["GET", "POST"]),
            Route("/eventgrid/subscriptions/{name}", g(self.delete_subscription), methods=["DELETE"]),
            Route("/eventgrid/dead-letters", g(self.dead_letters), methods=["GET"]),
            Route("/eventgrid/validate", g(self.validate), methods=["GET"]),
            Route("/pstn/calls", g(self.pstn_calls), methods=["GET", "POST"]),
            Route("/pstn/calls/{rest:path}", g(self.pstn_action), methods=["POST"]),
            Route("/teams/users", g(self.teams_users), methods=["GET", "POST"]),
            Route("/teams/users/{user_id}", g(self.teams_user), methods=["GET", "PATCH"]),
            Route("/teams/users/{user_id}/client", g(self.client_view), methods=["GET"]),
            Route("/teams/users/{user_id}/client:{action}", g(self.client_action), methods=["POST"]),
            Route("/teams/acs-federation", g(self.federation), methods=["GET", "PUT"]),
            Route("/endpoints/rules", g(self.rules), methods=["GET", "PUT"]),
            Route("/media/recognize-results", g(self.recognize_results), methods=["POST"]),
            Route("/calls", g(self.calls), methods=["GET"]),
            Route("/journal", g(self.journal), methods=["GET"]),
            Route("/clock", g(self.clock), methods=["GET"]),
            Route("/clock:advance", g(self.advance_clock), methods=["POST"]),
        ]

    # ------------------------------------------------------------------ cloud

    def info_json(self) -> dict[str, Any]:
        cloud = self.cloud
        return {
            "acs": {
                "endpoint": cloud.urls.https + "/",
                "connectionString": cloud.connection_string,
                "immutableResourceId": cloud.resource.immutable_id,
                "resourceName": cloud.resource.name,
                "phoneNumbers": list(cloud.resource.phone_numbers),
                "appIdentity": cloud.resource.app_user_id,
                "callbackIssuer": cloud.config.callback_issuer,
                "jwksUri": cloud.urls.https + "/calling/keys",
                "openIdConfiguration": cloud.urls.https + "/calling/.well-known/acsopenidconfiguration",
            },
            "eventGrid": {"topic": cloud.topic},
            "caCertificatePath": str(cloud.certificates.ca_cert.resolve()),
            "urls": {"https": cloud.urls.https, "http": cloud.urls.http},
            "dataDir": str(cloud.config.data_dir.resolve()),
            "clock": cloud.config.clock,
            "profile": cloud.config.profile,
        }

    async def info(self, request: Request) -> Response:
        return JSONResponse(self.info_json())

    async def reset(self, request: Request) -> Response:
        self.cloud.reset()
        return JSONResponse(self.info_json())

    async def phone_numbers(self, request: Request) -> Response:
        numbers = self.cloud.resource.phone_numbers
        if request.method == "POST":
            number = check_number((await _json(request)).get("phoneNumber"), "phoneNumber")
            if number in numbers:
                raise ControlError(409, "Conflict", f"{number} already belongs to the resource.")
            numbers.append(number)
            self.cloud.save()
            return JSONResponse({"phoneNumber": number}, status_code=201)
        return JSONResponse({"value": list(numbers)})

    # ------------------------------------------------------------------ Event Grid

    async def subscriptions(self, request: Request) -> Response:
        eventgrid = self.cloud.eventgrid
        if request.method == "GET":
            return JSONResponse({"value": [s.to_json() for s in eventgrid.subscriptions.values()]})
        body = await _json(request)
        name, endpoint = body.get("name"), body.get("endpoint")
        if not isinstance(name, str) or not isinstance(endpoint, str):
            raise ControlError(400, "BadRequest", "name and endpoint are required strings.")
        event_types = body.get("eventTypes")
        if event_types is not None and (
            not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types)
        ):
            raise ControlError(400, "BadRequest", "eventTypes must be a list of event type names.")
        schema = body.get("schema", "EventGridSchema")
        subscription = await eventgrid.subscribe(name, endpoint, event_types, str(schema))
        self.cloud.save()
        return JSONResponse(subscription.to_json(), status_code=201)

    async def delete_subscription(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not self.cloud.eventgrid.unsubscribe(name):
            raise ControlError(404, "NotFound", f"No Event Grid subscription named {name!r}.")
        self.cloud.save()
        return Response(status_code=204)

    async def dead_letters(self, request: Request) -> Response:
        return JSONResponse({"value": [d.to_json() for d in self.cloud.eventgrid.dead_letters]})

    async def validate(self, request: Request) -> Response:
        token = request.query_params.get("id", "")
        if not self.cloud.eventgrid.confirm_validation(token):
            raise ControlError(404, "NotFound", "No subscription is waiting for this validation URL.")
        return JSONResponse({"validated": True})

    # ------------------------------------------------------------------ phones

    async def pstn_calls(self, request: Request) -> Response:
        phones = self.cloud.phones
        if request.method == "GET":
            return JSONResponse({"value": [c.as_json() for c in phones.all_calls()]})
        body = await _json(request)
        record = phones.dial(body.get("from"), body.get("to"), str(body.get("displayName") or ""))  # type: ignore[arg-type]
        return JSONResponse(
            {"serverCallId": record.server_call_id, "correlationId": record.correlation_id}, status_code=201
        )

    async def pstn_action(self, request: Request) -> Response:
        rest: str = request.path_params["rest"]
        server_call_id, _, action = rest.rpartition(":")
        body = await _json(request)
        phone = body.get("phone")
        if action == "hangUp":
            record = self.cloud.phones.hang_up(server_call_id, phone)
            return JSONResponse(record.as_json())
        if action == "sendDtmf":
            return JSONResponse({"tonesDelivered": self._press(server_call_id, phone, body.get("tones"))})
        raise ControlError(404, "NotFound", f"Unknown phone action {action!r}; use :hangUp or :sendDtmf.")

    def _press(self, server_call_id: str, phone: object, tones: object) -> int:
        if not isinstance(tones, str) or not tones or any(t not in "0123456789abcdABCD#*" for t in tones):
            raise ControlError(400, "BadRequest", "tones must be a string of 0-9, A-D, # and *.")
        call = self.cloud.engine.calls.get(server_call_id)
        if call is None:
            raise ControlError(404, "NotFound", f"No active call {server_call_id!r}.")
        record = next((r for r in self.cloud.phones.all_calls() if r.server_call_id == server_call_id), None)
        number = phone if isinstance(phone, str) else (record.phone if record else None)
        participant = call.find(PhoneNumber(number)) if number else None
        if participant is None:
            raise ControlError(404, "NotFound", "That phone is not in the call.")
        return sum(
            self.cloud.media.tones_pressed(connection, participant, tones) for connection in call.connections.values()
        )

    # ------------------------------------------------------------------ Teams

    async def teams_users(self, request: Request) -> Response:
        tenant = self.cloud.tenant
        if request.method == "GET":
            return JSONResponse({"value": [u.as_json() for u in tenant.users.values()]})
        user = tenant.add_user(TenantUser.from_json(await _json(request), tenant.domain))
        self.cloud.save()
        return JSONResponse(user.as_json(), status_code=201)

    async def teams_user(self, request: Request) -> Response:
        user = self._user(request)
        if request.method == "PATCH":
            body = await _json(request)
            if "online" in body:
                if not isinstance(body["online"], bool):
                    raise ControlError(400, "BadRequest", "online must be true or false.")
                user.online = body["online"]
            if "answer" in body:
                user.answer = AnswerBehaviour.from_json(body["answer"])
            if "displayName" in body:
                if not isinstance(body["displayName"], str) or not body["displayName"].strip():
                    raise ControlError(400, "BadRequest", "displayName must be a non-empty string.")
                user.display_name = body["displayName"].strip()
            self.cloud.save()
        return JSONResponse(user.as_json())

    def _user(self, request: Request) -> TenantUser:
        user_id = request.path_params["user_id"]
        user = self.cloud.tenant.user(user_id)
        if user is None:
            raise ControlError(404, "NotFound", f"No Teams user {user_id!r} in the tenant.")
        return user

    async def client_view(self, request: Request) -> Response:
        return JSONResponse(self.cloud.teams.view(self._user(request).id))

    async def client_action(self, request: Request) -> Response:
        user = self._user(request)
        action = request.path_params["action"]
        invitation_id = (await _json(request)).get("invitationId")
        teams = self.cloud.teams
        if action == "accept":
            teams.accept(user.id, invitation_id)
        elif action == "decline":
            teams.decline(user.id, invitation_id)
        elif action == "hangUp":
            teams.hang_up(user.id)
        else:
            raise ControlError(404, "NotFound", f"Unknown client action {action!r}; use :accept, :decline or :hangUp.")
        return JSONResponse(teams.view(user.id))

    async def federation(self, request: Request) -> Response:
        tenant = self.cloud.tenant
        if request.method == "PUT":
            tenant.federation = AcsFederation.from_json(await _json(request))
            self.cloud.save()
        return JSONResponse(tenant.federation.as_json())

    # ------------------------------------------------------------------ endpoints and media

    async def rules(self, request: Request) -> Response:
        endpoints = self.cloud.endpoints
        if request.method == "PUT":
            endpoints.load_rules((await _json(request)).get("rules"))
            self.cloud.save()
        return JSONResponse({"rules": endpoints.dump_rules()})

    async def recognize_results(self, request: Request) -> Response:
        body = await _json(request)
        result = body.get("result")
        if not isinstance(result, dict) or result.get("recognitionType") not in ("dtmf", "speech", "choices"):
            raise ControlError(
                400, "BadRequest", "result must be an object with recognitionType dtmf, speech or choices."
            )
        connection_id = body.get("callConnectionId")
        self.cloud.media.script.push(result, connection_id if isinstance(connection_id, str) else None)
        return JSONResponse({"queued": True}, status_code=201)

    # ------------------------------------------------------------------ inspection

    async def calls(self, request: Request) -> Response:
        return JSONResponse({"value": [call_json(c) for c in self.cloud.engine.calls.values()]})

    async def journal(self, request: Request) -> Response:
        query = request.query_params
        ids = CallIds(query.get("serverCallId"), query.get("callConnectionId"), query.get("correlationId"))
        wanted = ids if any(ids.as_json().values()) else None
        try:
            after = int(query.get("after", "0"))
        except ValueError:
            raise ControlError(400, "BadRequest", "after must be an entry sequence number.") from None
        kinds = set(query.getlist("kind"))
        entries = [e.as_json() for e in self.cloud.journal.entries(wanted, after) if not kinds or e.kind in kinds]
        return JSONResponse({"value": entries})

    async def clock(self, request: Request) -> Response:
        clock = self.cloud.clock
        body: dict[str, Any] = {"kind": self.cloud.config.clock, "now": clock.now().isoformat()}
        if isinstance(clock, VirtualClock):
            body["nextTimerInSeconds"] = clock.next_due()
        return JSONResponse(body)

    async def advance_clock(self, request: Request) -> Response:
        clock = self.cloud.clock
        if not isinstance(clock, VirtualClock):
            raise ControlError(409, "RealClock", "The clock is real; start the emulator with --clock virtual.")
        seconds = (await _json(request)).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError(400, "BadRequest", "seconds must be a number >= 0.")
        ran = clock.advance(float(seconds))
        return JSONResponse({"now": clock.now().isoformat(), "timersRun": ran})


def call_json(call: ServerCall) -> dict[str, Any]:
    """A server call with its participants, app legs and pending invitations."""
    return {
        "serverCallId": call.server_call_id,
        "correlationId": call.correlation_id,
        "participants": [
            {
                "identifier": to_model(p.identifier),
                "displayName": p.display_name,
                "isMuted": p.is_muted,
                "isOnHold": p.is_on_hold,
                "callConnectionId": p.connection.call_connection_id if p.connection else None,
            }
            for p in call.participants.values()
        ],
        "connections": [
            {"callConnectionId": c.call_connection_id, "state": c.state.value, "callbackUri": c.callback_uri}
            for c in call.connections.values()
        ],
        "invitations": [
            {
                "invitationId": i.invitation_id,
                "purpose": i.purpose.value,
                "target": to_model(i.target),
                "state": i.state.value,
                "sourceDisplayName": i.source_display_name,
            }
            for i in call.invitations.values()
            if i.is_ringing
        ],
        "teamsUsers": [p.identifier.user_id for p in call.humans() if isinstance(p.identifier, TeamsUser)],
    }
