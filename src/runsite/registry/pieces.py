"""Parsing many versions of ``registry.yaml`` (its git history) fast: each distinct piece
of the file is parsed once, and the result is what parsing the whole file gives.

Parsing every version of a manifest in full is slow (ruamel is pure Python: ~0.1 ms
a line, and a manifest grows with every version), while consecutive versions differ
in a few lines. So a manifest in plain block style is cut into pieces - the top-level
keys other than ``models``, each model's keys other than ``versions``, each version
entry - and each distinct piece is parsed once with ``manifest.parse``. Anything
unusual (anchors, tags, flow collections, tabs, odd indentation, quoted or special
keys, several documents) or any piece that does not parse is parsed whole instead.
"""

from __future__ import annotations

import re
from typing import Any

from runsite.errors import StoreFormatError
from runsite.registry.manifest import parse


class _Invalid:
    """A manifest that does not parse (or is not a mapping of models)."""


INVALID = _Invalid()


# tabs, document markers, directives, complex keys; anchors, aliases, tags and flow
# collections where a node starts (inside plain text they are plain text)
_UNSAFE = re.compile(
    r"[\t\r]|^[ ]*(?:---|\.\.\.|%|\?)|(?:^[ ]*(?:-[ ]+)*|:[ ]+)[&*!{\[]", re.MULTILINE
)
_KEY_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*):(?:[ ]+(.*))?")
_SPECIAL_KEYS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


class _Fallback(Exception):
    """The text is not in the simple form the piecewise parser handles."""


def _indent(line: str) -> int | None:
    """The indentation of a content line; ``None`` for a blank or comment line."""
    text = line.lstrip(" ")
    if not text or text[0] == "#" or text.isspace():
        return None
    return len(line) - len(text)


def _dedent(lines: list[str], n: int) -> str:
    # comment lines may be less indented than the rest: they become empty lines
    return "\n".join(line[n:] if line[:n].isspace() or not n else "" for line in lines) + "\n"


def _no_value(rest: str) -> bool:
    return not rest.strip() or rest.lstrip().startswith("#")


def _mapping_entries(lines: list[str]) -> tuple[int, list[tuple[str, str, list[str]]]]:
    """A block mapping's entries: (key, text after the colon, lines of the entry)."""
    at: int | None = None
    entries: list[tuple[str, str, list[str]]] = []
    for line in lines:
        indent = _indent(line)
        if indent is None:
            if entries:
                entries[-1][2].append(line)
            continue
        if at is None:
            at = indent
        if indent < at:
            raise _Fallback
        if indent == at:
            if line[at] == "-" and entries and _no_value(entries[-1][1]):
                entries[-1][2].append(line)  # an indentless sequence: `key:` then `- item`
                continue
            match = _KEY_LINE.fullmatch(line, at)
            if not match or match.group(1).lower() in _SPECIAL_KEYS:
                raise _Fallback
            entries.append((match.group(1), match.group(2) or "", [line]))
        else:
            entries[-1][2].append(line)
    if len({key for key, _, _ in entries}) != len(entries):
        raise _Fallback  # a duplicate key: let the full parse report it
    return at or 0, entries


def _sequence_items(lines: list[str]) -> tuple[int, list[list[str]]]:
    """A block sequence's items: the lines of each."""
    at: int | None = None
    items: list[list[str]] = []
    for line in lines:
        indent = _indent(line)
        if indent is None:
            if items:
                items[-1].append(line)
            continue
        if at is None:
            at = indent
        if indent < at:
            raise _Fallback
        if indent == at:
            item = line[at:]
            if not (item == "-" or item.startswith("- ")):
                raise _Fallback
            items.append([line])
        else:
            items[-1].append(line)
    return at or 0, items


class ManifestParser:
    """``manifest.parse`` of many versions of a manifest, each distinct piece once."""

    def __init__(self) -> None:
        self.pieces: dict[str, Any] = {}
        self.models: dict[str, Any] = {}  # a model's lines → its value

    def load(self, text: str) -> Any:
        """The parsed manifest, ``None`` for an empty one, ``INVALID`` for one that does
        not parse or is not a mapping of models."""
        try:
            try:
                doc = self._pieces(text)
            except (_Fallback, StoreFormatError):  # a piece that does not parse: whole
                doc = parse(text)
        except StoreFormatError:
            return INVALID
        if doc is None:
            return None
        if not isinstance(doc, dict):
            return INVALID
        models = doc.get("models")
        if models is not None and not isinstance(models, dict):
            return INVALID
        return doc

    def _parse(self, text: str) -> Any:
        try:
            result = self.pieces[text]
        except KeyError:
            try:
                result = parse(text)
            except StoreFormatError as exc:
                result = exc
            self.pieces[text] = result
        if isinstance(result, StoreFormatError):
            raise result
        return result

    def _pieces(self, text: str) -> Any:
        lines = text.split("\n")
        if _UNSAFE.search(text) and any(
            _UNSAFE.search(line) for line in lines if not line.lstrip().startswith("#")
        ):
            raise _Fallback
        top_at, top = _mapping_entries(lines)
        if not top or top_at != 0:
            raise _Fallback
        rest = [line for key, _, body in top if key != "models" for line in body]
        entries = [e for e in top if e[0] == "models"]
        if len(entries) != 1 or not _no_value(entries[0][1]):
            raise _Fallback
        head = self._parse("\n".join(rest) + "\n") if rest else None
        if head is not None and not isinstance(head, dict):
            raise _Fallback
        doc: dict[str, Any] = dict(head or {})
        _, model_entries = _mapping_entries(entries[0][2][1:])
        models: dict[str, Any] = {}
        for name, value, body in model_entries:
            if not _no_value(value):
                raise _Fallback
            key = "\n".join(body[1:])
            if key not in self.models:
                self.models[key] = self._model(body[1:])
            models[name] = self.models[key]
        doc["models"] = models or None
        return doc

    def _model(self, lines: list[str]) -> Any:
        at, entries = _mapping_entries(lines)
        if not entries:
            return None
        versions = next(
            (e for e in entries if e[0] == "versions" and _no_value(e[1]) and len(e[2]) > 1), None
        )
        if versions is None:
            return self._parse(_dedent(lines, at))
        head_lines = [line for e in entries if e is not versions for line in e[2]]
        head = self._parse(_dedent(head_lines, at)) if head_lines else None
        if head is not None and not isinstance(head, dict):
            raise _Fallback
        item_at, items = _sequence_items(versions[2][1:])
        parsed: list[Any] = []
        for item in items:
            value = self._parse(_dedent(item, item_at))
            if not isinstance(value, list) or len(value) != 1:
                raise _Fallback
            parsed.append(value[0])
        return {**(head or {}), "versions": parsed or None}
