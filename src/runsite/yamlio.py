"""Everything that touches ruamel.yaml (YAML that keeps comments and key order)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from runsite.atomic import write_atomic
from runsite.errors import InvalidInput, StoreFormatError


def dump(data: Any, *, sort_keys: bool = False, ascii_only: bool = False) -> str:
    """Block-style YAML; ``sort_keys`` and ``ascii_only`` (non-ASCII characters as
    ``"\\xE9"`` escapes) give what PyYAML's ``yaml.dump`` writes, as MLflow's ``log_dict``."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = sort_keys  # type: ignore[assignment]
    yaml.allow_unicode = not ascii_only
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


# Limits for YAML and JSON read from a store: beyond them a file is refused with a clear
# error instead of exhausting memory or the stack (docs/security.md).
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000


def check_shape(data: Any, source: object, max_depth: int = MAX_DEPTH) -> Any:
    """``data`` if its nesting is at most ``max_depth`` levels and it has at most
    ``MAX_NODES`` values counted as a tree (so YAML aliases cannot multiply it); a
    ``StoreFormatError`` naming ``source`` otherwise. Iterative: no recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise StoreFormatError(
                f"{source}: more than {MAX_NODES:,} values (YAML aliases expanding?); refused"
            )
        if isinstance(value, dict | list | tuple):
            if depth > max_depth:
                raise StoreFormatError(
                    f"{source}: nested more than {max_depth} levels deep; refused"
                )
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)
    return data


# What can open a flow collection, once comments and quoted scalars are taken out.
_FLOW_NOISE = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|(?:^|(?<=\s))#[^\n]*""", re.M)
_FLOW_BRACKETS = re.compile(r"[\[\]{}]")


def check_flow_depth(text: str, source: object, max_depth: int = MAX_DEPTH) -> None:
    """Refuse ``[[[[…`` nested past ``max_depth`` before the parser sees it: ruamel parses
    a 20,000-deep flow sequence for seconds before its recursion gives out. Brackets in
    comments and quoted scalars do not count; a plain scalar's brackets may (a scalar
    with dozens of unclosed ``[`` is refused too)."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for m in _FLOW_BRACKETS.finditer(_FLOW_NOISE.sub("", text)):
        depth = depth + 1 if m.group() in "[{" else max(depth - 1, 0)
        if depth > max_depth:
            raise StoreFormatError(f"{source}: nested more than {max_depth} levels deep; refused")


def load_safe(path: Path) -> Any:
    """Plain data from a YAML file; errors name the file, line and column."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise StoreFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_BYTES:
        raise StoreFormatError(f"{path}: {size:,} bytes; the limit is {MAX_BYTES:,}")
    return loads(path.read_text("utf-8", "replace"), path)


def load_settings(path: Path, keys: Sequence[str]) -> dict[str, Any]:
    """A settings file of the store (``site.yaml``, ``storage.yaml``): a mapping of some of
    ``keys`` (``{}`` when the file is empty). Another key is an error naming the known."""
    data = load_safe(path) or {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must be a mapping")
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise InvalidInput(f"{path}: unknown keys {unknown} (known: {', '.join(keys)})")
    return dict(data)


def loads(text: str, source: object) -> Any:
    """Plain data from YAML text, within the limits above; errors name ``source``."""
    if len(text) > MAX_BYTES:
        raise StoreFormatError(f"{source}: {len(text):,} characters; the limit is {MAX_BYTES:,}")
    check_flow_depth(text, source)
    yaml = YAML(typ="safe", pure=True)
    try:
        return check_shape(yaml.load(text), source)
    except RecursionError:
        raise StoreFormatError(f"{source}: nested too deeply to read; refused") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise StoreFormatError(f"{source}: invalid YAML at {where}: {exc.problem}") from None
    except YAMLError as exc:
        raise StoreFormatError(f"{source}: invalid YAML: {exc}") from None


# Round-trip documents (``registry.yaml``): comments, key order and quoting survive an
# edit. ``CommentedMap``/``CommentedSeq`` are the mapping and list nodes of such a tree.
__all__ = ["CommentedMap", "CommentedSeq"]


def _roundtrip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def roundtrip_loads(text: str, source: object) -> Any:
    """A round-trip tree from YAML text (nodes know their line and column), within the
    limits above; errors name ``source``, the line and the column."""
    if len(text) > MAX_BYTES:
        raise StoreFormatError(f"{source}: {len(text):,} characters; the limit is {MAX_BYTES:,}")
    check_flow_depth(text, source)
    try:
        return check_shape(_roundtrip().load(text), source)
    except RecursionError:
        raise StoreFormatError(f"{source}: nested too deeply to read; refused") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise StoreFormatError(f"{source}: invalid YAML at {where}: {exc.problem}") from None
    except YAMLError as exc:
        raise StoreFormatError(f"{source}: invalid YAML: {exc}") from None


def roundtrip_dumps(doc: Any) -> str:
    """The text of a round-trip tree (2-space mappings, lists indented under their key)."""
    buf = io.StringIO()
    _roundtrip().dump(doc, buf)
    return buf.getvalue()


def edit_mapping(path: Path, changes: dict[str, Any]) -> bool:
    """Set top-level keys of the YAML mapping in ``path`` (created when missing), keeping
    its comments, key order and the keys not named; a value of ``None`` removes its key.
    Multi-line strings are written as ``|`` blocks. Returns False when nothing changed
    (the file is then left untouched, so calling it twice cannot make a git conflict)."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    old = path.read_text("utf-8") if path.is_file() else ""
    if len(old) > MAX_BYTES:
        raise StoreFormatError(f"{path}: {len(old):,} characters; the limit is {MAX_BYTES:,}")
    try:
        doc = yaml.load(old) if old.strip() else None
    except YAMLError as exc:
        raise StoreFormatError(f"{path}: invalid YAML, not changed: {exc}") from None
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise StoreFormatError(f"{path}: not a mapping of keys to values; not changed")
    check_shape(doc, path)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        elif isinstance(value, str) and "\n" in value:
            doc[key] = LiteralScalarString(value if value.endswith("\n") else value + "\n")
        else:
            doc[key] = value
    buf = io.StringIO()
    yaml.dump(doc, buf)
    new = buf.getvalue() if doc else ""
    if new == old:
        return False
    write_atomic(path, new)
    return True
