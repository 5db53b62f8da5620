"""Request bodies at the edge: a size limit, JSON that every later step can re-encode, and what the journal keeps."""

from __future__ import annotations

import json
from typing import Any

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_DIGITS = 256
JOURNAL_BODY_BYTES = 16 * 1024


class BodyError(Exception):
    """A body refused before any handler sees it: 413 when too large, else 400; the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decode_json(raw: bytes, limit: int = MAX_BODY_BYTES) -> object:
    """The JSON value of ``raw`` (None when blank), refusing what would later fail or mislead: bodies over
    ``limit``, nesting deeper than 64, numbers of over 256 digits or outside a double, NaN and Infinity, and
    strings that are not Unicode (lone surrogates)."""
    if len(raw) > limit:
        raise BodyError(413, f"the body is {len(raw)} bytes; at most {limit} are accepted.")
    if not raw.strip():
        return None
    try:
        value = json.loads(raw, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except RecursionError:
        raise BodyError(400, f"the JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError and the refusals below
        raise BodyError(400, f"the body is not valid JSON ({exc}).") from None
    _check(value)
    return value


def journal_body(raw: bytes) -> object:
    """What the journal keeps of a body: its JSON when it decodes, else its text, cut at 16 KiB and marked so."""
    if not raw:
        return None
    if len(raw) <= JOURNAL_BODY_BYTES:
        try:
            return decode_json(raw)
        except BodyError:
            pass
    text = raw[:JOURNAL_BODY_BYTES].decode("utf-8", "replace")
    if len(raw) <= JOURNAL_BODY_BYTES:
        return text
    return {"truncated": True, "bytes": len(raw), "text": text}


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is out of range")
    return value


def _constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _check(value: object) -> None:
    """Walk the value without recursion: bounded depth, every string (keys too) valid Unicode."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _unicode(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise BodyError(400, f"the JSON is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, dict):
            for key, child in item.items():
                _unicode(key)
                pending.append((child, depth + 1))
        else:
            pending.extend((child, depth + 1) for child in item)


def _unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyError(400, "the body holds a string that is not Unicode (a lone surrogate).") from None
