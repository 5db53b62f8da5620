"""The operator API fuzzed from its own OpenAPI document: no generated request may get a 5xx.

Schemathesis generates valid and invalid requests for every operation the live service publishes at
``/api/openapi.json``; each is sent with the operator key to a service that has a connected call, and about
every other request aims at that call (now and then at a real participant or Teams user too), so the fuzzing
reaches past "no such call" into the code that acts on calls. Every 5xx is collected, with a curl command
that reproduces it, and reported together at the end.

(``schemathesis.pytest.from_fixture`` would be the idiomatic way to load a schema from a live server, but
schemathesis 4.32 reads ``request.node._nodeid``, which pytest 9 no longer has; so Hypothesis is driven here
directly with each operation's strategy.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from callbridge.emulator.seed import DEMO_NUMBER
from callbridge.service.settings import RoutingRule
from tests.support.fixtures import StartService
from tests.support.scenario import CALLER
from tests.support.service import API_KEY, ServiceEnv

EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}
REAL_PEOPLE = [
    "Art Anderson",
    "Alex Wilber",
    "Megan Bowen",
    CALLER,
    f"4:{CALLER}",
    "artanderson@contoso.onmicrosoft.com",
]
HEADERS = {"X-API-Key": API_KEY}


class LiveCall:
    """A connected call on a live service; dialled again whenever a fuzzed request has ended or moved it."""

    def __init__(self, env: ServiceEnv) -> None:
        self.env = env
        self.key = self._dial()
        self.turn = itertools.count()

    def _dial(self) -> str:
        """A newly answered call with Alex Wilber being rung (he lets it ring), so there is a ring to cancel."""
        key = self.env.answered()
        ring = {"user": "Alex Wilber", "timeoutSeconds": 180}
        self.env.cloud.ok(self.env.api.post(f"/calls/{key}/participants", json=ring))
        return key

    def current(self) -> str:
        if self.env.call(self.key)["call"]["state"] != "connected":
            self.key = self._dial()
        return self.key

    def aim(self, case: Any) -> None:
        """Point about half the cases at the live call, a quarter at people who exist; such cases never wait."""
        turn = next(self.turn)
        person = REAL_PEOPLE[(turn // 4) % len(REAL_PEOPLE)]
        parameters = case.path_parameters if isinstance(case.path_parameters, dict) else {}
        body = case.body if isinstance(case.body, dict) else {}
        if turn % 4 == 0:
            for name in ("user", "who"):
                if name in parameters:
                    parameters[name] = person
            for name in ("user", "target"):
                if isinstance(body.get(name), str):
                    body[name] = person
        if "call" not in parameters or turn % 2:
            return
        parameters["call"] = self.current()
        # wait=true holds the request until ACS settles the operation (up to 60 s by design): not for fuzzing.
        if "wait" in body:
            body["wait"] = False
        if isinstance(case.query, dict) and "wait" in case.query:
            case.query["wait"] = False


@dataclass
class Findings:
    sent: int = 0
    statuses: dict[str, set[int]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)


@pytest.fixture
def live(start_service: StartService) -> LiveCall:
    # Answer only: nobody is rung by routing, so the fuzzer's own requests are all that happens to the call.
    return LiveCall(start_service(routes=[RoutingRule(number=DEMO_NUMBER, strategy="none")]))


def test_no_generated_operator_request_gets_a_server_error(live: LiveCall) -> None:
    schema = schemathesis.openapi.from_url(live.env.url + "/api/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the service's OpenAPI document has an invalid operation: {result.err()}"
        operations.append(result.ok())
    labels = {operation.label for operation in operations}
    assert {"GET /api/calls/{call}", "POST /api/calls/{call}/participants", "GET /api/audit"} <= labels
    findings = Findings()

    for operation in operations:
        for mode, examples in EXAMPLES.items():
            fuzz(operation, mode, examples, live, findings)

    assert findings.sent >= len(operations) * 20
    hit_live_call = findings.statuses.get("GET /api/calls/{call}", set())
    assert 200 in hit_live_call and 404 in hit_live_call, findings.statuses
    assert not findings.server_errors, f"{len(findings.server_errors)} server errors:\n\n" + "\n\n".join(
        findings.server_errors
    )


def fuzz(operation: Any, mode: GenerationMode, examples: int, live: LiveCall, findings: Findings) -> None:
    reported: set[tuple[int, str]] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Any) -> None:
        live.aim(case)
        response = case.call(base_url=live.env.url, headers=HEADERS, timeout=20)
        findings.sent += 1
        findings.statuses.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=HEADERS)
        except (AssertionError, BaseExceptionGroup):
            message = _error_message(response)
            if (response.status_code, message) not in reported:  # one report per distinct error and operation
                reported.add((response.status_code, message))
                findings.server_errors.append(
                    f"{operation.label} ({mode.value}) → {response.status_code} {response.text[:300]}\n"
                    f"  {case.as_curl_command(headers=HEADERS)}"
                )

    try:
        send()
    except Unsatisfiable:
        # Nothing to get wrong (GET /api/health has no parameters): no negative case exists.
        assert mode is GenerationMode.NEGATIVE, f"no valid request could be generated for {operation.label}"


def _error_message(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])[:80]
    except (ValueError, KeyError, TypeError):
        return str(response.text)[:80]
