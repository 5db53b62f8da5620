"""The local cloud assembled: one clock, one journal, the ACS resource, Event Grid, phones and the Teams tenant."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from typing import Any

import httpx

from callbridge.emulator.acs.api import CallAutomationApi
from callbridge.emulator.acs.callbacks import CallbackDispatcher
from callbridge.emulator.acs.calls import CallConnection, IncomingCallOffer
from callbridge.emulator.acs.engine import CallEngine
from callbridge.emulator.acs.media import CallMedia
from callbridge.emulator.acs.repeatability import RepeatabilityStore
from callbridge.emulator.acs.resource import AcsResource, IdFactory
from callbridge.emulator.acs.routes import CallAutomationRoutes
from callbridge.emulator.acs.timings import Timings
from callbridge.emulator.certs import CertificatePaths, ensure_certificates
from callbridge.emulator.clock import Clock, RealClock, VirtualClock
from callbridge.emulator.config import EmulatorConfig
from callbridge.emulator.endpoints import Endpoints
from callbridge.emulator.entra.tokens import TokenService
from callbridge.emulator.eventgrid.delivery import EventGrid
from callbridge.emulator.journal import Journal
from callbridge.emulator.keys import SigningKey
from callbridge.emulator.persistence import StateFile, Writer
from callbridge.emulator.pstn import PhoneNetwork
from callbridge.emulator.seed import seed_demo
from callbridge.emulator.teams.clients import TeamsClients
from callbridge.emulator.teams.tenant import TeamsTenant

INCOMING_CALL = "Microsoft.Communication.IncomingCall"


@dataclass(frozen=True)
class Urls:
    """Where the running emulator can be reached."""

    https: str
    http: str


class Outbox:
    """The engine's event sink: callbacks to apps, IncomingCall to Event Grid."""

    def __init__(self, callbacks: CallbackDispatcher, eventgrid: EventGrid) -> None:
        self.callbacks = callbacks
        self.eventgrid = eventgrid

    def callback(self, connection: CallConnection, uri: str, event_type: str, data: dict[str, Any]) -> None:
        self.callbacks.send(connection, uri, event_type, data)

    def incoming_call(self, offer: IncomingCallOffer, data: dict[str, Any]) -> None:
        subject = f"/caller/{offer.caller.raw_id}/recipient/{offer.to.raw_id}"
        self.eventgrid.publish(INCOMING_CALL, subject, data, offer.call.ids)


class LocalCloud:
    """Owns every emulated service and their shared state; the HTTP layer only translates to it."""

    def __init__(self, config: EmulatorConfig, urls: Urls) -> None:
        self.config = config
        self.urls = urls
        self.requests_in_flight = 0
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.certificates: CertificatePaths = ensure_certificates(config.data_dir / "tls")
        self.signing_key = SigningKey.load_or_create(config.data_dir / "callback-signing-key.pem")
        self.entra_key = SigningKey.load_or_create(config.data_dir / "entra-signing-key.pem")
        self.state_file = StateFile(config.data_dir / "state.json")
        self.state_writer = Writer(self.state_file.path)
        self.clock: Clock = VirtualClock() if config.clock == "virtual" else RealClock()
        self.journal = Journal(self.clock)
        self.ids = IdFactory(config.seed_ids)
        timings = Timings.profile(config.profile)
        if config.incoming_call_window_seconds is not None:
            timings = replace(timings, incoming_call_window=config.incoming_call_window_seconds)
        self.timings = timings
        saved = self.state_file.load()
        self.resource = AcsResource.from_json(saved["resource"]) if saved else AcsResource.create(self.ids)
        self.tenant = TeamsTenant(self.clock.time)
        if saved:
            self.tenant.tenant_id = saved.get("tenant", {}).get("tenantId", self.tenant.tenant_id)
        self.tokens = TokenService(self.clock, self.entra_key, self.tenant.tenant_id)
        # a small keep-alive pool: httpx scans every pooled connection on each request
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self.http = httpx.AsyncClient(verify=self._outbound_tls(), follow_redirects=False, limits=limits)
        self.eventgrid = EventGrid(
            self.clock,
            self.journal,
            self.http,
            topic=self.topic,
            policy=config.eventgrid_policy,
            validation_base_url=urls.https,
        )
        self.callbacks = CallbackDispatcher(
            self.clock,
            self.journal,
            self.http,
            self.signing_key,
            audience=self.resource.immutable_id,
            ids=self.ids,
            issuer=config.callback_issuer,
            policy=config.callback_policy,
        )
        self._build_call_services()
        if saved:
            self._restore(saved)
        else:
            self._seed()
            self.save()

    def _build_call_services(self) -> None:
        """Engine, media, clients, phones and endpoint routing; rebuilt from scratch on reset."""
        self.teams = TeamsClients(
            self.tenant, self.clock, self.journal, self.resource.immutable_id, self.timings.gate_failure
        )
        self.phones = PhoneNetwork(self.clock, self.journal, self.resource.phone_numbers)
        self.endpoints = Endpoints(self.clock, self.resource, self.tenant, self.teams, self.phones)
        self.engine = CallEngine(
            self.clock,
            self.resource,
            self.journal,
            self.timings,
            self.endpoints,
            Outbox(self.callbacks, self.eventgrid),
            self.ids,
        )
        self.teams.engine = self.engine
        self.teams.naming = self.endpoints
        self.phones.engine = self.engine
        self.endpoints.engine = self.engine
        self.media = CallMedia(self.engine)
        wall_clock = RealClock()  # client timestamps (x-ms-date, Repeatability-First-Sent) are wall-clock time
        self.repeatability = RepeatabilityStore(wall_clock)
        self.acs_api = CallAutomationApi(
            CallAutomationRoutes(self.engine, self.media).operations(),
            self.resource,
            wall_clock,
            self.journal,
            self.repeatability,
            self.config.hmac_skew_seconds,
        )

    @property
    def topic(self) -> str:
        return (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/callbridge-local/providers/"
            f"Microsoft.Communication/communicationServices/{self.resource.name}"
        )

    @property
    def connection_string(self) -> str:
        return self.resource.connection_string(self.urls.https)

    def _outbound_tls(self) -> ssl.SSLContext:
        """Trust the system roots and the local CA, so callbacks may go to https URLs the emulator signed."""
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=str(self.certificates.ca_cert))
        return context

    def _seed(self) -> None:
        if self.config.seed == "demo":
            seed_demo(self)

    def _restore(self, saved: dict[str, Any]) -> None:
        self.tenant.load(saved.get("tenant", {}), self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.eventgrid.load(saved.get("eventGrid", []))
        self.endpoints.load_rules(saved.get("endpointRules", []))

    def save(self) -> None:
        """Snapshot tenant, numbers, subscriptions and rules now; the file is written atomically, in order,
        off the event loop."""
        state = {
            "resource": self.resource.as_json(),
            "tenant": self.tenant.as_json(),
            "eventGrid": self.eventgrid.dump(),
            "endpointRules": self.endpoints.dump_rules(),
        }
        self.state_writer.write(self.state_file.encode(state))

    def busy(self) -> list[str]:
        """What is still happening: requests being handled, deliveries being sent, timers due; empty when idle."""
        reasons = []
        if self.requests_in_flight:
            reasons.append(f"{self.requests_in_flight} request(s) being handled")
        if callbacks := self.callbacks.pending():
            reasons.append(f"{callbacks} callback(s) to deliver")
        if deliveries := self.eventgrid.pending():
            reasons.append(f"{deliveries} Event Grid deliveries in flight")
        if self.clock.due_now():
            reasons.append("timers due")
        return reasons

    def reset(self) -> None:
        """Forget calls, journal, tenant, numbers, subscriptions and rules; re-apply the seed. Keys stay."""
        self.callbacks.reset()
        self.eventgrid.reset()
        self.journal.clear()
        self.resource.phone_numbers.clear()
        self.tenant = TeamsTenant(self.clock.time, self.tenant.tenant_id, self.tenant.domain)
        self._build_call_services()
        self._seed()
        self.save()

    async def aclose(self) -> None:
        """Cancel in-flight deliveries, wait for them to wind down, and release the HTTP client."""
        self.callbacks.reset()
        self.eventgrid.reset()
        await self.callbacks.drain()
        await self.eventgrid.drain()
        await self.http.aclose()
        self.state_writer.close()
