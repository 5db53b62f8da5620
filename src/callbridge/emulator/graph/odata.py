"""``$filter`` as the directory serves it: an OData expression parser and a compiler to predicates that knows, per
property, which operators work by default, which need advanced query parameters, and which do not work at all."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from callbridge.emulator.graph.errors import GraphError, needs_advanced, unknown_property, unsupported_clause

MAX_DEPTH = 50
DEFAULT = "default"
ADVANCED = "advanced"


class Edm(StrEnum):
    """The OData types the user properties use."""

    STRING = "Edm.String"
    BOOLEAN = "Edm.Boolean"
    GUID = "Edm.Guid"
    DATETIME = "Edm.DateTimeOffset"
    INT = "Edm.Int32"
    DOUBLE = "Edm.Double"


@dataclass(frozen=True)
class Field:
    """A property ``$filter`` can name: type, reader, and each operator it serves by ``DEFAULT`` or ``ADVANCED``
    (``eq ne in startsWith endsWith ge le gt lt``, ``null``); collections (``many``) only through ``any``."""

    name: str
    edm: Edm
    get: Callable[[Any], Any]
    ops: Mapping[str, str] = field(default_factory=dict)
    many: bool = False
    element: Mapping[str, Field] | None = None


Schema = Mapping[str, Field]
Predicate = Callable[[Any], bool]


def invalid_filter(detail: str) -> GraphError:
    """400 for a ``$filter`` that does not parse or type-check."""
    return GraphError(400, "Request_BadRequest", f"Invalid filter clause: {detail}")


# ---------------------------------------------------------------------------------------------------- syntax


@dataclass(frozen=True)
class Literal:
    """A constant; ``edm`` is None for ``null``."""

    edm: Edm | None
    value: Any


@dataclass(frozen=True)
class Member:
    """A property path such as ``displayName`` or, inside a lambda, ``a/skuId``."""

    path: tuple[str, ...]


@dataclass(frozen=True)
class Compare:
    """``member op literal`` with ``eq ne gt ge lt le``."""

    op: str
    member: Member
    literal: Literal


@dataclass(frozen=True)
class Within:
    """``member in (a, b, …)``."""

    member: Member
    literals: tuple[Literal, ...]


@dataclass(frozen=True)
class Function:
    """``startsWith(member, 'x')`` or ``endsWith(member, 'x')``."""

    name: str
    member: Member
    literal: Literal


@dataclass(frozen=True)
class AnyOf:
    """``collection/any(var: body)``."""

    member: Member
    var: str
    body: FilterExpr


@dataclass(frozen=True)
class AllOf:
    """``a and b and …``."""

    parts: tuple[FilterExpr, ...]


@dataclass(frozen=True)
class OneOf:
    """``a or b or …``."""

    parts: tuple[FilterExpr, ...]


@dataclass(frozen=True)
class Negation:
    """``not x``."""

    inner: FilterExpr


FilterExpr = Compare | Within | Function | AnyOf | AllOf | OneOf | Negation

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>'(?:[^']|'')*')
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
      | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[(),:/])""",
    re.VERBOSE,
)
COMPARISONS = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
               "lt": "LessThan", "le": "LessThanOrEqual"}  # fmt: skip
FUNCTIONS = {"startswith": "startsWith", "endswith": "endsWith"}


@dataclass(frozen=True)
class _Token:
    """A lexeme and where it starts."""

    kind: str
    text: str
    pos: int

    def word(self) -> str:
        return self.text.lower() if self.kind == "ident" else ""


def _lex(text: str) -> list[_Token]:
    found: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise invalid_filter(f"Syntax error: character '{text[pos]}' is not valid at position {pos} in '{text}'.")
        kind = match.lastgroup or "space"
        if kind != "space":
            found.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return found


def parse_filter(text: str) -> FilterExpr:
    """Parse a ``$filter`` value into an expression tree."""
    parser = _Parser(text, _lex(text))
    expr = parser.expression(0)
    if parser.peek() is not None:
        raise parser.unexpected()
    return expr


class _Parser:
    """Recursive descent over the tokens: ``or`` binds loosest, then ``and``, then ``not``."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0

    def peek(self, ahead: int = 0) -> _Token | None:
        at = self.index + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise invalid_filter(f"Syntax error: the expression '{self.text}' ends unexpectedly.")
        self.index += 1
        return token

    def unexpected(self) -> GraphError:
        token = self.peek()
        if token is None:
            return invalid_filter(f"Syntax error: the expression '{self.text}' ends unexpectedly.")
        return invalid_filter(f"Syntax error at position {token.pos} in '{self.text}'.")

    def expect(self, text: str) -> None:
        token = self.peek()
        if token is None or (token.text.lower() != text):
            raise self.unexpected()
        self.index += 1

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        return token.word() if token is not None and token.word() in words else None

    def expression(self, depth: int) -> FilterExpr:
        if depth > MAX_DEPTH:
            raise invalid_filter(f"The expression '{self.text}' is nested too deeply.")
        parts = [self.conjunction(depth)]
        while self.keyword("or"):
            self.index += 1
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else OneOf(tuple(parts))

    def conjunction(self, depth: int) -> FilterExpr:
        parts = [self.unary(depth)]
        while self.keyword("and"):
            self.index += 1
            parts.append(self.unary(depth))
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self, depth: int) -> FilterExpr:
        if self.keyword("not"):
            if depth > MAX_DEPTH:
                raise invalid_filter(f"The expression '{self.text}' is nested too deeply.")
            self.index += 1
            return Negation(self.unary(depth + 1))
        return self.primary(depth)

    def primary(self, depth: int) -> FilterExpr:
        token = self.take()
        if token.text == "(":
            inner = self.expression(depth + 1)
            self.expect(")")
            return inner
        if token.kind != "ident":
            raise invalid_filter(f"Syntax error at position {token.pos} in '{self.text}'.")
        following = self.peek()
        if following is not None and following.text == "(":
            return self.function(token, depth)
        member = self.member(token, depth)
        if isinstance(member, AnyOf):
            return member
        return self.comparison(member)

    def function(self, name: _Token, depth: int) -> Function:
        canonical = FUNCTIONS.get(name.text.lower())
        if canonical is None:
            raise invalid_filter(f"An unknown function with name '{name.text}' was found.")
        self.expect("(")
        start = self.take()
        if start.kind != "ident":
            raise invalid_filter(f"Syntax error at position {start.pos} in '{self.text}'.")
        member = self.member(start, depth)
        if isinstance(member, AnyOf):
            raise invalid_filter(f"Syntax error at position {start.pos} in '{self.text}'.")
        self.expect(",")
        literal = self.literal()
        self.expect(")")
        return Function(canonical, member, literal)

    def member(self, first: _Token, depth: int) -> Member | AnyOf:
        path = [first.text]
        while (slash := self.peek()) is not None and slash.text == "/":
            self.index += 1
            segment = self.take()
            if segment.kind != "ident":
                raise invalid_filter(f"Syntax error at position {segment.pos} in '{self.text}'.")
            if segment.word() == "any":
                return self.lambda_(Member(tuple(path)), depth)
            path.append(segment.text)
        return Member(tuple(path))

    def lambda_(self, collection: Member, depth: int) -> AnyOf:
        self.expect("(")
        var = self.take()
        if var.kind != "ident":
            raise invalid_filter(f"Syntax error at position {var.pos} in '{self.text}'.")
        self.expect(":")
        body = self.expression(depth + 1)
        self.expect(")")
        return AnyOf(collection, var.text, body)

    def comparison(self, member: Member) -> FilterExpr:
        operator = self.take()
        word = operator.word()
        if word in COMPARISONS:
            return Compare(word, member, self.literal())
        if word == "in":
            self.expect("(")
            literals = [self.literal()]
            while (comma := self.peek()) is not None and comma.text == ",":
                self.index += 1
                literals.append(self.literal())
            self.expect(")")
            return Within(member, tuple(literals))
        raise invalid_filter(f"Syntax error at position {operator.pos} in '{self.text}'.")

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            return Literal(Edm.STRING, token.text[1:-1].replace("''", "'"))
        if token.kind == "guid":
            return Literal(Edm.GUID, token.text.lower())
        if token.kind == "datetime":
            return Literal(Edm.DATETIME, _datetime(token.text))
        if token.kind == "number":
            return Literal(Edm.DOUBLE, float(token.text)) if "." in token.text else Literal(Edm.INT, int(token.text))
        word = token.word()
        if word in ("true", "false"):
            return Literal(Edm.BOOLEAN, word == "true")
        if word == "null":
            return Literal(None, None)
        raise invalid_filter(f"Syntax error at position {token.pos} in '{self.text}'.")


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_filter(f"The DateTimeOffset text '{text}' is not a valid date and time.") from None


# ---------------------------------------------------------------------------------------------------- compiling


@dataclass(frozen=True)
class _Scope:
    """What member paths resolve against: the entity's fields, or a lambda variable's element."""

    fields: Schema
    advanced: bool
    var: str | None = None
    collection: Field | None = None


def compile_filter(expr: FilterExpr, schema: Schema, advanced: bool) -> Predicate:
    """A predicate over entities; GraphError for an unsupported operator, property or operand type."""
    return _compile(expr, _Scope(schema, advanced))


def _compile(expr: FilterExpr, scope: _Scope) -> Predicate:
    if isinstance(expr, AllOf):
        every = [_compile(part, scope) for part in expr.parts]
        return lambda obj: all(p(obj) for p in every)
    if isinstance(expr, OneOf):
        some = [_compile(part, scope) for part in expr.parts]
        return lambda obj: any(p(obj) for p in some)
    if isinstance(expr, Negation):
        if not scope.advanced:
            raise needs_advanced("not")
        inner = _compile(expr.inner, scope)
        return lambda obj: not inner(obj)
    if isinstance(expr, AnyOf):
        return _any(expr, scope)
    if isinstance(expr, Within):
        found = _resolve(expr.member, scope)
        _allow(found, "in", scope)
        tests = [_equals(found, _typed(found, lit, "Equal")) for lit in expr.literals]
        return lambda obj: any(t(found.get(obj)) for t in tests)
    if isinstance(expr, Function):
        return _function(expr, scope)
    return _comparison(expr, scope)


def _resolve(member: Member, scope: _Scope) -> Field:
    path = member.path
    if scope.var is not None and path[0] == scope.var:
        assert scope.collection is not None
        if len(path) == 1 and scope.collection.element is None:
            return Field(scope.collection.name, scope.collection.edm, lambda value: value, scope.collection.ops)
        elements = scope.collection.element or {}
        if len(path) == 2 and path[1].lower() in elements:
            return elements[path[1].lower()]
        raise invalid_filter(unknown_property("/".join(path[1:]) or path[0]))
    found = scope.fields.get(path[0].lower())
    if found is None:
        raise invalid_filter(unknown_property(path[0]))
    if len(path) > 1 or found.many:
        raise unsupported_clause(found.name)
    return found


def _allow(found: Field, op: str, scope: _Scope, shown: str | None = None) -> None:
    level = found.ops.get(op)
    if level is None:
        raise unsupported_clause(found.name)
    if level == ADVANCED and not scope.advanced:
        raise needs_advanced(shown or op)


def _typed(found: Field, literal: Literal, kind: str) -> Literal:
    if literal.edm is not None and literal.edm != found.edm:
        raise invalid_filter(
            "A binary operator with incompatible types was detected. "
            f"Found operand types '{found.edm}' and '{literal.edm}' for operator kind '{kind}'."
        )
    return literal


def _equals(found: Field, literal: Literal) -> Callable[[Any], bool]:
    wanted = literal.value
    if literal.edm is None:
        return lambda value: value is None
    if found.edm is Edm.STRING:
        lowered = str(wanted).lower()
        return lambda value: value is not None and value.lower() == lowered
    if found.edm is Edm.GUID:
        return lambda value: value is not None and value.lower() == wanted
    if found.edm is Edm.DATETIME:
        return lambda value: value is not None and _datetime(value) == wanted
    return lambda value: bool(value == wanted)


def _comparison(expr: Compare, scope: _Scope) -> Predicate:
    found = _resolve(expr.member, scope)
    literal = _typed(found, expr.literal, COMPARISONS[expr.op])
    get = found.get
    if literal.edm is None:
        if expr.op not in ("eq", "ne"):
            raise unsupported_clause(found.name)
        _allow(found, "null", scope, expr.op)
        if expr.op == "ne":
            _allow(found, "ne", scope)
            return lambda obj: get(obj) is not None
        return lambda obj: get(obj) is None
    _allow(found, expr.op, scope)
    if expr.op in ("eq", "ne"):
        equal = _equals(found, literal)
        if expr.op == "eq":
            return lambda obj: equal(get(obj))
        return lambda obj: not equal(get(obj))
    order: Callable[[datetime, datetime], bool] = {
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }[expr.op]
    wanted = literal.value

    def ordered(obj: Any) -> bool:
        value = get(obj)
        return value is not None and order(_datetime(value), wanted)

    return ordered


def _function(expr: Function, scope: _Scope) -> Predicate:
    found = _resolve(expr.member, scope)
    if found.edm is not Edm.STRING or expr.literal.edm is not Edm.STRING:
        lower = expr.name.lower()
        raise invalid_filter(
            f"No function signature for the function with name '{lower}' matches the specified arguments. "
            f"The function signatures considered are: {lower}(Edm.String Nullable=true, Edm.String Nullable=true)."
        )
    _allow(found, expr.name, scope)
    get = found.get
    affix = str(expr.literal.value).lower()
    if expr.name == "startsWith":
        return lambda obj: (value := get(obj)) is not None and value.lower().startswith(affix)
    return lambda obj: (value := get(obj)) is not None and value.lower().endswith(affix)


def _any(expr: AnyOf, scope: _Scope) -> Predicate:
    if scope.var is not None:
        raise invalid_filter("A lambda expression cannot be nested inside another lambda expression.")
    path = expr.member.path
    found = scope.fields.get(path[0].lower())
    if found is None:
        raise invalid_filter(unknown_property(path[0]))
    if len(path) > 1 or not found.many:
        raise unsupported_clause(found.name)
    body = _compile(expr.body, _Scope(scope.fields, scope.advanced, expr.var, found))
    get = found.get
    return lambda obj: any(body(element) for element in get(obj) or ())


def referenced(expr: FilterExpr) -> set[str]:
    """The entity properties an expression reads (lower-cased), lambda bodies excluded."""
    if isinstance(expr, AllOf | OneOf):
        return set().union(*(referenced(part) for part in expr.parts))
    if isinstance(expr, Negation):
        return referenced(expr.inner)
    return {expr.member.path[0].lower()}
