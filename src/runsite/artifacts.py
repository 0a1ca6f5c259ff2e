"""``mlflow.artifacts`` for runsite: ``runsite.artifacts.download_artifacts``.

(The helpers that copy files into a run live in ``runsite.artifact_files``.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from runsite.errors import InvalidInput, NotFound

__all__ = ["download_artifacts"]


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Copy artifacts to a local folder and return the local path, as MLflow's
    ``mlflow.artifacts.download_artifacts`` does.

    Give either ``run_id`` (with an optional ``artifact_path`` inside the run; none means
    all of its artifacts) or ``artifact_uri``: ``runs:/<run-id>/<path>``,
    ``models:/<name>/<version|stage>`` / ``models:/<name>@<alias>`` (the registered
    model's files, their hash checked first, into ``dst_path``), or a local path or
    ``file:`` URI.
    ``dst_path`` defaults to a new temporary folder. A file comes back as
    ``<dst_path>/<file name>``, a folder as ``<dst_path>/<folder name>``, a run's whole
    artifacts (or a folder path ending in ``/``) as their contents in ``dst_path``."""
    from runsite.client import MlflowClient

    if (artifact_uri is None) == (run_id is None) or (artifact_uri and artifact_path):
        raise InvalidInput(
            "download_artifacts: give exactly one of run_id (with an optional "
            "artifact_path) or artifact_uri"
        )
    client = MlflowClient(tracking_uri) if tracking_uri else MlflowClient()
    if artifact_uri is None:
        return client.download_artifacts(str(run_id), artifact_path or "", _dst(dst_path))
    uri = str(artifact_uri)
    if uri.startswith("runs:/"):
        rest = uri[len("runs:/") :].lstrip("/")
        rid, _, path = rest.partition("/")
        if not rid:
            raise InvalidInput(f"artifact URI {uri!r} names no run (runs:/<run-id>/<path>)")
        return client.download_artifacts(rid, path, _dst(dst_path))
    if uri.startswith("models:/"):
        from runsite import location
        from runsite.registry import Registry

        root = location.path_from_uri(tracking_uri) if tracking_uri else None
        reg = Registry(root or location.get_store_path())
        folder = reg.verified_folder(reg.resolve(uri[len("models:/") :]))
        out = Path(_dst(dst_path))
        out.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, out, dirs_exist_ok=True, symlinks=False)
        return str(out.resolve())
    from runsite.location import path_from_uri

    src = path_from_uri(uri)
    if not src.exists():
        raise NotFound(f"no artifact at {uri!r}")
    return _copy(src, _dst(dst_path))


def _dst(dst_path: str | os.PathLike[str] | None) -> str:
    return os.fspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="runsite-")


def _copy(src: Path, dst: str) -> str:
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    target = out / src.name
    if src.is_dir():
        shutil.copytree(src, target, dirs_exist_ok=True, symlinks=False)
    else:
        shutil.copyfile(src, target)
    return str(target.resolve())
