"""Where the store is: ``set_store()``, else ``$RUNSITE_STORE``, else ``./runs``.

Foundation layer: the store reader, the logging API and the registry all ask here, so
none of them has to import the fluent API to learn the store in use.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from runsite.errors import InvalidInput

DEFAULT_STORE = "runs"

_store: Path | None = None


def set_store(path: str | os.PathLike[str] | None) -> None:
    """Use the store at ``path`` (a directory; created when the first run starts);
    ``None`` goes back to ``$RUNSITE_STORE`` / ``./runs``."""
    global _store
    _store = None if path is None else Path(path)


def path_from_uri(uri: str) -> Path:
    """The folder a tracking URI names: a path or a ``file:`` URI (no servers)."""
    if uri.strip().lower() in ("databricks", "databricks-uc", "uc"):  # MLflow's server names
        raise InvalidInput(
            f"tracking URI {uri!r}: runsite has no tracking server; give a folder path or a "
            "file: URI (e.g. 'runs' or 'file:///home/me/project/runs')"
        )
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        if parsed.scheme == "file":
            if parsed.netloc not in ("", "localhost"):
                raise InvalidInput(
                    f"tracking URI {uri!r}: file URIs on another host are not supported"
                )
            return Path(unquote(parsed.path))
        return Path(uri)
    raise InvalidInput(
        f"tracking URI {uri!r}: runsite has no tracking server; give a folder path or a "
        "file: URI (e.g. 'runs' or 'file:///home/me/project/runs')"
    )


def store_is_set() -> bool:
    """Whether a store was chosen (``set_store`` / ``set_tracking_uri`` or
    ``$RUNSITE_STORE``) rather than the default ``./runs``."""
    return _store is not None or bool(os.environ.get("RUNSITE_STORE"))


def get_store_path() -> Path:
    """The store in use: ``set_store()``, else ``$RUNSITE_STORE``, else ``./runs``."""
    if _store is not None:
        return _store
    env = os.environ.get("RUNSITE_STORE")
    return path_from_uri(env) if env else Path(DEFAULT_STORE)
