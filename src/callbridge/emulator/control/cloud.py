"""Control API for the ACS side: info, reset, numbers, phones, endpoint rules, calls, journal, clock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from callbridge.emulator.acs.calls import ServerCall
from callbridge.emulator.clock import VirtualClock
from callbridge.emulator.cloud import LocalCloud
from callbridge.emulator.control.base import ControlError, Guard, read_json
from callbridge.emulator.journal import CallIds, Journal, JournalEntry
from callbridge.emulator.pstn import check_number
from callbridge.emulator.seed import DEMO_APP_CLIENT_ID
from callbridge.identifiers import PhoneNumber, TeamsUser, to_model

HEARTBEAT_SECONDS = 15.0
IDLE_TIMEOUT_SECONDS = 10.0
IDLE_POLL_SECONDS = 0.002
IDLE_TURNS = 3  # quiet loop turns in a row, so work scheduled for the next turn is seen


class CloudControl:
    """Handlers for the cloud as a whole and its ACS resource."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self._idle_waiters = 0

    def routes(self) -> list[BaseRoute]:
        g = Guard(self.cloud.journal)
        return [
            Route("/info", g(self.info), methods=["GET"]),
            Route("/reset", g(self.reset), methods=["POST"]),
            Route("/phone-numbers", g(self.phone_numbers), methods=["GET", "POST"]),
            Route("/pstn/calls", g(self.pstn_calls), methods=["GET", "POST"]),
            Route("/pstn/calls/{rest:path}", g(self.pstn_action), methods=["POST"]),
            Route("/endpoints/rules", g(self.rules), methods=["GET", "PUT"]),
            Route("/media/recognize-results", g(self.recognize_results), methods=["POST"]),
            Route("/calls", g(self.calls), methods=["GET"]),
            Route("/journal", g(self.journal), methods=["GET"]),
            Route("/events", self.events, methods=["GET"]),
            Route("/idle", g(self.idle), methods=["GET"]),
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
            "graph": self._graph_info(),
            "caCertificatePath": str(cloud.certificates.ca_cert.resolve()),
            "urls": {"https": cloud.urls.https, "http": cloud.urls.http},
            "dataDir": str(cloud.config.data_dir.resolve()),
            "clock": cloud.config.clock,
            "profile": cloud.config.profile,
        }

    def _graph_info(self) -> dict[str, Any]:
        cloud = self.cloud
        demo = cloud.tenant.apps.get(DEMO_APP_CLIENT_ID)
        return {
            "baseUrl": cloud.urls.https + "/v1.0",
            "httpBaseUrl": cloud.urls.http + "/v1.0",
            "tenantId": cloud.tenant.tenant_id,
            "domain": cloud.tenant.domain,
            "authority": cloud.urls.https,
            "demoApp": {"clientId": demo.client_id, "clientSecret": demo.secrets[0]} if demo else None,
        }

    async def info(self, request: Request) -> Response:
        return JSONResponse(self.info_json())

    async def reset(self, request: Request) -> Response:
        self.cloud.reset()
        return JSONResponse(self.info_json())

    async def phone_numbers(self, request: Request) -> Response:
        numbers = self.cloud.resource.phone_numbers
        if request.method == "POST":
            number = check_number((await read_json(request)).get("phoneNumber"), "phoneNumber")
            if number in numbers:
                raise ControlError(409, "Conflict", f"{number} already belongs to the resource.")
            numbers.append(number)
            self.cloud.save()
            return JSONResponse({"phoneNumber": number}, status_code=201)
        return JSONResponse({"value": list(numbers)})

    # ------------------------------------------------------------------ phones

    async def pstn_calls(self, request: Request) -> Response:
        phones = self.cloud.phones
        if request.method == "GET":
            return JSONResponse({"value": [c.as_json() for c in phones.all_calls()]})
        body = await read_json(request)
        caller, callee = check_number(body.get("from"), "from"), check_number(body.get("to"), "to")
        record = phones.dial(caller, callee, str(body.get("displayName") or ""))
        return JSONResponse(
            {"serverCallId": record.server_call_id, "correlationId": record.correlation_id}, status_code=201
        )

    async def pstn_action(self, request: Request) -> Response:
        rest: str = request.path_params["rest"]
        server_call_id, _, action = rest.rpartition(":")
        body = await read_json(request)
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

    # ------------------------------------------------------------------ endpoints and media

    async def rules(self, request: Request) -> Response:
        endpoints = self.cloud.endpoints
        if request.method == "PUT":
            endpoints.load_rules((await read_json(request)).get("rules"))
            self.cloud.save()
        return JSONResponse({"rules": endpoints.dump_rules()})

    async def recognize_results(self, request: Request) -> Response:
        body = await read_json(request)
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

    async def events(self, request: Request) -> Response:
        """Server-Sent Events: every journal entry as it is recorded (``Last-Event-ID`` replays the gap;
        ``?after=latest`` starts from now, for a view that loads the current state itself)."""
        journal = self.cloud.journal
        last = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
        after = journal.latest_seq if last == "latest" else int(last) if last.isdigit() else 0
        return StreamingResponse(
            sse_stream(journal, after), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def idle(self, request: Request) -> Response:
        """Answer once nothing is happening: no other request being handled, no delivery being sent, no timer
        due. Tests wait on this instead of on the wall clock; a timer not yet due (a ring on the real clock,
        a retry) does not count."""
        try:
            timeout = float(request.query_params.get("timeoutSeconds", IDLE_TIMEOUT_SECONDS))
        except ValueError:
            raise ControlError(400, "BadRequest", "timeoutSeconds must be a number.") from None
        deadline = time.monotonic() + min(max(timeout, 0.0), 300.0)
        quiet_turns = 0
        self._idle_waiters += 1
        try:
            while quiet_turns < IDLE_TURNS:
                reasons = self._busy_besides_idle_waiters()
                quiet_turns = 0 if reasons else quiet_turns + 1
                if reasons and time.monotonic() > deadline:
                    raise ControlError(409, "Busy", "The local cloud is still busy: " + "; ".join(reasons) + ".")
                await asyncio.sleep(0 if not reasons else IDLE_POLL_SECONDS)
        finally:
            self._idle_waiters -= 1
        return JSONResponse({"idle": True, "now": self.cloud.clock.now().isoformat()})

    def _busy_besides_idle_waiters(self) -> list[str]:
        self.cloud.requests_in_flight -= self._idle_waiters
        try:
            return self.cloud.busy()
        finally:
            self.cloud.requests_in_flight += self._idle_waiters

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
        seconds = (await read_json(request)).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError(400, "BadRequest", "seconds must be a number >= 0.")
        ran = clock.advance(float(seconds))
        return JSONResponse({"now": clock.now().isoformat(), "timersRun": ran})


async def sse_stream(journal: Journal, after: int) -> AsyncIterator[str]:
    """Journal entries after ``after``, then live ones; a comment every 15 s keeps proxies from timing out."""
    queue = journal.subscribe()
    try:
        yield "retry: 1000\n\n"
        for entry in journal.entries(after=after):
            yield _sse(entry)
        while True:
            try:
                entry = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if entry.seq > after:
                yield _sse(entry)
    finally:
        journal.unsubscribe(queue)


def _sse(entry: JournalEntry) -> str:
    return f"id: {entry.seq}\nevent: journal\ndata: {json.dumps(entry.as_json())}\n\n"


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
