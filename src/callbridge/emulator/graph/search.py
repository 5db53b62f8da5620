"""``$search`` on directory objects: the clause grammar, Graph's tokenizer and word-prefix matching.

A value is one or more quoted clauses ``"property:text"`` combined with upper-case ``AND``/``OR`` (adjacent clauses
mean ``AND``) and grouped with parentheses. ``displayName`` and ``description`` are tokenized: every token of the
search text must be the prefix of some token of the value. Any other property means ``startsWith``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from callbridge.emulator.graph.errors import GraphError, bad_request, unsupported_query

TOKENIZED = frozenset({"displayname", "description"})
MAX_DEPTH = 50
SEPARATOR = "\x00"

Predicate = Callable[[object], bool]
Getter = Callable[[object], str | None]


@dataclass(frozen=True)
class Clause:
    """``"property:text"``; an empty property when the term names none."""

    prop: str
    text: str


@dataclass(frozen=True)
class Both:
    """Every part matches."""

    parts: tuple[SearchExpr, ...]


@dataclass(frozen=True)
class Either:
    """Some part matches."""

    parts: tuple[SearchExpr, ...]


SearchExpr = Clause | Both | Either


# ---------------------------------------------------------------------------------------------------- tokenizer


def tokens(text: str) -> list[str]:
    """Graph's search tokens: split at spaces, symbols, lower→upper case changes and letter↔digit changes;
    lower-cased; each symbol is a token of its own."""
    found: list[str] = []
    for word in text.replace(SEPARATOR, " ").split():
        found.extend(_word_tokens(word))
    return found


def value_tokens(text: str) -> list[str]:
    """Tokens of a stored value, plus each split word joined without its symbols (``hello-world`` →
    ``helloworld``), so a search for the joined form matches."""
    found: list[str] = []
    for word in text.replace(SEPARATOR, " ").split():
        parts = _word_tokens(word)
        found.extend(parts)
        if len(parts) > 1:
            joined = "".join(p for p in parts if p.isalnum())
            if joined:
                found.append(joined)
    return found


def _word_tokens(word: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for ch in word:
        if not ch.isalnum():
            if current:
                parts.append(current)
                current = ""
            parts.append(ch)
            continue
        if current and _boundary(current[-1], ch):
            parts.append(current)
            current = ""
        current += ch
    if current:
        parts.append(current)
    return [p.lower() for p in parts]


def _boundary(before: str, after: str) -> bool:
    if before.isdigit() != after.isdigit():
        return True
    return before.islower() and after.isupper()


@functools.lru_cache(maxsize=262_144)
def haystack(value: str) -> str:
    """A value's tokens as one string, each preceded by a separator, so ``SEPARATOR + prefix in haystack`` is a
    word-prefix match; cached on the value (a renamed user simply misses the cache)."""
    return "".join(SEPARATOR + t for t in value_tokens(value))


# ---------------------------------------------------------------------------------------------------- grammar


def parse(value: str) -> SearchExpr:
    """Parse a ``$search`` value; ``BadRequest`` with ODataLib's wording for syntax errors."""
    parser = _Parser(value)
    expr = parser.expression(0)
    parser.skip_space()
    if parser.pos < len(value):
        raise parser.invalid(parser.pos)
    return expr


class _Parser:
    """Recursive descent over the ``$search`` value, tracking the cursor for error positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def invalid(self, pos: int) -> GraphError:
        return bad_request(
            f"Syntax error: character '{self.text[pos]}' is not valid at position {pos} in '{self.text}'."
        )

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self) -> str | None:
        """``AND``/``OR``/``NOT`` at the cursor, as a whole word, without consuming it."""
        for word in ("AND", "OR", "NOT"):
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (end == len(self.text) or not self.text[end].isalpha()):
                return word
        return None

    def expression(self, depth: int) -> SearchExpr:
        if depth > MAX_DEPTH:
            raise unsupported_query("The $search expression is nested too deeply.")
        parts = [self.conjunction(depth)]
        while True:
            self.skip_space()
            if self.keyword() != "OR":
                return parts[0] if len(parts) == 1 else Either(tuple(parts))
            self.pos += 2
            parts.append(self.conjunction(depth))

    def conjunction(self, depth: int) -> SearchExpr:
        parts = [self.term(depth)]
        while True:
            self.skip_space()
            if self.pos >= len(self.text) or self.text[self.pos] == ")" or self.keyword() == "OR":
                return parts[0] if len(parts) == 1 else Both(tuple(parts))
            if self.keyword() == "AND":
                self.pos += 3
            parts.append(self.term(depth))

    def term(self, depth: int) -> SearchExpr:
        self.skip_space()
        if self.pos >= len(self.text):
            raise bad_request(f"Syntax error: the $search expression '{self.text}' ends unexpectedly.")
        ch = self.text[self.pos]
        if ch == "(":
            self.pos += 1
            inner = self.expression(depth + 1)
            self.skip_space()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise bad_request(f"Syntax error: ')' expected at position {self.pos} in '{self.text}'.")
            self.pos += 1
            return inner
        if ch == '"':
            return _clause(self.phrase())
        if self.keyword() == "NOT":
            raise unsupported_query("NOT is not supported in $search on directory objects; use AND and OR.")
        return _clause(self.word())

    def phrase(self) -> str:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(chars)
            if ch == "\\":
                following = self.text[self.pos + 1 : self.pos + 2]
                if following not in ('"', "\\"):
                    raise self.invalid(self.pos)
                chars.append(following)
                self.pos += 2
                continue
            chars.append(ch)
            self.pos += 1
        raise bad_request(f"There is an unterminated string literal at position {start} in '{self.text}'.")

    def word(self) -> str:
        """An unquoted search word: letters only, as ODataLib's search lexer accepts."""
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isalpha():
            self.pos += 1
        following = self.text[self.pos] if self.pos < len(self.text) else " "
        if self.pos == start or not (following.isspace() or following in '()"'):
            raise self.invalid(self.pos)
        return self.text[start : self.pos]


def _clause(content: str) -> Clause:
    prop, colon, text = content.partition(":")
    return Clause(prop.strip(), text) if colon else Clause("", content)


# ---------------------------------------------------------------------------------------------------- matching


def compile_search(expr: SearchExpr, resolve: Callable[[str], tuple[str, Getter]]) -> Predicate:
    """A predicate over directory objects; ``resolve`` maps a property name to its canonical name and getter,
    raising GraphError for a property that cannot be searched."""
    if isinstance(expr, Both):
        every = [compile_search(part, resolve) for part in expr.parts]
        return lambda obj: all(p(obj) for p in every)
    if isinstance(expr, Either):
        some = [compile_search(part, resolve) for part in expr.parts]
        return lambda obj: any(p(obj) for p in some)
    if not expr.prop:
        raise unsupported_query(
            f"The search term '{expr.text}' names no property; directory objects need \"<property>:<text>\" clauses."
        )
    name, getter = resolve(expr.prop)
    if name.lower() in TOKENIZED:
        return _token_match(getter, [SEPARATOR + t for t in tokens(expr.text)])
    prefix = expr.text.lower()

    def starts_with(obj: object) -> bool:
        value = getter(obj)
        return value is not None and value.lower().startswith(prefix)

    return starts_with


def _token_match(getter: Getter, needles: list[str]) -> Predicate:
    if len(needles) == 1:
        only = needles[0]

        def one(obj: object) -> bool:
            value = getter(obj)
            return value is not None and only in haystack(value)

        return one

    def every(obj: object) -> bool:
        value = getter(obj)
        if value is None:
            return False
        hay = haystack(value)
        return all(needle in hay for needle in needles)

    return every
