"""The query language of ``search_runs``: MLflow's filter syntax plus OR, NOT, parentheses,
metric aggregates, numeric params and IS NULL. docs/search.md is the user reference; the
static site's filter box implements the same grammar and is tested against the same data
file (tests/search_cases.json), so anything changed here must change there too.

Rows are the plain dicts the store reader makes, one per run (the attributes and their
types are runsite.attributes')::

    {"run_id": "...", "attributes": {"run_name": ..., "status": ..., "start_time": ...},
     "params": {key: str}, "tags": {key: str},
     "metrics": {key: {"last": float, "min": float, "max": float, "count": int}}}

Evaluation is three-valued like SQL: a comparison with a missing value is UNKNOWN (``None``
here), and a row is kept only when the whole filter is TRUE.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from runsite import attributes
from runsite.errors import InvalidInput, QueryError

Row = Mapping[str, Any]
Pred = Callable[[Row], bool | None]  # three-valued: True, False or None (UNKNOWN)

_PREFIXES = dict(
    metrics="metric", metric="metric", params="param", param="param", tags="tag", tag="tag"
)
_PREFIXES.update(attributes="attribute", attribute="attribute", datasets="dataset")
_PREFIX_HINT = "use metrics., params., tags., attributes. or datasets."
_SECTIONS = {"param": "params", "tag": "tags"}
AGGREGATES = ("last", "min", "max", "count")
_SPACE = " \t\n\r\f\v"
_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"})
_OPERATORS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")  # longest first
_SAME_OPERATOR = {"==": "=", "<>": "!="}
# Parentheses and NOTs nest at most this deep: the parser, the compiler and evaluation are
# recursive, and a filter may come from a shared link, so depth is bounded, not left to
# the interpreter's recursion limit. query.js has the same limit and message.
MAX_DEPTH = 100

# A number literal in a query (leading minus only), and the strict form a param or tag
# string must have to take part in a numeric comparison. ASCII digits only; fullmatch.
_NUMBER_LITERAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STRICT_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# --------------------------------------------------------------------------- the AST


@dataclass(frozen=True)
class Identifier:
    """``kind`` is metric, param, tag or attribute; ``key`` is the metric/param/tag key or
    the canonical attribute name (aliases resolved); ``agg`` is the metric aggregate."""

    kind: str
    key: str
    agg: str = "last"
    pos: int = 0

    @property
    def numeric(self) -> bool:
        return self.kind == "metric" or (
            self.kind == "attribute" and self.key in attributes.NUMERIC
        )


@dataclass(frozen=True)
class Comparison:
    """``op`` is one of = != < <= > >= LIKE ILIKE NOT LIKE, NOT ILIKE, IN, NOT IN, IS NULL,
    IS NOT NULL; ``value`` a float, a str, a tuple of either (IN lists) or None (IS)."""

    ident: Identifier
    op: str
    value: float | str | tuple[float, ...] | tuple[str, ...] | None
    pos: int = 0


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class MatchAll:
    """The empty filter."""


Node = Comparison | And | Or | Not | MatchAll


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # ident, str, num, op, word, "(", ")", ",", end
    text: str
    pos: int
    value: Any = None


def _is_word_char(c: str) -> bool:
    return c == "_" or unicodedata.category(c)[0] in "LN"


def _is_key_char(c: str) -> bool:
    return c in "-./" or _is_word_char(c)


def _describe(tok: Token) -> str:
    if tok.kind == "end":
        return "the end of the input"
    text = tok.text if len(tok.text) <= 30 else tok.text[:27] + "..."
    return repr(text)


def tokenize(q: str) -> list[Token]:
    """The tokens of a filter string (the registry's version filter reuses them)."""
    toks: list[Token] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c in _SPACE:
            i += 1
        elif c in "'\"":
            value, end = _read_string(q, i)
            toks.append(Token("str", q[i:end], i, value))
            i = end
        elif c in "(),":
            toks.append(Token(c, c, i))
            i += 1
        elif m := _NUMBER_LITERAL.match(q, i):
            end = m.end()
            if end < n and _is_key_char(q[end]):
                while end < n and _is_key_char(q[end]):
                    end += 1
                raise QueryError(f"invalid number {q[i:end]!r}", q, i)
            toks.append(Token("num", q[i:end], i, float(q[i:end])))
            i = end
        elif op := next((o for o in _OPERATORS if q.startswith(o, i)), None):
            toks.append(Token("op", op, i, _SAME_OPERATOR.get(op, op)))
            i += len(op)
        elif c == "_" or unicodedata.category(c)[0] == "L":
            end = i + 1
            while end < n and _is_word_char(q[end]):
                end += 1
            word = q[i:end]
            kind = _PREFIXES.get(word.lower()) if word.isascii() else None
            if end < n and q[end] == ".":
                if kind is None:
                    raise QueryError(f"unknown prefix {word!r}: {_PREFIX_HINT}", q, i)
                ident, end = _read_key(q, end + 1, kind, i)
                toks.append(Token("ident", q[i:end], i, ident))
            elif kind is not None:
                raise QueryError(f"expected '.' and a key after {word!r}", q, end)
            else:
                toks.append(Token("word", word, i, word.upper() if word.isascii() else word))
            i = end
        else:
            raise QueryError(f"unexpected character {c!r}", q, i)
    toks.append(Token("end", "", n))
    return toks


def _read_string(q: str, start: int) -> tuple[str, int]:
    """A quoted string at ``start``; a doubled quote inside stands for one quote."""
    quote, parts, i = q[start], [], start + 1
    while True:
        close = q.find(quote, i)
        if close < 0:
            raise QueryError("unterminated string", q, start)
        parts.append(q[i:close])
        if q.startswith(quote, close + 1):
            parts.append(quote)
            i = close + 2
        else:
            return "".join(parts), close + 1


def _read_key(q: str, i: int, kind: str, start: int) -> tuple[Identifier, int]:
    """The key after ``prefix.`` (at ``i``); returns the identifier and where it ends."""
    n, agg = len(q), "last"
    if i < n and q[i] in '`"':
        close = q.find(q[i], i + 1)
        if close < 0:
            raise QueryError("unterminated quoted key", q, i)
        key, end = q[i + 1 : close], close + 1
        if not key:
            raise QueryError("empty key", q, i)
        if end < n and q[end] == ".":
            if kind != "metric":
                raise QueryError("unexpected '.': only metrics take an aggregate", q, end)
            stop = end + 1
            while stop < n and _is_word_char(q[stop]):
                stop += 1
            if q[end + 1 : stop] not in AGGREGATES:
                raise QueryError("expected min, max, last or count after '.'", q, end + 1)
            agg, end = q[end + 1 : stop], stop
    else:
        end = i
        while end < n and _is_key_char(q[end]):
            end += 1
        key = q[i:end]
        if not key:
            raise QueryError(f"expected a key after {q[start:i]!r}", q, i)
        if kind == "metric":
            head, dot, tail = key.rpartition(".")
            if dot and head and tail in AGGREGATES:
                key, agg = head, tail
    if kind == "dataset" and key not in attributes.DATASET_FIELDS:
        raise QueryError(
            f"unknown dataset field {key!r} (known: {', '.join(attributes.DATASET_FIELDS)})",
            q,
            start,
        )
    if kind == "attribute":
        name = key.lower() if key.isascii() else key
        name = attributes.ALIASES.get(name, name)
        if name not in attributes.NAMES:
            known = ", ".join(attributes.NAMES + tuple(attributes.ALIASES))
            raise QueryError(f"unknown attribute {key!r} (known: {known})", q, start)
        key = name
    return Identifier(kind, key, agg, start), end


def _not_an_identifier(tok: Token, q: str, what: str) -> QueryError:
    """The error for a token where an identifier (or a condition) should start."""
    if tok.kind == "word" and tok.value not in _KEYWORDS:
        word = tok.text
        if word.lower() in attributes.NAMES or word.lower() in attributes.ALIASES:
            hint = f"attributes.{word}"
        else:
            hint = f"metrics.{word}, params.{word} or tags.{word}"
        return QueryError(f"{word!r} needs a prefix: write {hint}", q, tok.pos)
    return QueryError(f"expected {what}, got {_describe(tok)}", q, tok.pos)


# --------------------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, query: str) -> None:
        self.q = query
        self.toks = tokenize(query)
        self.i = 0
        self.depth = 0

    def enter(self, tok: Token) -> None:
        """Count one more level of nesting (a '(' or a NOT at ``tok``)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"too deeply nested: more than {MAX_DEPTH} levels of parentheses and NOT", tok
            )

    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def error(self, message: str, tok: Token) -> QueryError:
        return QueryError(message, self.q, tok.pos)

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "word" and tok.value in words

    def parse(self) -> Node:
        if self.peek().kind == "end":
            return MatchAll()
        node = self.disjunction()
        tok = self.peek()
        if tok.kind == ")":
            raise self.error("unbalanced parenthesis: ')' has no matching '('", tok)
        if tok.kind != "end":
            raise self.error(f"expected AND, OR or the end, got {_describe(tok)}", tok)
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.at_word("OR"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.negation()]
        while self.at_word("AND"):
            self.take()
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Node:
        if self.at_word("NOT"):
            self.enter(self.take())
            node = Not(self.negation())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "(":
            self.enter(tok)
            node = self.disjunction()
            close = self.take()
            if close.kind == ")":
                self.depth -= 1
                return node
            if close.kind == "end":
                raise self.error("unbalanced parenthesis: '(' is never closed", tok)
            raise self.error(f"expected AND, OR or ')', got {_describe(close)}", close)
        if tok.kind == "ident":
            return self.comparison(tok)
        raise _not_an_identifier(tok, self.q, "a condition such as metrics.rmse < 1")

    def comparison(self, ident_tok: Token) -> Comparison:
        ident: Identifier = ident_tok.value
        tok = self.take()
        if tok.kind == "op":
            lit = self.literal(ident, tok.text)
            return Comparison(ident, tok.value, lit.value, ident.pos)
        word = tok.value if tok.kind == "word" else None
        negated = word == "NOT"
        if negated:
            nxt = self.take()
            if not (nxt.kind == "word" and nxt.value in ("LIKE", "ILIKE", "IN")):
                raise self.error(f"expected LIKE, ILIKE or IN after NOT, got {_describe(nxt)}", nxt)
            word = nxt.value
        prefix = "NOT " if negated else ""
        if word in ("LIKE", "ILIKE"):
            if ident.numeric:
                raise self.error(f"{word} needs text; {ident_tok.text} is a number", tok)
            pattern = self.take()
            if pattern.kind != "str":
                raise self.error(f"expected a quoted pattern, got {_describe(pattern)}", pattern)
            return Comparison(ident, prefix + word, pattern.value, ident.pos)
        if word == "IN":
            return Comparison(ident, prefix + "IN", self.in_list(ident), ident.pos)
        if word == "IS":
            nxt = self.take()
            op = "IS NULL"
            if nxt.kind == "word" and nxt.value == "NOT":
                nxt, op = self.take(), "IS NOT NULL"
            if not (nxt.kind == "word" and nxt.value == "NULL"):
                raise self.error(f"expected NULL after {op[:-5]}, got {_describe(nxt)}", nxt)
            return Comparison(ident, op, None, ident.pos)
        raise self.error(
            "expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN or IS) after "
            f"{ident_tok.text!r}, got {_describe(tok)}",
            tok,
        )

    def literal(self, ident: Identifier, after: str) -> Token:
        tok = self.take()
        if tok.kind == "word" and tok.value == "NULL":
            raise self.error(
                f"expected a value after {after!r}; to test for missing use IS NULL", tok
            )
        if tok.kind == "word" and tok.value not in _KEYWORDS:
            raise self.error(
                f"expected a value after {after!r}, got the bare word {tok.text!r}: "
                f"quote strings, e.g. '{tok.text}'",
                tok,
            )
        if tok.kind not in ("num", "str"):
            raise self.error(f"expected a value after {after!r}, got {_describe(tok)}", tok)
        if tok.kind == "num" and ident.kind == "dataset":
            raise self.error(f"datasets.{ident.key} compares only with strings", tok)
        if tok.kind == "str" and ident.numeric:
            what = "metric" if ident.kind == "metric" else "attribute"
            raise self.error(f"{what} {ident.key!r} compares only with numbers, not strings", tok)
        return tok

    def in_list(self, ident: Identifier) -> tuple[Any, ...]:
        tok = self.take()
        if tok.kind != "(":
            raise self.error(f"expected '(' after IN, got {_describe(tok)}", tok)
        first: Token | None = None
        values: list[Any] = []
        while True:
            lit = self.literal(ident, "," if values else "(")
            if first is None:
                first = lit
            elif lit.kind != first.kind:
                raise self.error("an IN list must be all numbers or all strings", lit)
            values.append(lit.value)
            sep = self.take()
            if sep.kind == ")":
                return tuple(values)
            if sep.kind != ",":
                raise self.error(f"expected ',' or ')' in the IN list, got {_describe(sep)}", sep)


def parse(query: str) -> Node:
    """Parse a filter string into an AST; an empty (or blank) filter is ``MatchAll()``.

    Raises ``QueryError`` with the 0-based position of the offending token.
    """
    if not isinstance(query, str):
        raise InvalidInput(f"a filter must be a string, got {type(query).__name__}")
    return _Parser(query).parse()


# --------------------------------------------------------------------------- evaluation


def to_number(text: str) -> float | None:
    """A param/tag string as a number when it has the strict numeric form, else None."""
    return float(text) if _STRICT_NUMBER.fullmatch(text) else None


def getter(ident: Identifier) -> Callable[[Row], Any]:
    """A function returning the row's value for ``ident``, or None when it is missing."""
    key = ident.key
    if ident.kind == "dataset":

        def get_dataset(row: Row) -> Any:  # the first input's (for ORDER BY)
            values = _dataset_values(row, key)
            return values[0] if values else None

        return get_dataset
    if ident.kind == "metric":
        agg = ident.agg

        def get_metric(row: Row) -> Any:
            metrics = row.get("metrics")
            summary = metrics.get(key) if metrics else None
            return None if summary is None else summary.get(agg)

        return get_metric
    if ident.kind in _SECTIONS:
        section = _SECTIONS[ident.kind]

        def get_text(row: Row) -> Any:
            values = row.get(section)
            value = values.get(key) if values else None
            return value if value is None or type(value) is str else str(value)

        return get_text

    numeric = ident.numeric

    def get_attribute(row: Row) -> Any:
        attrs = row.get("attributes")
        value = attrs.get(key) if attrs else None
        if value is None and key == "run_id":
            value = row.get("run_id")
        if value is None or numeric or type(value) is str:
            return value
        if isinstance(value, bool):  # dirty
            return "true" if value else "false"
        return str(value)

    return get_attribute


# The comparison operators of the query language (the registry's version filter too).
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _segment(text: str) -> re.Pattern[str]:
    """A LIKE segment (no ``%``) as a fixed-length regex: ``_`` is any one character."""
    return re.compile("".join("." if c == "_" else re.escape(c) for c in text), re.DOTALL)


def _like(pattern: str, fold: bool) -> Callable[[str], bool]:
    """``%`` is any run of characters, ``_`` exactly one; the whole value must match.

    Matched in time linear in the value's length (times the pattern's), never by a
    backtracking regex over the whole pattern (``'%a%a%a%b'`` on a long value would take
    exponential time): the pattern is split at ``%`` into fixed-length segments; the first
    must match at the start, each middle one is found at its leftmost place after the
    previous one (leftmost is always safe: it leaves the most room for the rest), and the
    last must end the value. query.js does the same.
    """
    parts = (pattern.lower() if fold else pattern).split("%")
    if len(parts) == 1:
        whole = _segment(parts[0]).fullmatch
        if fold:
            return lambda value: whole(value.lower()) is not None
        return lambda value: whole(value) is not None
    first = _segment(parts[0]).match
    middle = [_segment(part).search for part in parts[1:-1] if part]
    last = re.compile("(?:" + _segment(parts[-1]).pattern + r")\Z", re.DOTALL).search

    def matches(value: str) -> bool:
        if fold:
            value = value.lower()
        found = first(value)
        if found is None:
            return False
        pos = found.end()
        for search in middle:
            found = search(value, pos)
            if found is None:
                return False
            pos = found.end()
        return last(value, pos) is not None

    return matches


def _test(c: Comparison) -> Callable[[Any], bool]:
    """The test applied to a present value (already converted to a number if needed)."""
    op, lit = c.op, c.value
    negated = op.startswith("NOT ")
    base = op[4:] if negated else op
    test: Callable[[Any], bool]
    if base in ("LIKE", "ILIKE"):
        assert isinstance(lit, str)
        test = _like(lit, base == "ILIKE")
    elif base == "IN":
        assert isinstance(lit, tuple)
        members = frozenset(lit)
        test = members.__contains__
    else:
        compare = COMPARE[op]
        return lambda value: compare(value, lit)
    if negated:
        return lambda value: not test(value)
    return test


def _dataset_values(row: Row, key: str) -> list[str]:
    return [str(d[key]) for d in row.get("datasets") or () if d.get(key) is not None]


def _compile_dataset(c: Comparison) -> Pred:
    """True when one of the run's data inputs matches (as in MLflow), False when none
    does, UNKNOWN when the run has no input with that field."""
    key = c.ident.key
    if c.op == "IS NULL":
        return lambda row: not _dataset_values(row, key)
    if c.op == "IS NOT NULL":
        return lambda row: bool(_dataset_values(row, key))
    test = _test(c)

    def compare(row: Row) -> bool | None:
        values = _dataset_values(row, key)
        return any(test(v) for v in values) if values else None

    return compare


def _compile_comparison(c: Comparison) -> Pred:
    if c.ident.kind == "dataset":
        return _compile_dataset(c)
    get = getter(c.ident)
    if c.op == "IS NULL":
        return lambda row: get(row) is None
    if c.op == "IS NOT NULL":
        return lambda row: get(row) is not None
    test = _test(c)
    lit = c.value[0] if isinstance(c.value, tuple) else c.value
    if c.ident.numeric or isinstance(lit, str):

        def compare(row: Row) -> bool | None:
            value = get(row)
            return None if value is None else test(value)

        return compare

    def compare_as_number(row: Row) -> bool | None:
        value = get(row)
        if value is None or not _STRICT_NUMBER.fullmatch(value):
            return None
        return test(float(value))

    return compare_as_number


def _compile(node: Node) -> Pred:
    if isinstance(node, Comparison):
        return _compile_comparison(node)
    if isinstance(node, Not):
        inner = _compile(node.item)

        def negate(row: Row) -> bool | None:
            result = inner(row)
            return None if result is None else not result

        return negate
    if isinstance(node, And | Or):
        parts = tuple(_compile(item) for item in node.items)
        decisive = isinstance(node, Or)  # one FALSE decides an AND, one TRUE decides an OR

        def combine(row: Row) -> bool | None:
            unknown = False
            for part in parts:
                result = part(row)
                if result is decisive:
                    return decisive
                if result is None:
                    unknown = True
            return None if unknown else not decisive

        return combine
    return lambda row: True


@lru_cache(maxsize=256)
def _compiled(query: str) -> Pred:
    return _compile(parse(query))


def _predicate(query: str) -> Pred | None:
    """The compiled filter, or None for the empty filter (which keeps every row)."""
    if not isinstance(query, str):
        raise InvalidInput(f"a filter must be a string, got {type(query).__name__}")
    # ASCII whitespace only, as the grammar (and parse()) define it.
    return _compiled(query) if query.strip(" \t\n\r\f\v") else None


def _match_all(row: Row) -> bool:
    return True


def compile_filter(query: str) -> Callable[[Row], bool]:
    """Compile ``query`` once into a function that is True for the rows it keeps."""
    pred = _predicate(query)
    if pred is None:
        return _match_all

    def matches(row: Row) -> bool:
        return pred(row) is True

    return matches


def filter_rows(rows: Iterable[Row], query: str) -> list[Any]:
    """The rows for which ``query`` is TRUE, in their original order."""
    pred = _predicate(query)
    if pred is None:
        return list(rows)
    return [row for row in rows if pred(row) is True]


# --------------------------------------------------------------------------- columns

# A column of the run index for an identifier: ``column(ident, as_number)`` returns an
# Arrow array (one value per run, null where missing) or None when it has no such column
# (then the filter is evaluated row by row). ``as_number``: a param/tag read as a number
# (null where the text is not in the strict numeric form).
Column = Callable[[Identifier, bool], Any]


class _Unsupported(Exception):
    """A filter shape the columnar evaluation does not express."""


def _re2_segment(text: str) -> str:
    out = []
    for ch in text:
        if ch == "_":
            out.append(".")
        elif not ch.isascii() or ch.isalnum():
            out.append(ch)
        else:
            out.append(f"\\x{{{ord(ch):02x}}}")
    return "".join(out)


def like_regex(pattern: str) -> str:
    """A LIKE pattern as an RE2 regex matching the whole value (RE2 never backtracks, so
    this is linear too): ``%`` is ``.*``, ``_`` is ``.``, every other character itself."""
    return "(?s)^" + ".*".join(_re2_segment(p) for p in pattern.split("%")) + "$"


def _vector_comparison(c: Comparison, column: Column, n: int, ops: Any) -> Any:
    if c.ident.kind == "dataset":
        raise _Unsupported
    lit = c.value[0] if isinstance(c.value, tuple) else c.value
    as_number = not (c.op in ("IS NULL", "IS NOT NULL") or c.ident.numeric or isinstance(lit, str))
    values = column(c.ident, as_number)
    if values is None:
        raise _Unsupported
    if c.op == "IS NULL":
        return ops.is_null(values)
    if c.op == "IS NOT NULL":
        return ops.is_valid(values)
    negated = c.op.startswith("NOT ")
    base = c.op[4:] if negated else c.op
    if base in ("LIKE", "ILIKE"):
        assert isinstance(lit, str)
        if base == "ILIKE":
            if not (lit.isascii() and ops.all_ascii(values)):
                raise _Unsupported  # Unicode lowercasing: Python's str.lower decides
            values, lit = ops.lower_ascii(values), lit.lower()
        result = ops.regex_match(values, like_regex(lit))
    elif base == "IN":
        assert isinstance(c.value, tuple)
        result = ops.member(values, c.value)
    else:
        return ops.compare(values, c.op, lit)
    return ops.negate(result) if negated else result


def _vector(node: Node, column: Column, n: int, ops: Any) -> Any:
    if isinstance(node, Comparison):
        return _vector_comparison(node, column, n, ops)
    if isinstance(node, Not):
        return ops.negate(_vector(node.item, column, n, ops))
    if isinstance(node, And):
        return ops.kleene_and([_vector(item, column, n, ops) for item in node.items])
    if isinstance(node, Or):
        return ops.kleene_or([_vector(item, column, n, ops) for item in node.items])
    return ops.constant(n, True)


@lru_cache(maxsize=256)
def _parsed(query: str) -> Node:
    return parse(query)


def evaluate_columns(query: str, column: Column, n: int) -> list[int] | None:
    """The positions (0 … n-1) of the runs ``query`` keeps, evaluated over whole columns
    of the run index (Arrow compute, three-valued as above: null is UNKNOWN); None when
    the filter uses something the columns do not express (datasets, ILIKE on non-ASCII
    text, a column the index could not build), and the caller evaluates row by row."""
    from runsite import arrowio

    try:
        result = _vector(_parsed(query), column, n, arrowio)
    except _Unsupported:
        return None
    return arrowio.true_positions(result)


# --------------------------------------------------------------------------- ordering


def _parse_order_clause(clause: str) -> tuple[Identifier, bool]:
    """``<identifier> [ASC|DESC]`` → (identifier, descending)."""
    if not isinstance(clause, str):
        raise InvalidInput(f"an order_by clause must be a string, got {type(clause).__name__}")
    toks = tokenize(clause)
    if toks[0].kind != "ident":
        raise _not_an_identifier(toks[0], clause, "an identifier such as metrics.rmse")
    tok = toks[1]
    descending = False
    if tok.kind == "word" and tok.value in ("ASC", "DESC"):
        descending = tok.value == "DESC"
        if toks[2].kind != "end":
            raise QueryError(
                f"unexpected {_describe(toks[2])} after {tok.text}", clause, toks[2].pos
            )
    elif tok.kind != "end":
        message = f"expected ASC or DESC after {toks[0].text!r}, got {_describe(tok)}"
        raise QueryError(message, clause, tok.pos)
    return toks[0].value, descending


def _parse_order_by(order_by: Sequence[str] | str | None) -> list[tuple[Identifier, bool]]:
    if not order_by:
        return []
    if isinstance(order_by, str):
        order_by = [order_by]
    return [_parse_order_clause(clause) for clause in order_by]


def _sort_by(rows: list[Any], ident: Identifier, descending: bool) -> list[Any]:
    """Stable sort on one key: values (in the direction asked), then NaN, then missing."""
    get = getter(ident)
    values = [get(row) for row in rows]
    if ident.kind in _SECTIONS:
        present = [v for v in values if v is not None]
        numbers = [to_number(v) for v in present]
        if present and all(x is not None for x in numbers):
            values = [None if v is None else to_number(v) for v in values]
    ordered: list[tuple[Any, Any]] = []
    nans: list[Any] = []
    missing: list[Any] = []
    for value, row in zip(values, rows, strict=True):
        if value is None:
            missing.append(row)
        elif value != value:  # NaN
            nans.append(row)
        else:
            ordered.append((value, row))
    ordered.sort(key=operator.itemgetter(0), reverse=descending)  # reverse keeps stability
    return [row for _, row in ordered] + nans + missing


def _sort(rows: list[Any], clauses: list[tuple[Identifier, bool]]) -> list[Any]:
    for ident, descending in reversed(clauses):
        rows = _sort_by(rows, ident, descending)
    return rows


def sort_rows(rows: Sequence[Row], order_by: Sequence[str] | None) -> list[Any]:
    """``rows`` ordered by clauses like ``"metrics.rmse DESC"``; ties keep input order.

    Missing values sort last and NaN just before them, whatever the direction. Params and
    tags sort as numbers when every present value among ``rows`` is numeric.
    """
    return _sort(list(rows), _parse_order_by(order_by))


def search(
    rows: Iterable[Row],
    filter_string: str | None = "",
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[Any]:
    """Filter, then order, then keep the first ``max_results`` rows."""
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0
    ):
        raise InvalidInput(f"max_results must be a non-negative integer, got {max_results!r}")
    clauses = _parse_order_by(order_by)
    kept = _sort(filter_rows(rows, filter_string or ""), clauses)
    return kept if max_results is None else kept[:max_results]
