"""The package version, in a module of its own so any layer can name it without
importing the package's façade (``runsite/__init__.py``)."""

from __future__ import annotations

__version__ = "0.1.0"
