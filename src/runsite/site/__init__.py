"""The static site: ``build(store, out)`` renders a store into HTML (see build.py)."""

from __future__ import annotations

from runsite.site.build import BuildResult, build
from runsite.site.writer import BuildError

__all__ = ["BuildError", "BuildResult", "build"]
