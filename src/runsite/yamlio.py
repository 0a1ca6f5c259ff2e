"""Everything that touches ruamel.yaml (YAML that keeps comments and key order)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from runsite.errors import StoreFormatError


def dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def load_safe(path: Path) -> Any:
    """Plain data from a YAML file; errors name the file, line and column."""
    yaml = YAML(typ="safe", pure=True)
    try:
        return yaml.load(path.read_text("utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise StoreFormatError(f"{path}: invalid YAML at {where}: {exc.problem}") from None
    except YAMLError as exc:
        raise StoreFormatError(f"{path}: invalid YAML: {exc}") from None
