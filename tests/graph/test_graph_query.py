"""The Graph query languages in-process: $search tokenizing and matching, $filter parsing, fuzzing, and the
latency of a $search over a 10,000-user tenant."""

from __future__ import annotations

import random
import statistics
import time
from types import SimpleNamespace
from typing import Any

import pytest

from callbridge.emulator.clock import RealClock
from callbridge.emulator.entra.tokens import Principal
from callbridge.emulator.graph import users as directory
from callbridge.emulator.graph.errors import GraphError
from callbridge.emulator.graph.odata import compile_filter, parse_filter
from callbridge.emulator.graph.options import QueryString
from callbridge.emulator.graph.routes import Call, GraphApi
from callbridge.emulator.graph.search import compile_search, haystack, parse, tokens
from callbridge.emulator.teams.tenant import TeamsTenant
from callbridge.emulator.teams.users import TenantUser

APP = Principal("tenant", "app", "sp", frozenset({"User.Read.All"}), frozenset())


def _user(name: str, **fields: Any) -> TenantUser:
    alias = "".join(ch for ch in name.lower() if ch.isalnum()) or "x"
    return TenantUser(id=f"id-{alias}", display_name=name, mail=f"{alias}@contoso.com",
                      user_principal_name=f"{alias}@contoso.com", **fields)  # fmt: skip


def _found(search: str, *names: str) -> list[str]:
    matches = compile_search(parse(search), directory.search_property)
    return [name for name in names if matches(_user(name))]


# ------------------------------------------------------------------ $search


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Art Anderson", ["art", "anderson"]),
        ("HelloWorld", ["hello", "world"]),
        ("HELLOworld", ["helloworld"]),
        ("hello.world", ["hello", ".", "world"]),
        ("hello123world", ["hello", "123", "world"]),
        ("李四(David Li)", ["李四", "(", "david", "li", ")"]),
    ],
)
def test_tokens_split_like_graph(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_values_also_index_the_joined_word() -> None:
    assert "\x00helloworld" in haystack("hello-world")
    assert "\x00mcdonald" in haystack("McDonald")


@pytest.mark.parametrize(
    ("search", "names", "expected"),
    [
        ('"displayName:wa"', ["Oscar Ward", "Wanda Li", "Edward Ng"], ["Oscar Ward", "Wanda Li"]),
        ('"displayName:Guthr"', ["Guthrie Smith", "Ann Guthe"], ["Guthrie Smith"]),
        ('"displayName:ard"', ["Oscar Ward"], []),
        ('"displayName:Art Anderson"', ["Art Anderson", "Anderson, Art", "Arthur Andersonn", "Bart Anderson"],
         ["Art Anderson", "Anderson, Art", "Arthur Andersonn"]),
        ('"displayName:helloworld"', ["hello-world"], ["hello-world"]),
        ('"displayName:David"', ["李四(David Li)"], ["李四(David Li)"]),
        ('"displayName:(李四"', ["李四(David Li)"], ["李四(David Li)"]),
        ('"displayName:Li 李"', ["李四(David Li)"], ["李四(David Li)"]),
        ('"displayName:art" OR "displayName:wa"', ["Art Lee", "Oscar Ward", "Bo Chen"], ["Art Lee", "Oscar Ward"]),
        ('"displayName:art" "displayName:lee"', ["Art Lee", "Art Ng"], ["Art Lee"]),
        ('"mail:artl"', ["Art Lee", "Bart Lee"], ["Art Lee"]),
        ('"displayName:say \\"hi\\""', ['Say "Hi" Bot'], ['Say "Hi" Bot']),
    ],
)  # fmt: skip
def test_search_is_word_prefix_on_display_name_and_starts_with_elsewhere(
    search: str, names: list[str], expected: list[str]
) -> None:
    assert _found(search, *names) == expected


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("displayName:aname", "Syntax error: character ':' is not valid at position 11 in 'displayName:aname'."),
        ("Backup Config 0", "Syntax error: character '0' is not valid at position 14 in 'Backup Config 0'."),
        ("*", "Syntax error: character '*' is not valid at position 0 in '*'."),
        ('"displayName:', "There is an unterminated string literal at position 0 in '\"displayName:'."),
        ('"a:b" )', "Syntax error: character ')' is not valid at position 6 in '\"a:b\" )'."),
    ],
)
def test_search_syntax_errors_use_odata_wording(search: str, message: str) -> None:
    with pytest.raises(GraphError) as raised:
        parse(search)
    assert (raised.value.status, raised.value.code, raised.value.message) == (400, "BadRequest", message)


# ------------------------------------------------------------------ $filter


@pytest.mark.parametrize(
    ("text", "advanced", "expected"),
    [
        ("startswith(displayName,'ar')", False, ["Art Lee"]),
        ("displayName eq 'ART LEE' or displayName eq 'bo chen'", False, ["Art Lee", "Bo Chen"]),
        ("displayName in ('Bo Chen', 'Oscar Ward')", False, ["Bo Chen", "Oscar Ward"]),
        ("(startsWith(displayName,'a') or startsWith(displayName,'b')) and mail ne 'bochen@contoso.com'", True,
         ["Art Lee"]),
        ("not(startsWith(displayName,'a'))", True, ["Bo Chen", "Oscar Ward"]),
        ("endsWith(userPrincipalName,'contoso.com')", True, ["Art Lee", "Bo Chen", "Oscar Ward"]),
        ("proxyAddresses/any(x:x eq 'SMTP:oscarward@contoso.com')", False, ["Oscar Ward"]),
        ("jobTitle eq null", True, ["Bo Chen", "Oscar Ward"]),
    ],
)  # fmt: skip
def test_filters_evaluate(text: str, advanced: bool, expected: list[str]) -> None:
    people = [_user("Art Lee", job_title="Engineer"), _user("Bo Chen"), _user("Oscar Ward")]
    matches = compile_filter(parse_filter(text), directory.FILTERS, advanced)
    assert [u.display_name for u in people if matches(u)] == expected


def test_deep_nesting_is_refused_not_crashed() -> None:
    for text in ("(" * 5000 + "displayName eq 'a'" + ")" * 5000, "not " * 5000 + "accountEnabled eq true"):
        with pytest.raises(GraphError) as raised:
            compile_filter(parse_filter(text), directory.FILTERS, True)
        assert raised.value.status == 400
    with pytest.raises(GraphError):
        parse("(" * 5000 + '"a:b"' + ")" * 5000)


def test_random_input_only_ever_raises_graph_errors() -> None:
    rng = random.Random(7)
    pieces = ["displayName", "mail", "eq", "ne", "in", "and", "or", "not", "any", "(", ")", ",", ":", "/", "'a'",
              "'", '"', "null", "true", "1.5", "-3", "startsWith", "endsWith", "assignedPlans", "a/skuId",
              "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "2024-01-01T00:00:00Z", "AND", "OR", "NOT", '"mail:a"', "\\",
              "李", "$", "%", " ", "x:y"]  # fmt: skip
    for _ in range(5000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(0, 15)))
        advanced = rng.random() < 0.5
        for attempt in (_filter_attempt, _search_attempt, _options_attempt):
            try:
                attempt(text, advanced)
            except GraphError as error:
                assert 400 <= error.status < 500


def _filter_attempt(text: str, advanced: bool) -> None:
    compile_filter(parse_filter(text), directory.FILTERS, advanced)(_user("Art Lee"))


def _search_attempt(text: str, advanced: bool) -> None:
    compile_search(parse(text), directory.search_property)(_user("Art Lee"))


def _options_attempt(text: str, advanced: bool) -> None:
    query = QueryString.parse(text.replace(" ", "&") + "&$top=" + text + "&$skiptoken=" + text + "&$orderby=" + text)
    query.orderby()
    query.top()
    query.cursor()


# ------------------------------------------------------------------ latency


def test_search_over_ten_thousand_users_takes_milliseconds() -> None:
    tenant = TeamsTenant(RealClock().time)
    rng = random.Random(1)
    first = ["Art", "Megan", "Alex", "Diego", "Lynne", "Nestor", "Grady", "Isaiah", "Pradeep", "Adele"]
    last = ["Anderson", "Bowen", "Wilber", "Siciliani", "Robbins", "Wilke", "Archie", "Langer", "Gupta", "Vance"]
    for n in range(10_000):
        tenant.add_user(_user(f"{rng.choice(first)} {rng.choice(last)}{n}"))
    api = GraphApi(SimpleNamespace(tenant=tenant, clock=RealClock()))  # type: ignore[arg-type]
    query = QueryString.parse("%24search=%22displayName%3AArt%20Anderson%22&%24count=true&%24top=25")
    call = Call(APP, {}, query, True, "http://graph/v1.0", "http://graph/v1.0/users", b"")
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        reply = api.list_users(call)
        timings.append((time.perf_counter() - started) * 1000)
    assert isinstance(reply.body, dict) and reply.body["@odata.count"] > 0
    timings.sort()
    p50, p99 = statistics.median(timings), timings[197]
    print(f"$search over 10,000 users in-process: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    assert p50 < 50
