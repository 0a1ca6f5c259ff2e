"""Site settings: ``<store>/site.yaml`` (written by people), overridden by CLI options.

Publishing controls matter because a GitHub Pages site is public: experiments, runs,
params, tags and artifacts can be left out by glob pattern, and artifacts above a size
are never copied. See docs/site.md.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runsite import validate
from runsite.errors import InvalidInput

FILENAME = "site.yaml"
DEFAULT_MAX_ARTIFACT_BYTES = 10 * 1024 * 1024
_KEYS = ("title", "theme", "exclude", "max_artifact_size", "github", "hide", "publish_diff")
_EXCLUDE_KEYS = ("experiments", "runs", "params", "tags", "artifacts")
# What a run recorded about where it ran, which ``hide:`` can leave off every page.
HIDE_KEYS = ("command", "user", "host", "packages", "git_remote")


@dataclass
class SiteConfig:
    title: str = "runsite"
    theme: str | None = None
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES
    exclude: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in _EXCLUDE_KEYS})
    hide: frozenset[str] = frozenset()  # some of HIDE_KEYS
    publish_diff: bool = False  # the uncommitted-changes patch a dirty run recorded
    source: str | None = None  # the file it came from

    def excluded(self, kind: str, *names: str | None) -> bool:
        """True when any of ``names`` matches an exclude pattern of ``kind``."""
        patterns = self.exclude.get(kind, [])
        if not patterns:  # the usual case, asked once per param and tag of every run
            return False
        return any(
            name is not None and fnmatch.fnmatchcase(name, p) for p in patterns for name in names
        )

    def fingerprint(self) -> str:
        return repr(
            (
                self.title,
                self.theme,
                self.max_artifact_bytes,
                sorted(self.exclude.items()),
                sorted(self.hide),
                self.publish_diff,
            )
        )


def load(store_root: Path, **overrides: Any) -> SiteConfig:
    """The store's ``site.yaml`` (if any) with non-``None`` ``overrides`` applied."""
    cfg = SiteConfig()
    path = store_root / FILENAME
    if path.is_file():
        from runsite import yamlio

        data = yamlio.load_settings(path, _KEYS)
        cfg.source = str(path)
        if data.get("title"):
            cfg.title = str(data["title"])
        if data.get("theme"):
            cfg.theme = str(data["theme"])
        if data.get("max_artifact_size") is not None:
            cfg.max_artifact_bytes = validate.size_in_bytes(
                data["max_artifact_size"], "max_artifact_size"
            )
        excl = data.get("exclude") or {}
        if not isinstance(excl, dict) or set(excl) - set(_EXCLUDE_KEYS):
            raise InvalidInput(
                f"{path}: exclude must map some of {', '.join(_EXCLUDE_KEYS)} to lists of patterns"
            )
        for kind, patterns in excl.items():
            if isinstance(patterns, str):
                patterns = [patterns]
            cfg.exclude[kind] = [str(p) for p in patterns or []]
        hide = data.get("hide") or []
        if isinstance(hide, str):
            hide = [hide]
        if not isinstance(hide, list) or set(map(str, hide)) - set(HIDE_KEYS):
            raise InvalidInput(f"{path}: hide must be a list of some of {', '.join(HIDE_KEYS)}")
        cfg.hide = frozenset(map(str, hide))
        diff = data.get("publish_diff", False)
        if not isinstance(diff, bool):
            raise InvalidInput(f"{path}: publish_diff must be true or false")
        cfg.publish_diff = diff
    for key, value in overrides.items():
        if value is not None:
            setattr(cfg, key, value)
    return cfg
