"""The call-control service against the local cloud (instant profile): bursts of 50 concurrent calls, each ringing
its own Teams user, from the IncomingCall delivery to the ringing client and on to the user in the call.

The emulator and the service each run in their own process (``bench.servers``), wired as ``callbridge up`` wires
them: the service's settings come from ``/emulator/info`` and it subscribes to Event Grid. Every call of a burst
dials its own resource number (added through the control API), whose routing rule rings one Teams user by display
name, a user who accepts at once; each burst uses fresh numbers and users, so every call takes the whole path:
IncomingCall, answer, CallConnected, Graph ``$search`` and presence, add participant (calls stay connected
afterwards). One burst warms both up and is not counted; then calls are placed one at a time, for the path's
latency without queueing.

Times come from one host clock read by both processes. From the emulator's journal: when the phone dialled, when
Event Grid sent the call's IncomingCall (attempt entries are dated by when they were sent), when the answer and add
requests reached the emulator's handlers, when the CallConnected callback was sent, each Graph exchange the call's
target caused, and when the user's Teams client showed the toast ("… is calling"). From the service's live change
stream (``/api/events``): when it recorded AddParticipantSucceeded. The IncomingCall-to-toast time of each call is
split by who held it: the emulator from an answer or add request reaching its handler to what that request causes
(CallConnected sent, the toast) and within each Graph exchange; the service for the rest, which includes the
network hops and the emulator's own reading of the request before its handler runs. CPU time is read from /proc for
each process around each burst (until the service has been quiet for a moment, so trailing callbacks count).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.graph import people
from bench.report import Benchmark, Section
from bench.servers import ServerProcess
from bench.stats import brief, median, milliseconds

CALLS = 50
ROUNDS = 3
SOLO_CALLS = 10
FIRST_NUMBER = 18_005_560_000
SOURCE_DISPLAY_NAME = "Contoso Support"
QUIET_SECONDS = 0.3
JOINED_TIMEOUT_SECONDS = 60.0
FAILED = ("AddParticipantFailed", "could not answer", "CallDisconnected", "AnswerFailed")


@dataclass(frozen=True)
class Agent:
    """A Teams user who accepts at once, and the resource number whose rule rings them."""

    user_id: str
    name: str
    number: str


@dataclass(frozen=True)
class Placed:
    """A call a phone placed to an agent's number."""

    caller: str
    server_call_id: str
    agent: Agent


@dataclass(frozen=True)
class Burst:
    """One burst's calls, the CPU each process spent on it, and when the service saw each call joined."""

    calls: list[Placed]
    joined: dict[str, datetime]
    emulator_cpu: float
    service_cpu: float
    client_cpu: float


@dataclass(frozen=True)
class Milestones:
    """One call's milestones (epoch seconds) and the emulator's part of the Graph exchanges it caused."""

    dialled: float
    delivered: float
    answer_received: float
    connected_sent: float
    add_received: float
    ringing: float
    joined: float
    graph: float

    @property
    def emulator(self) -> float:
        """IncomingCall to toast, the part spent in the emulator's handlers."""
        return (self.connected_sent - self.answer_received) + self.graph + (self.ringing - self.add_received)

    @property
    def service(self) -> float:
        """IncomingCall to toast, the rest: the service, and the hops between the two."""
        return (self.answer_received - self.delivered) + (self.add_received - self.connected_sent) - self.graph


class Changes:
    """The service's live change stream (``/api/events``): which caller each call key is, and when calls joined."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self._api = api
        self._callers: dict[str, str] = {}
        self.joined: dict[str, datetime] = {}
        self.failures: dict[str, str] = {}
        self.seen = 0
        self._open = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def following(cls, api: httpx.AsyncClient) -> AsyncIterator[Changes]:
        """Read the stream on a task for as long as the block runs."""
        changes = cls(api)
        task = asyncio.create_task(changes._read())
        try:
            await asyncio.wait_for(changes._open.wait(), 10)
            yield changes
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _read(self) -> None:
        async with self._api.stream("GET", "/api/events", timeout=None) as response:
            response.raise_for_status()
            self._open.set()
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    self._note(json.loads(line.removeprefix("data: ")))

    def _note(self, change: dict[str, Any]) -> None:
        self.seen += 1
        summary: str = change["summary"]
        if summary.startswith("IncomingCall from "):
            self._callers[change["callKey"]] = summary.split()[2]
        elif summary.startswith("AddParticipantSucceeded"):
            self.joined[self._callers[change["callKey"]]] = datetime.fromisoformat(change["at"])
        elif summary.startswith(FAILED):
            self.failures[self._callers.get(change["callKey"], change["callKey"])] = summary

    async def all_joined(self, callers: list[str]) -> None:
        """Wait until every caller's call has its Teams user in it; a failure or a timeout breaks the benchmark."""
        deadline = time.monotonic() + JOINED_TIMEOUT_SECONDS
        while not all(caller in self.joined for caller in callers):
            failed = next((caller for caller in callers if caller in self.failures), None)
            if failed is not None:
                raise RuntimeError(f"the call from {failed} was not routed: {self.failures[failed]}")
            if time.monotonic() > deadline:
                missing = sum(caller not in self.joined for caller in callers)
                raise RuntimeError(f"{missing} calls not joined within {JOINED_TIMEOUT_SECONDS:g} s")
            await asyncio.sleep(0.01)

    async def quiet(self) -> None:
        """Wait until no change has come for QUIET_SECONDS: the service has settled."""
        while True:
            seen = self.seen
            await asyncio.sleep(QUIET_SECONDS)
            if self.seen == seen:
                return


async def _checked(client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body)
    if response.is_error:
        raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
    return response.json()


async def _agents(control: httpx.AsyncClient, count: int, domain: str) -> list[Agent]:
    """``count`` Teams users who accept after 0 s, each with a new resource number of their own."""
    accept = {"action": "accept", "afterSeconds": 0}
    users = [
        {**user, "displayName": f"{user['displayName']} Agent{n}", "answer": accept}
        for n, user in enumerate(people(count, domain))
    ]
    created = await _checked(control, "POST", "/teams/users", {"value": users})
    agents = []
    for n, user in enumerate(created["value"]):
        number = f"+{FIRST_NUMBER + n}"
        await _checked(control, "POST", "/phone-numbers", {"phoneNumber": number})
        agents.append(Agent(user["id"], user["displayName"], number))
    return agents


def _routes(agents: list[Agent]) -> list[dict[str, Any]]:
    """One rule per number: ring its agent by display name (Graph search), hang up if nobody answers."""
    return [
        {
            "number": agent.number,
            "targets": [agent.name],
            "source_display_name": SOURCE_DISPLAY_NAME,
            "strategy": "first-available",
            "ring_timeout_seconds": 30,
            "fallback": {"action": "hangup"},
        }
        for agent in agents
    ]


def _when(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["time"]).timestamp()


class JournalIndex:
    """The emulator's journal entries by call id and by exchange, with the Graph requests apart."""

    def __init__(self, journal: list[dict[str, Any]]) -> None:
        self.by_id: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.by_exchange: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in journal:
            for key in {entry["serverCallId"], entry["callConnectionId"]} - {None}:
                self.by_id[key].append(entry)
            if entry["exchange"]:
                self.by_exchange[entry["exchange"]].append(entry)
        self.graph = [e for e in journal if e["kind"] == "request" and e["summary"].startswith("Graph ")]

    def first(self, call_id: str, kind: str, text: str) -> dict[str, Any]:
        """The call's first entry of this kind whose summary has ``text``."""
        entry = next((e for e in self.by_id[call_id] if e["kind"] == kind and text in e["summary"]), None)
        if entry is None:
            raise RuntimeError(f"no {kind} entry with {text!r} in the journal for call {call_id}")
        return entry

    def other_half(self, entry: dict[str, Any], kind: str) -> dict[str, Any]:
        """The request of a response, or the response of a request."""
        return next(e for e in self.by_exchange[entry["exchange"]] if e["kind"] == kind)

    def graph_seconds(self, agent: Agent) -> float:
        """Time inside the emulator's Graph handler for the searches and presence reads of this agent."""
        wanted = (f'displayName:{agent.name}"', f"/users/{agent.user_id}/presence")
        lookups = [e for e in self.graph if any(text in e["summary"] for text in wanted)]
        return sum(_when(self.other_half(request, "response")) - _when(request) for request in lookups)

    def milestones(self, call: Placed, joined: datetime) -> Milestones:
        """The call's milestones from the journal, and when the service saw it joined."""
        connected = self.first(call.server_call_id, "callback", "CallConnected")
        return Milestones(
            dialled=_when(self.first(call.server_call_id, "phone", "dials")),
            delivered=_when(self.first(call.server_call_id, "eventgrid", "IncomingCall")),
            answer_received=_when(
                self.other_half(self.first(call.server_call_id, "response", "AnswerCall"), "request")
            ),
            connected_sent=_when(connected),
            add_received=_when(self.first(connected["callConnectionId"], "request", "participants:add")),
            ringing=_when(self.first(call.server_call_id, "client", "is calling")),
            joined=joined.timestamp(),
            graph=self.graph_seconds(call.agent),
        )


class Testbed:
    """The emulator and the service in their processes, the control API, and the service's change stream."""

    def __init__(
        self, control: httpx.AsyncClient, changes: Changes, emulator: ServerProcess, service: ServerProcess
    ) -> None:
        self.control = control
        self.changes = changes
        self.emulator = emulator
        self.service = service
        self._bursts = 0
        self._journal_seq = 0

    async def burst(self, agents: list[Agent]) -> Burst:
        """Every agent's number dialled at once; back when all are joined and the service is quiet."""
        self._bursts += 1

        async def dial(n: int, agent: Agent) -> Placed:
            caller = f"+1425{self._bursts:03d}{n:04d}"
            placed = await _checked(self.control, "POST", "/pstn/calls", {"from": caller, "to": agent.number})
            return Placed(caller, placed["serverCallId"], agent)

        emulator_cpu, service_cpu, client_cpu = self.emulator.cpu(), self.service.cpu(), time.process_time()
        calls = await asyncio.gather(*(dial(n, agent) for n, agent in enumerate(agents)))
        await self.changes.all_joined([call.caller for call in calls])
        await self.changes.quiet()
        return Burst(
            calls,
            {call.caller: self.changes.joined[call.caller] for call in calls},
            self.emulator.cpu() - emulator_cpu,
            self.service.cpu() - service_cpu,
            time.process_time() - client_cpu,
        )

    async def milestones(self, burst: Burst) -> list[Milestones]:
        """The burst's calls in the journal entries recorded since the last look."""
        journal = (await _checked(self.control, "GET", f"/journal?after={self._journal_seq}"))["value"]
        self._journal_seq = journal[-1]["seq"]
        index = JournalIndex(journal)
        return [index.milestones(call, burst.joined[call.caller]) for call in burst.calls]


def _summary(calls: list[Milestones]) -> dict[str, Any]:
    """Latencies and the wall-time split of these calls."""
    emulator_wall = sum(call.emulator for call in calls)
    return {
        "calls": len(calls),
        "incoming_call_to_ringing_ms": milliseconds([c.ringing - c.delivered for c in calls]),
        "dial_to_ringing_ms": milliseconds([c.ringing - c.dialled for c in calls]),
        "dial_to_joined_ms": milliseconds([c.joined - c.dialled for c in calls]),
        "incoming_call_to_ringing_split_ms": {
            "emulator": milliseconds([c.emulator for c in calls]),
            "service": milliseconds([c.service for c in calls]),
            "emulator_share": round(emulator_wall / (emulator_wall + sum(c.service for c in calls)), 3),
            "segments": {
                "service: IncomingCall sent -> answer request in the emulator's handler": milliseconds(
                    [c.answer_received - c.delivered for c in calls]
                ),
                "emulator: answer request -> CallConnected sent": milliseconds(
                    [c.connected_sent - c.answer_received for c in calls]
                ),
                "service: CallConnected sent -> add request in the emulator's handler, less Graph": milliseconds(
                    [c.add_received - c.connected_sent - c.graph for c in calls]
                ),
                "emulator: in its Graph handler for the target's search and presence": milliseconds(
                    [c.graph for c in calls]
                ),
                "emulator: add request -> toast": milliseconds([c.ringing - c.add_received for c in calls]),
            },
        },
    }


def _cpu(bursts: list[Burst]) -> dict[str, Any]:
    """CPU per call of each process over the bursts (/proc counts in 10 ms ticks: only bursts make this precise)."""
    calls = sum(len(burst.calls) for burst in bursts)
    emulator = sum(burst.emulator_cpu for burst in bursts)
    service = sum(burst.service_cpu for burst in bursts)
    return {
        "emulator": round(emulator / calls * 1000, 2),
        "service": round(service / calls * 1000, 2),
        "emulator_share": round(emulator / (emulator + service), 3),
        "load_generator": round(sum(burst.client_cpu for burst in bursts) / calls * 1000, 2),
    }


async def _measure(bed: Testbed, agents: list[Agent]) -> dict[str, Any]:
    """A warm-up burst, ROUNDS measured bursts of CALLS, then SOLO_CALLS one at a time; each on fresh agents."""
    groups = [agents[n * CALLS : (n + 1) * CALLS] for n in range(ROUNDS + 1)]
    await bed.burst(groups[0])
    bursts: list[Burst] = []
    routed: list[list[Milestones]] = []
    for group in groups[1:]:
        bursts.append(await bed.burst(group))
        routed.append(await bed.milestones(bursts[-1]))
    rates = [len(calls) / (max(c.joined for c in calls) - min(c.dialled for c in calls)) for calls in routed]
    solo: list[Milestones] = []
    for agent in agents[(ROUNDS + 1) * CALLS :]:
        solo.extend(await bed.milestones(await bed.burst([agent])))
    return {
        "concurrent": {
            "concurrency": CALLS,
            "bursts": ROUNDS,
            **_summary([call for calls in routed for call in calls]),
            "calls_routed_per_second": round(median(rates), 1),
            "calls_routed_per_second_per_burst": [round(rate, 1) for rate in rates],
            "calls_routed_per_second_is": f"{CALLS} calls / (last joined - first dialled), median over bursts",
            "cpu_ms_per_call": _cpu(bursts),
        },
        "one_at_a_time": _summary(solo),
    }


async def run(workdir: Path) -> Section:
    (workdir / "service").mkdir(parents=True, exist_ok=True)
    with ServerProcess.emulator(workdir / "emulator") as emulator:
        async with httpx.AsyncClient(base_url=emulator.urls["http"] + "/emulator", timeout=30) as control:
            info = await _checked(control, "GET", "/info")
            agents = await _agents(control, (ROUNDS + 1) * CALLS + SOLO_CALLS, info["graph"]["domain"])
            routes = workdir / "routes.json"
            routes.write_text(json.dumps(_routes(agents)))
            api_key = secrets.token_urlsafe(18)
            with ServerProcess.service(emulator.urls["http"], workdir / "service", api_key, routes) as service:
                subscription = {"name": "callbridge", "endpoint": service.urls["http"] + "/eventgrid"}
                await _checked(control, "POST", "/eventgrid/subscriptions", subscription)
                async with (
                    httpx.AsyncClient(base_url=service.urls["http"], headers={"X-API-Key": api_key}) as api,
                    Changes.following(api) as changes,
                ):
                    measured = await _measure(Testbed(control, changes, emulator, service), agents)
    data = {
        **measured,
        "profile": "instant",
        "transport": "Event Grid and callbacks over HTTP to the service; the service's ACS requests over HTTPS,"
        " its Graph and token requests over HTTP (httpBaseUrl) and HTTPS (authority)",
        "measured_from": "IncomingCall: the Event Grid attempt's journal entry (dated when it was sent);"
        " dial: the phone's journal entry",
        "measured_to": "ringing: the Teams client's toast entry in the journal; joined: AddParticipantSucceeded on"
        " the service's change stream",
        "targets": "n/a: the issue sets none for the service",
    }
    concurrent, solo = data["concurrent"], data["one_at_a_time"]
    cpu = concurrent["cpu_ms_per_call"]
    lines = [
        f"service c={CALLS:<10}IncomingCall -> toast {brief(concurrent['incoming_call_to_ringing_ms'])};"
        f" dial -> joined {brief(concurrent['dial_to_joined_ms'])}; {concurrent['calls_routed_per_second']:.0f}"
        " calls routed/s",
        f"{'':20}CPU per call: emulator {cpu['emulator']:.1f} ms, service {cpu['service']:.1f} ms"
        f" ({cpu['emulator_share']:.0%} emulator); wall time in the emulator's handlers"
        f" {concurrent['incoming_call_to_ringing_split_ms']['emulator_share']:.0%}",
        f"service c=1         IncomingCall -> toast {brief(solo['incoming_call_to_ringing_ms'])};"
        f" dial -> joined {brief(solo['dial_to_joined_ms'])}; wall time in the emulator's handlers"
        f" {solo['incoming_call_to_ringing_split_ms']['emulator_share']:.0%}",
    ]
    return Section("service", data, lines)


BENCHMARK = Benchmark("service", "service", run)
