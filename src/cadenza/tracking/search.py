"""The search grammar of runs: filters, ``order_by`` clauses and page tokens.

A filter is comparisons joined by ``and`` (any case), as in MLflow's ``search_runs``::

    metrics.rmse < 6 and params.max_depth = "10"
    tags.team != "data" and attributes.status = "FAILED"
    params.model LIKE "xgb%" and metrics.`val loss` <= 0.25
    attributes.run_name ILIKE "%trial%" and datasets.name = "taxi-2024-01"

Each comparison is ``<entity>.<key> <operator> <value>``:

==============  ===========================================  =========================
entity          operators                                    value
==============  ===========================================  =========================
``metrics``     ``=  !=  <  <=  >  >=``                      a number
``params``      ``=  !=  LIKE  ILIKE  IN  NOT IN``           a quoted string, or a
``tags``                                                     list ``("a", "b")``
``attributes``  ``status``, ``run_name``, ``run_id``,        strings as for params;
                ``kind``, ``flow_run_id``: as params;        times in seconds since
                ``start_time``, ``end_time``, ``created``:   the epoch
                as metrics
``datasets``    ``name``, ``digest``, ``context``,           as params
                ``source``: as params
==============  ===========================================  =========================

Keys with other characters than letters, digits, ``_``, ``-``, ``.`` and ``/`` are
quoted with backticks or double quotes (``metrics."val loss"``). ``LIKE`` matches
``%`` (any text) and ``_`` (one character) with case, ``ILIKE`` without. A metric
comparison matches runs that logged the metric, with their latest value. Statuses
are state types (``COMPLETED``, ``FAILED``, ``RUNNING``...), with MLflow's
``FINISHED`` and ``KILLED`` taken for ``COMPLETED`` and ``CANCELLED``.

``order_by`` clauses are ``<entity>.<key> [ASC|DESC]`` (attributes may go without
``attributes.``): ``["metrics.rmse ASC", "start_time DESC"]``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

from cadenza.tracking.errors import InvalidFilter

GRAMMAR = (
    "A filter is comparisons joined by AND, each <entity>.<key> <operator> <value>: "
    "metrics.<key> with =, !=, <, <=, >, >= and a number; params.<key>, tags.<key>, "
    "attributes.status|run_name|run_id|kind|flow_run_id and "
    "datasets.name|digest|context|source with =, !=, LIKE, ILIKE, IN, NOT IN and a "
    "quoted string (or a list such as ('a', 'b')); attributes.start_time|end_time|created "
    'with a number. Example: metrics.rmse < 6 and params.max_depth = "10".'
)

ENTITIES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
    "dataset": "datasets",
    "datasets": "datasets",
}
STRING_ATTRIBUTES = frozenset({"status", "run_name", "run_id", "kind", "flow_run_id"})
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time", "created"})
DATASET_FIELDS = frozenset({"name", "digest", "context", "source"})
NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
STATUS_ALIASES = {"FINISHED": "COMPLETED", "KILLED": "CANCELLED"}
STATUSES = (
    "SCHEDULED",
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CRASHED",
    "CANCELLING",
    "CANCELLED",
    "PAUSED",
)


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison of a filter: ``entity.key op value``."""

    entity: str
    """``metrics``, ``params``, ``tags``, ``attributes`` or ``datasets``."""
    key: str
    op: str
    """One of :data:`NUMERIC_OPS` or :data:`STRING_OPS`, upper case."""
    value: float | str | tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class OrderBy:
    entity: str
    key: str
    ascending: bool


# -- tokens ------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<backtick>`[^`]*`)
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))(?![\w.])
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),.])
  | (?P<word>[A-Za-z_][\w\-/]*)
    """,
    re.VERBOSE,
)


@dataclasses.dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    pos: int


def _error(problem: str, token: _Token | None, text: str) -> InvalidFilter:
    where = (
        f" at {token.text!r} (character {token.pos + 1})"
        if token is not None
        else " at the end of the filter"
    )
    return InvalidFilter(f"Invalid filter {text!r}: {problem}{where}. {GRAMMAR}")


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _error("unexpected character", _Token("?", text[pos], pos), text)
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return out


def _unquote(token: _Token) -> str:
    body = token.text[1:-1]
    quote = token.text[0]
    if quote == "`":
        return body
    return re.sub(r"\\(.)", r"\1", body.replace(quote * 2, quote))


# -- filters -----------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        self.i += 1
        return token

    def fail(self, problem: str, token: _Token | None = None) -> InvalidFilter:
        return _error(problem, token, self.text)

    def comparisons(self) -> list[Comparison]:
        out = [self.comparison()]
        while self.peek() is not None:
            token = self.take()
            assert token is not None
            if token.kind != "word" or token.text.upper() != "AND":
                if token.kind == "word" and token.text.upper() == "OR":
                    raise self.fail("OR is not supported, only AND", token)
                raise self.fail("expected AND between two comparisons", token)
            out.append(self.comparison())
        return out

    def identifier(self) -> tuple[str, str]:
        token = self.take()
        if token is None or token.kind != "word":
            raise self.fail(
                "expected <entity>.<key> (metrics., params., tags., attributes., datasets.)",
                token,
            )
        name = token.text
        entity = ENTITIES.get(token.text.lower())
        if entity is None:
            raise self.fail(
                "unknown entity: use metrics, params, tags, attributes or datasets", token
            )
        dot = self.take()
        if dot is None or dot.text != ".":
            raise self.fail(f"expected '.' and a key after {name!r}", dot)
        key_token = self.take()
        if key_token is None or key_token.kind not in ("word", "backtick", "string", "number"):
            raise self.fail(f"expected the key of {entity}", key_token)
        key = _unquote(key_token) if key_token.kind in ("backtick", "string") else key_token.text
        # Keys may contain dots: metrics.train.loss
        while (nxt := self.peek()) is not None and nxt.text == "." and key_token.kind == "word":
            self.take()
            part = self.take()
            if part is None or part.kind not in ("word", "number"):
                raise self.fail("expected the rest of the key after '.'", part)
            key += "." + part.text
        if not key:
            raise self.fail("the key is empty", key_token)
        if entity == "attributes" and key not in STRING_ATTRIBUTES | NUMERIC_ATTRIBUTES:
            allowed = ", ".join(sorted(STRING_ATTRIBUTES | NUMERIC_ATTRIBUTES))
            raise self.fail(f"unknown attribute {key!r}: use one of {allowed}", key_token)
        if entity == "datasets" and key not in DATASET_FIELDS:
            allowed = ", ".join(sorted(DATASET_FIELDS))
            raise self.fail(f"unknown dataset field {key!r}: use one of {allowed}", key_token)
        return entity, key

    def operator(self, numeric: bool) -> str:
        token = self.take()
        if token is None:
            raise self.fail("expected an operator")
        if token.kind == "op":
            op = {"==": "=", "<>": "!="}.get(token.text, token.text)
        elif token.kind == "word" and token.text.upper() in ("LIKE", "ILIKE", "IN"):
            op = token.text.upper()
        elif token.kind == "word" and token.text.upper() == "NOT":
            nxt = self.take()
            if nxt is None or nxt.text.upper() != "IN":
                raise self.fail("expected IN after NOT", nxt)
            op = "NOT IN"
        else:
            op = ""
        allowed = NUMERIC_OPS if numeric else STRING_OPS
        if op not in allowed:
            raise self.fail(f"expected an operator ({', '.join(allowed)})", token)
        return op

    def comparison(self) -> Comparison:
        entity, key = self.identifier()
        numeric = entity == "metrics" or (entity == "attributes" and key in NUMERIC_ATTRIBUTES)
        op = self.operator(numeric)
        if op in ("IN", "NOT IN"):
            return Comparison(entity, key, op, self.string_list(entity, key))
        token = self.take()
        if numeric:
            if token is None or token.kind != "number":
                raise self.fail(f"expected a number to compare {entity}.{key} with", token)
            return Comparison(entity, key, op, float(token.text))
        if token is None or token.kind != "string":
            hint = f' (quote it: {entity}.{key} {op} "{token.text}")' if token is not None else ""
            raise self.fail(f"expected a quoted string to compare {entity}.{key} with{hint}", token)
        return Comparison(entity, key, op, self.checked(entity, key, _unquote(token), token))

    def string_list(self, entity: str, key: str) -> tuple[str, ...]:
        token = self.take()
        if token is None or token.text != "(":
            raise self.fail("expected a list of quoted strings such as ('a', 'b')", token)
        values: list[str] = []
        while True:
            item = self.take()
            if item is None or item.kind != "string":
                raise self.fail("expected a quoted string in the list", item)
            values.append(self.checked(entity, key, _unquote(item), item))
            sep = self.take()
            if sep is not None and sep.text == ")":
                return tuple(values)
            if sep is None or sep.text != ",":
                raise self.fail("expected ',' or ')' in the list", sep)

    def checked(self, entity: str, key: str, value: str, token: _Token) -> str:
        if entity == "attributes" and key == "status":
            upper = value.upper()
            upper = STATUS_ALIASES.get(upper, upper)
            if upper not in STATUSES and "%" not in value and "_" not in value:
                raise self.fail(f"unknown status: use one of {', '.join(STATUSES)}", token)
            return upper
        if entity == "attributes" and key == "kind" and value not in ("flow", "task"):
            raise self.fail("a run's kind is 'flow' or 'task'", token)
        return value


def parse_filter(text: str | None) -> list[Comparison]:
    """The comparisons of a filter (an empty list for an empty filter).

    Raises:
        InvalidFilter: the filter is malformed; the message names the token at fault
            and gives the grammar.
    """
    if text is None or not text.strip():
        return []
    if not isinstance(text, str):
        raise InvalidFilter(f"A filter must be a str, not a {type(text).__name__}. {GRAMMAR}")
    return _Parser(text).comparisons()


# -- order_by ----------------------------------------------------------------------------
_ORDER_ATTRIBUTES = frozenset(
    {"start_time", "end_time", "created", "run_name", "status", "kind", "run_id"}
)
ORDER_GRAMMAR = (
    "An order_by clause is <entity>.<key> followed by ASC or DESC (ASC by default), "
    "such as 'metrics.rmse ASC', 'params.max_depth DESC' or 'attributes.start_time DESC'; "
    "attributes are " + ", ".join(sorted(_ORDER_ATTRIBUTES)) + "."
)


def parse_order_by(clauses: Sequence[str] | None) -> list[OrderBy]:
    """``order_by`` clauses, parsed.

    Raises:
        InvalidFilter: a clause is malformed (the message names it and the grammar).
    """
    if clauses is None:
        return []
    if isinstance(clauses, str):
        clauses = [clauses]
    out: list[OrderBy] = []
    for clause in clauses:
        if not isinstance(clause, str) or not clause.strip():
            raise InvalidFilter(f"Invalid order_by clause {clause!r}. {ORDER_GRAMMAR}")
        text = clause.strip()
        ascending = True
        words = text.rsplit(None, 1)
        if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
            text, ascending = words[0], words[1].upper() == "ASC"
        entity, key = _order_key(text, clause)
        out.append(OrderBy(entity, key, ascending))
    return out


def _order_key(text: str, clause: str) -> tuple[str, str]:
    if text in _ORDER_ATTRIBUTES:
        return "attributes", text
    try:
        parser = _Parser(text)
        entity, key = parser.identifier()
        if parser.peek() is not None:
            raise parser.fail("expected ASC or DESC", parser.peek())
    except InvalidFilter:
        raise InvalidFilter(f"Invalid order_by clause {clause!r}. {ORDER_GRAMMAR}") from None
    if entity == "datasets" or (entity == "attributes" and key not in _ORDER_ATTRIBUTES):
        raise InvalidFilter(
            f"Invalid order_by clause {clause!r}: runs cannot be sorted by {entity}.{key}. "
            f"{ORDER_GRAMMAR}"
        )
    return entity, key


# -- page tokens -------------------------------------------------------------------------
def encode_page_token(offset: int) -> str:
    """The token of the page starting at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset of a page token (0 for None).

    Raises:
        InvalidFilter: the token was not made by :func:`encode_page_token`.
    """
    if not token:
        return 0
    try:
        value: Any = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = value["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidFilter(
            f"Invalid page token {token[:80]!r}: pass the token of the previous page as it "
            "was returned, with the same experiments, filter and order."
        )
    return offset
