"""Graph user search over a 10,000-user tenant, and Entra token issuance, beside a bare endpoint on the same stack.

The tenant is filled through the control API in batches with people named from 100 first names and 100 surnames,
so each ``$search`` of the rotation (``"displayName:Art Anderson"`` and three more) matches a handful of them.
Searches are sent as the service's Graph client sends them (``$search``, ``$count``, ``$select``, ``$top=25`` and
``ConsistencyLevel: eventual``), over HTTPS with one app-only token from the emulator's token endpoint; token
requests are client-credentials form POSTs for the demo app. Each worker has its own HTTPS connection. The bare
baseline (a trivial Starlette app on the same uvicorn/TLS stack, in its own process like the emulator) answers
the same requests with a canned body: the emulator's answer to the first search, and a token response it issued.
Emulator and baseline run in alternating rounds per concurrency; ratios are medians of the per-round ratios, and
server CPU per request says what the ratio would be if each server, not the load generator, were the bottleneck.
"""

from __future__ import annotations

import itertools
import ssl
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

import httpx

from bench.emulator import EmulatorUnderTest
from bench.load import Run, closed_loop
from bench.report import Benchmark, Section
from bench.servers import ServerProcess
from bench.stats import brief, median, milliseconds

TENANT_USERS = 10_000
BATCH = 1_000
CONCURRENCY = (1, 16)
ROUNDS = 3
ROUND_SECONDS = 1.5
WARM_UP_SECONDS = 0.5
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
SELECT = "id,displayName,userPrincipalName,mail,jobTitle,department,userType,accountEnabled"
QUERIES = ("Art Anderson", "Megan Bow", "Sam Ng", "Lina Wa")
FIRST_NAMES = (
    "Aaron", "Abigail", "Adam", "Adrian", "Aisha", "Alan", "Alice", "Amara", "Amir", "Ana",
    "Andre", "Angela", "Anil", "Anna", "Arjun", "Art", "Arthur", "Arturo", "Artem", "Beatriz",
    "Ben", "Bianca", "Carla", "Carlos", "Chen", "Chloe", "Daniel", "Daria", "David", "Deepa",
    "Diana", "Dmitri", "Elena", "Elif", "Emma", "Eric", "Fatima", "Felix", "Fiona", "Gabriel",
    "Grace", "Hana", "Hannah", "Hassan", "Hugo", "Ines", "Ingrid", "Isabel", "Ivan", "Jack",
    "James", "Jana", "Javier", "Jin", "Joao", "Julia", "Kai", "Karim", "Kate", "Kenji",
    "Lars", "Laura", "Leo", "Lina", "Lucas", "Maria", "Mark", "Maya", "Megan", "Mei",
    "Miguel", "Nadia", "Nina", "Noah", "Nora", "Olga", "Omar", "Oscar", "Paul", "Pedro",
    "Priya", "Rahul", "Rosa", "Ruth", "Ryan", "Sam", "Samir", "Samuel", "Sara", "Sofia",
    "Stefan", "Tariq", "Tom", "Uma", "Victor", "Wei", "Yara", "Yuki", "Zara", "Zoe",
)  # fmt: skip
SURNAMES = (
    "Abbott", "Adeyemi", "Ahmed", "Alvarez", "Anderson", "Andrews", "Bauer", "Becker", "Bowen", "Bowman",
    "Brooks", "Campbell", "Chen", "Costa", "Cruz", "Das", "Dubois", "Edwards", "Eriksson", "Evans",
    "Fernandes", "Fischer", "Garcia", "Gomez", "Gupta", "Hansen", "Harris", "Hoffmann", "Hughes", "Ibrahim",
    "Ito", "Jansen", "Jensen", "Johnson", "Kaur", "Keller", "Kelly", "Khan", "Kim", "Kowalski",
    "Kumar", "Larsen", "Laurent", "Lee", "Lopez", "Martin", "Meyer", "Morales", "Moreau", "Muller",
    "Murphy", "Nakamura", "Ng", "Nguyen", "Nielsen", "Novak", "Okafor", "Olsen", "Ortiz", "Park",
    "Patel", "Perez", "Petrov", "Quinn", "Ramos", "Reyes", "Richter", "Rossi", "Russo", "Sato",
    "Schmidt", "Schneider", "Silva", "Singh", "Smith", "Sousa", "Suzuki", "Tanaka", "Taylor", "Thomas",
    "Torres", "Tran", "Turner", "Vargas", "Volkov", "Wagner", "Walker", "Wang", "Weber", "White",
    "Wilson", "Wong", "Wright", "Xu", "Yamamoto", "Yang", "Young", "Zhang", "Zhou", "Zimmermann",
)  # fmt: skip
DEPARTMENTS = ("Sales", "Support", "Engineering", "Finance", "Marketing", "Operations", "Legal", "People")
TITLES = ("Associate", "Specialist", "Engineer", "Manager", "Analyst", "Director", "Consultant")
CITIES = ("Seattle", "Dublin", "Singapore", "Berlin", "Sao Paulo", "Toronto", "Sydney", "Nairobi")

Operation = Callable[[], Awaitable[float]]


def people(count: int, domain: str) -> list[dict[str, Any]]:
    """``count`` tenant users with varied names, titles, departments and offices; each UPN is first.last@domain."""
    pairs = itertools.islice(itertools.product(FIRST_NAMES, SURNAMES), count)
    return [
        {
            "displayName": f"{first} {last}",
            "userPrincipalName": f"{first}.{last}@{domain}".lower(),
            "jobTitle": f"{DEPARTMENTS[n % len(DEPARTMENTS)]} {TITLES[n % len(TITLES)]}",
            "department": DEPARTMENTS[n % len(DEPARTMENTS)],
            "officeLocation": CITIES[n % len(CITIES)],
            "city": CITIES[n % len(CITIES)],
        }
        for n, (first, last) in enumerate(pairs)
    ]


def search_path(query: str) -> str:
    """``GET /v1.0/users`` as the service's Graph client asks for a name."""
    options = {"$count": "true", "$search": f'"displayName:{query}"', "$select": SELECT, "$top": "25"}
    return "/v1.0/users?" + urlencode(options, safe="$,")


def _client(base_url: str, tls: ssl.SSLContext, headers: dict[str, str]) -> httpx.AsyncClient:
    """One kept-alive HTTPS connection, as each worker gets."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=base_url, verify=tls, limits=limits, timeout=30, headers=headers)


def _timed(client: httpx.AsyncClient, method: str, paths: list[str], content: bytes | None = None) -> Operation:
    """Send the requests of ``paths`` in turn, forever; each answer must be 200; its latency in seconds."""
    rotation = itertools.cycle(paths)

    async def once() -> float:
        path = next(rotation)
        started = time.perf_counter()
        response = await client.request(method, path, content=content)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
        return elapsed

    return once


def _digest(runs: list[Run[float]]) -> dict[str, Any]:
    return {
        "throughput_rps": round(median([run.throughput for run in runs]), 1),
        "throughput_rps_per_round": [round(run.throughput, 1) for run in runs],
        "latency_ms": milliseconds([sample for run in runs for sample in run.samples]),
        "server_cpu_ms_per_request": round(median([run.server_cpu_ms_per_operation for run in runs]), 3),
        "client_cpu_ms_per_request": round(median([run.client_cpu_ms_per_operation for run in runs]), 3),
    }


async def side_by_side(
    targets: dict[str, tuple[Callable[[int], list[Operation]], ServerProcess]],
) -> dict[str, Any]:
    """Per concurrency: a warm-up on each, then alternating rounds; digests of both and the emulator/bare ratios."""
    levels: dict[str, Any] = {}
    for concurrency in CONCURRENCY:
        workers = {name: (make(concurrency), process) for name, (make, process) in targets.items()}
        for operations, process in workers.values():
            await closed_loop(operations, WARM_UP_SECONDS, process)
        runs: dict[str, list[Run[float]]] = {name: [] for name in workers}
        for round_number in range(ROUNDS):
            for name in list(workers)[:: 1 if round_number % 2 == 0 else -1]:
                operations, process = workers[name]
                runs[name].append(await closed_loop(operations, ROUND_SECONDS, process))
        pairs = list(zip(runs["emulator"], runs["bare"], strict=True))
        emulated, bare = _digest(runs["emulator"]), _digest(runs["bare"])
        levels[f"concurrency_{concurrency}"] = {
            "concurrency": concurrency,
            "rounds": ROUNDS,
            "seconds_per_round": ROUND_SECONDS,
            "emulator": emulated,
            "bare": bare,
            "throughput_ratio": round(median([e.throughput / b.throughput for e, b in pairs]), 3),
            "cpu_bound_throughput_ratio": round(
                median([b.server_cpu_ms_per_operation / e.server_cpu_ms_per_operation for e, b in pairs]), 3
            ),
            "latency_p50_ratio": round(emulated["latency_ms"]["p50"] / bare["latency_ms"]["p50"], 2),
        }
    return levels


async def _checked(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = await client.request(method, path, **kwargs)
    if response.is_error:
        raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
    return response


async def fill_tenant(emulator: EmulatorUnderTest) -> float:
    """Bring the tenant to TENANT_USERS users in batches; the seconds it took."""
    started = time.perf_counter()
    existing = len((await emulator.call_control("GET", "/teams/users"))["value"])
    added = people(TENANT_USERS - existing, emulator.info["graph"]["domain"])
    for start in range(0, len(added), BATCH):
        await emulator.call_control("POST", "/teams/users", {"value": added[start : start + BATCH]})
    return time.perf_counter() - started


def _token_form(graph: dict[str, Any]) -> bytes:
    """The client-credentials form of the demo app, for a Graph token."""
    app = graph["demoApp"]
    fields = {"client_id": app["clientId"], "client_secret": app["clientSecret"], "scope": GRAPH_SCOPE}
    return urlencode({**fields, "grant_type": "client_credentials"}).encode()


def _lines(users: int, fill_seconds: float, matches: dict[str, int], levels: dict[str, Any]) -> list[str]:
    queries = ", ".join(f"{query!r} {count}" for query, count in matches.items())
    lines = [f"graph tenant        {users:,} users (filled in {fill_seconds:.1f} s); matches: {queries}"]
    for label, unit, section in (("user $search", "req/s", "user_search"), ("token issuance", "tokens/s", "tokens")):
        for level in levels[section].values():
            emulated, bare = level["emulator"], level["bare"]
            lines.append(
                f"{label + ' c=' + str(level['concurrency']):<20}"
                f"emulator {emulated['throughput_rps']:.0f} {unit} ({brief(emulated['latency_ms'])})"
                f" | bare {bare['throughput_rps']:.0f} ({brief(bare['latency_ms'])});"
                f" ratio {level['throughput_ratio']:.2f}, by server CPU {level['cpu_bound_throughput_ratio']:.2f}"
            )
    return lines


async def run(workdir: Path) -> Section:
    workdir.mkdir(parents=True, exist_ok=True)
    async with EmulatorUnderTest.running(workdir / "emulator") as emulator, AsyncExitStack() as clients:

        def client(base_url: str, headers: dict[str, str]) -> httpx.AsyncClient:
            made = _client(base_url, emulator.tls, headers)
            clients.push_async_callback(made.aclose)
            return made

        fill_seconds = await fill_tenant(emulator)
        https, tenant = emulator.info["urls"]["https"], emulator.info["graph"]["tenantId"]
        token_path, form = f"/{tenant}/oauth2/v2.0/token", _token_form(emulator.info["graph"])
        form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        setup = client(https, form_headers)
        issued = await _checked(setup, "POST", token_path, content=form)
        bearer = {
            "Authorization": f"Bearer {issued.json()['access_token']}",
            "ConsistencyLevel": "eventual",
            "Accept": "application/json",
        }
        answers = {query: await _checked(setup, "GET", search_path(query), headers=bearer) for query in QUERIES}
        (workdir / "search.json").write_bytes(answers[QUERIES[0]].content)
        (workdir / "token.json").write_bytes(issued.content)
        paths = [search_path(query) for query in QUERIES]

        def searching(url: str) -> Callable[[int], list[Operation]]:
            """Workers each starting at another query of the rotation."""
            rotations = [paths[k:] + paths[:k] for k in range(len(paths))]
            return lambda n: [_timed(client(url, bearer), "GET", rotations[k % len(paths)]) for k in range(n)]

        def issuing(url: str) -> Callable[[int], list[Operation]]:
            return lambda n: [_timed(client(url, form_headers), "POST", [token_path], form) for _ in range(n)]

        with ServerProcess.bare(*emulator.server_certificate, workdir / "search.json", workdir / "token.json") as bare:
            servers = {"emulator": (https, emulator.process), "bare": (bare.urls["https"], bare)}
            levels = {
                "user_search": await side_by_side({name: (searching(url), p) for name, (url, p) in servers.items()}),
                "tokens": await side_by_side({name: (issuing(url), p) for name, (url, p) in servers.items()}),
            }
        users = len((await emulator.call_control("GET", "/teams/users"))["value"])
    matches = {query: answer.json()["@odata.count"] for query, answer in answers.items()}
    data = {
        "user_search": {
            "tenant_users": users,
            "tenant_fill_seconds": round(fill_seconds, 1),
            "transport": "HTTPS, one kept-alive connection per worker",
            "request": f"GET {unquote(search_path('<query>'))} with ConsistencyLevel: eventual and a Graph app token",
            "queries": {
                f"displayName:{query}": {"matches": matches[query], "bytes": len(answers[query].content)}
                for query in QUERIES
            },
            "bare_body_bytes": len(answers[QUERIES[0]].content),
            **levels["user_search"],
            "targets": "n/a: the issue sets none for Graph search",
        },
        "token_issuance": {
            "transport": "HTTPS, one kept-alive connection per worker",
            "request": f"POST /{{tenant}}/oauth2/v2.0/token, client_credentials form for the demo app, scope {GRAPH_SCOPE}",
            "bare_body_bytes": len(issued.content),
            **levels["tokens"],
            "targets": "n/a: the issue sets none for token issuance",
        },
    }
    return Section("graph", data, _lines(users, fill_seconds, matches, levels))


BENCHMARK = Benchmark("graph", "graph", run)
