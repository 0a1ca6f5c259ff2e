"""The static site: ``build(store, out)`` renders a store into HTML (see build.py)."""

from __future__ import annotations

from runsite.site.build import BuildResult, build

__all__ = ["BuildResult", "build"]
