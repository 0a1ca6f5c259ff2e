"""MLflow's model-version filter (``search_model_versions``) over the manifest's versions.

The grammar is MLflow's: conditions joined by ``AND``, each ``name``, ``run_id``,
``source_path``, ``version_number`` or ``tags.<key>`` compared with ``=``, ``!=``,
``LIKE``, ``ILIKE`` (and ``IN`` / ``NOT IN`` for ``name`` and ``run_id``; ``<``, ``>`` …
for ``version_number``). Tokens come from the runs query language (``runsite.search``), so
quoting works the same way in both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from runsite import search
from runsite.errors import InvalidInput, QueryError
from runsite.registry.manifest import ModelVersion, RegisteredModel

_STRING_KEYS = ("name", "run_id", "source_path")
_LIST_KEYS = ("name", "run_id")
_ORDER_KEYS = ("name", "version_number", "creation_timestamp", "last_updated_timestamp")

Test = Callable[[ModelVersion], bool]


def _value(mv: ModelVersion, key: str) -> Any:
    if key == "name":
        return mv.name
    if key == "run_id":
        return mv.run_id
    if key == "source_path":
        return mv.source
    return mv.version


def _like(pattern: str, fold: bool) -> Callable[[str], bool]:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(regex, re.DOTALL | (re.IGNORECASE if fold else 0))
    return lambda text: compiled.fullmatch(text) is not None


_VERSION_KEYS = (*_STRING_KEYS, "version_number")


def _clause(
    toks: list[Any], i: int, q: str, keys: Sequence[str] = _VERSION_KEYS
) -> tuple[Test, int]:
    tok = toks[i]
    if tok.kind == "ident" and tok.value.kind == "tag":
        tag_key, key = tok.value.key, None
    elif tok.kind == "word" and tok.text.lower() in keys:
        tag_key, key = None, tok.text.lower()
    else:
        raise QueryError(
            f"expected {', '.join(keys)} or tags.<key>, got {tok.text or 'the end'!r}",
            q,
            tok.pos,
        )
    i += 1
    op_tok = toks[i]
    negated = False
    if op_tok.kind == "word" and op_tok.value == "NOT":
        negated, i = True, i + 1
        op_tok = toks[i]
        if not (op_tok.kind == "word" and op_tok.value == "IN"):
            raise QueryError("expected IN after NOT", q, op_tok.pos)
    if op_tok.kind == "op" or (op_tok.kind == "word" and op_tok.value in ("LIKE", "ILIKE", "IN")):
        op = op_tok.value
    else:
        raise QueryError(f"expected a comparison after {tok.text!r}", q, op_tok.pos)
    i += 1
    numeric = key == "version_number"
    if op == "IN":
        if key not in _LIST_KEYS:
            raise QueryError(f"IN works with name and run_id only, not {tok.text!r}", q, op_tok.pos)
        if toks[i].kind != "(":
            raise QueryError("expected '(' after IN", q, toks[i].pos)
        values: list[str] = []
        i += 1
        while True:
            if toks[i].kind != "str":
                raise QueryError("an IN list holds quoted strings", q, toks[i].pos)
            values.append(toks[i].value)
            i += 1
            if toks[i].kind == ")":
                i += 1
                break
            if toks[i].kind != ",":
                raise QueryError("expected ',' or ')' in the IN list", q, toks[i].pos)
            i += 1
        members = frozenset(values)
        in_key: str = key

        def in_test(mv: ModelVersion) -> bool:
            return (_value(mv, in_key) in members) != negated

        return in_test, i
    lit = toks[i]
    if numeric:
        if lit.kind != "num" or op in ("LIKE", "ILIKE"):
            raise QueryError("version_number compares with a number", q, lit.pos)
    elif lit.kind != "str":
        raise QueryError(f"expected a quoted string after {op}", q, lit.pos)
    elif op not in ("=", "!=", "LIKE", "ILIKE"):
        raise QueryError(f"{tok.text} takes =, !=, LIKE or ILIKE, not {op}", q, op_tok.pos)
    i += 1
    literal = lit.value
    check: Callable[[Any], bool]
    if op in ("LIKE", "ILIKE"):
        check = _like(literal, op == "ILIKE")
    else:
        compare = search.COMPARE[op]

        def check(v: Any) -> bool:
            return compare(v, literal)

    if tag_key is not None:
        wanted_tag = tag_key

        def tag_test(mv: ModelVersion) -> bool:
            value = mv.tags.get(wanted_tag)
            return value is not None and check(value)

        return tag_test, i
    attr: str = key  # type: ignore[assignment]
    return (lambda mv: check(_value(mv, attr))), i


def compile_filter(filter_string: str | None, keys: Sequence[str] = _VERSION_KEYS) -> Test:
    """A test for one ``ModelVersion`` (or, with ``keys=("name",)``, one registered
    model); raises ``QueryError`` naming the bad token."""
    q = filter_string or ""
    if not isinstance(q, str):
        raise InvalidInput(f"a filter must be a string, got {type(q).__name__}")
    toks = search.tokenize(q)
    if toks[0].kind == "end":
        return lambda mv: True
    tests: list[Test] = []
    i = 0
    while True:
        test, i = _clause(toks, i, q, keys)
        tests.append(test)
        tok = toks[i]
        if tok.kind == "end":
            break
        if not (tok.kind == "word" and tok.value == "AND"):
            raise QueryError(f"expected AND or the end, got {tok.text!r}", q, tok.pos)
        i += 1
    return lambda mv: all(t(mv) for t in tests)


def _order_key(clause: str) -> tuple[str, bool]:
    parts = clause.split()
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
        raise InvalidInput(f"order_by clause {clause!r}: write e.g. 'version_number DESC'")
    key = parts[0].lower()
    if key.startswith("attributes."):
        key = key[len("attributes.") :]
    if key not in _ORDER_KEYS:
        raise InvalidInput(f"order_by key {parts[0]!r}: one of {', '.join(_ORDER_KEYS)}")
    return key, len(parts) == 2 and parts[1].upper() == "DESC"


def _sort_value(mv: ModelVersion, key: str) -> Any:
    if key in ("creation_timestamp", "last_updated_timestamp"):
        # The manifest records when a version was registered; later edits are in git.
        return mv.registered or ""
    return _value(mv, key)


def search_versions(
    versions: Iterable[ModelVersion],
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Filter, order (MLflow's default: newest first, then name, then version DESC)."""
    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
    ):
        raise InvalidInput(f"max_results must be a positive integer, got {max_results!r}")
    test = compile_filter(filter_string)
    kept = [mv for mv in versions if test(mv)]
    clauses = [
        _order_key(c)
        for c in (order_by or ["last_updated_timestamp DESC", "name ASC", "version_number DESC"])
    ]
    for key, descending in reversed(clauses):
        kept.sort(key=lambda mv, k=key: _sort_value(mv, k), reverse=descending)  # type: ignore[misc]
    return kept if max_results is None else kept[:max_results]


def search_models(
    models: Iterable[RegisteredModel],
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """MLflow's registered-model filter (``name`` and ``tags.<key>`` with ``=``, ``!=``,
    ``LIKE``, ``ILIKE``, joined by ``AND``); by name unless ``order_by`` says otherwise
    (``name`` only: the manifest keeps no model timestamps)."""
    test = compile_filter(filter_string, ("name",))
    kept = sorted((m for m in models if test(m)), key=lambda m: m.name)  # type: ignore[arg-type]
    for clause in reversed(list(order_by or [])):
        parts = clause.split()
        key = parts[0].lower().removeprefix("attributes.") if parts else ""
        if (
            key != "name"
            or len(parts) > 2
            or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC"))
        ):
            raise InvalidInput(f"order_by clause {clause!r}: write 'name ASC' or 'name DESC'")
        kept.sort(key=lambda m: m.name, reverse=len(parts) == 2 and parts[1].upper() == "DESC")
    return kept
