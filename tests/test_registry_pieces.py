"""runsite.registry.pieces: parsing registry.yaml piece by piece gives what parsing it
whole gives, on ordinary manifests and on every form it hands to the whole parse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runsite.errors import StoreFormatError
from runsite.registry.manifest import models_of, parse
from runsite.registry.pieces import INVALID, ManifestParser
from test_history import manifest, model

HASH = "sha256:" + "ab" * 32

EXAMPLE = f"""\
# the registry
format: 1
policy:
  max_production_versions: 1
models:
  taxi:
    description: Predicts fares.
    aliases:
      champion: 2
    versions:
      - version: 1
        run: 01jd0000000000000000000001
        artifact: model
        hash: {HASH}
        registered: 2026-11-27T20:00:00Z
        stage: archived
# a comment at column 0
      - version: 2   # trailing comment
        run: 01jd0000000000000000000002
        artifact: model
        hash: {HASH}
        stage: production
        description: |
          # not a comment
          - not an item
          models:
        tags:
          team: pricing
  bikes:
    versions:
    - version: 1
      run: r1
      artifact: model
      hash: {HASH}
      description: a plain scalar
        continued on the next line
    - version: 2
      run: r2
      artifact: model
      hash: {HASH}
      stage: Staging
  empty:
  no-versions:
    description: nothing yet
    versions:
    # only a comment
"""

PIECEWISE_CASES = [
    EXAMPLE,
    EXAMPLE.replace("format: 1\n", "") + "format: 1\n",  # models not last
    EXAMPLE.replace("  bikes:", '  "bikes":'),  # a quoted key: parsed whole
    EXAMPLE.replace("  empty:\n", "  taxi:\n    versions:\n"),  # a duplicate model
    EXAMPLE.replace("        stage: archived\n", "        stage: archived\n        stage: none\n"),
    EXAMPLE.replace("Predicts fares.", '"Predicts\n  fares."'),  # quoted, continued
    EXAMPLE.replace("Predicts fares.", '"Predicts\n    x: fares."'),
    EXAMPLE.replace("      champion: 2", "      champion: 2\n    champion: 3"),  # bad indent
    EXAMPLE.replace("  bikes:\n    versions:", "  bikes:\n    versions: null"),
    EXAMPLE.replace("  empty:", "  true:"),
    EXAMPLE.replace("  empty:", "  1e3:"),
    EXAMPLE.replace("    - version: 2", "   - version: 2"),
    EXAMPLE.replace("        run: 01jd0000000000000000000002", "\trun: x"),
    EXAMPLE + "---\nformat: 1\n",
    EXAMPLE.replace("Predicts fares.", "Predicts fares [beta] & tips * 2!"),  # plain text
    EXAMPLE.replace("Predicts fares.", "&d Predicts fares.").replace("nothing yet", "*d"),
    EXAMPLE.replace("      champion: 2", "      champion: !!str 2"),
    EXAMPLE.replace("      champion: 2", "      champion: [2]"),
    EXAMPLE.replace("    aliases:\n      champion: 2", "    aliases: {champion: 2}"),
    "%YAML 1.1\n---\n" + EXAMPLE.replace("  empty:", "  on:"),
    "format: 1\nmodels: {}\n",
    "format: 1\nmodels:\n",
    "format: 1\nmodels:\n  - taxi\n",
    "models:\n  taxi:\n    versions:\n      - version: 1\n      - [oops\n",
    "- a list\n",
    "just text\n",
    "",
    "# only a comment\n",
    manifest(model("taxi", {1: "staging", 2: None}, {"champion": 1}), model("bikes", {1: None})),
]


def _plain(doc: Any) -> Any:
    return json.loads(json.dumps(doc, default=str))


@pytest.mark.parametrize("text", PIECEWISE_CASES)
def test_piecewise_parse_matches_whole_parse(text: str) -> None:
    try:
        whole = parse(text)
    except StoreFormatError:
        whole = "invalid"
    if whole != "invalid" and (
        not isinstance(whole, dict | type(None))
        or not isinstance((whole or {}).get("models"), dict | type(None))
    ):
        whole = "invalid"
    got = ManifestParser().load(text)
    got = "invalid" if got is INVALID else got
    assert _plain(got) == _plain(whole)
    if whole != "invalid":
        assert _plain({k: m.to_dict() for k, m in models_of(got).items()}) == _plain(
            {k: m.to_dict() for k, m in models_of(whole).items()}
        )


def test_piecewise_parse_reuses_pieces() -> None:
    parser = ManifestParser()
    parser.load(EXAMPLE)
    assert len(parser.pieces) == 7  # top keys, 2 model heads, 4 version entries
    parser.load(EXAMPLE.replace("stage: production", "stage: archived"))
    assert len(parser.pieces) == 8  # only the changed version entry is parsed again
