"""Extension points: a lower layer calls them, a higher layer fills them.

``Run.log_model`` (runs layer) needs the models layer, and loading ``models:/…``
(models layer) needs the registry. Rather than importing upward, those layers call the
functions kept here, which the package façade (``runsite/__init__.py``, always executed
before any submodule) installs. See docs/architecture.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runsite.errors import RunsiteError

ModelLogger = Callable[..., Any]
UriResolver = Callable[[str, "str | os.PathLike[str] | None"], Path]
VersionResolver = Callable[[str, "str | os.PathLike[str] | None"], tuple[Path, Any]]

_model_logger: ModelLogger | None = None
_uri_resolvers: dict[str, UriResolver] = {}
_version_resolvers: dict[str, VersionResolver] = {}


def set_model_logger(fn: ModelLogger) -> None:
    """Install what ``Run.log_model(model, name, **kwargs)`` calls as
    ``fn(run, model, name, **kwargs)``."""
    global _model_logger
    _model_logger = fn


def model_logger() -> ModelLogger:
    if _model_logger is None:
        raise RunsiteError("no model logger installed (import runsite first)")
    return _model_logger


def set_uri_resolver(scheme: str, fn: UriResolver, version_fn: VersionResolver) -> None:
    """Install the resolvers of ``<scheme>:/…`` model URIs: ``fn(uri, store)`` gives the
    verified folder, ``version_fn(uri, store)`` the folder and the registry's ``ModelVersion``
    (``load_model`` checks the bytes against its hash while reading them once)."""
    _uri_resolvers[scheme] = fn
    _version_resolvers[scheme] = version_fn


def uri_resolver(scheme: str) -> UriResolver | None:
    return _uri_resolvers.get(scheme)


def version_resolver(scheme: str) -> VersionResolver | None:
    return _version_resolvers.get(scheme)
