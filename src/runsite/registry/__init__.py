"""The model registry: ``registry.yaml`` in the store, changed by pull request.

Module-level functions work on the current store (``runsite.set_store``), with MLflow's
names; ``Registry(store)`` is the same without global state.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runsite.registry.api import Change, Registry
from runsite.registry.manifest import STAGES, ModelVersion, RegisteredModel

if TYPE_CHECKING:
    from runsite.models.api import ModelInfo
    from runsite.run import Run
    from runsite.store import RunRecord

log = logging.getLogger("runsite")

__all__ = [
    "STAGES",
    "Change",
    "ModelVersion",
    "RegisteredModel",
    "Registry",
    "delete_model_alias",
    "delete_runs",
    "get_latest_versions",
    "get_model_version",
    "list_models",
    "log_registered_model",
    "register_logged_model",
    "register_model",
    "resolve_model_uri",
    "search_model_versions",
    "search_registered_models",
    "set_model_alias",
    "set_model_stage",
]


def register_model(
    model_uri: str, name: str, description: str | None = None, tags: Mapping[str, Any] | None = None
) -> ModelVersion:
    """Register the model at ``runs:/<run-id>/<name>`` as the next version of ``name``
    (stage ``none``). The run must have ended."""
    return Registry().register_model(model_uri, name, description, tags)


def set_model_stage(
    name: str,
    version: int | str,
    stage: str,
    reason: str | None = None,
    archive_existing: bool = False,
) -> Change:
    """Move a version to ``none``, ``staging``, ``production`` or ``archived``. The reason
    belongs in the commit message (``change.commit_message()``); git keeps the history."""
    return Registry().set_model_stage(name, version, stage, reason, archive_existing)


def set_model_alias(name: str, alias: str, version: int | str) -> Change:
    """Point ``alias`` (``models:/name@alias``) at a version."""
    return Registry().set_model_alias(name, alias, version)


def delete_model_alias(name: str, alias: str) -> Change:
    """Remove ``alias`` from model ``name``."""
    return Registry().set_model_alias(name, alias, None)


def delete_runs(
    run_ids: Sequence[str], store: str | os.PathLike[str] | None = None, *, dry_run: bool = False
) -> list[RunRecord]:
    """Delete run folders (``runsite runs delete``); refuses runs that are running or
    that a registered version comes from, naming the versions. See
    ``Registry.delete_runs``."""
    return Registry(store).delete_runs(run_ids, dry_run=dry_run)


def get_model_version(name: str, version: int | str) -> ModelVersion:
    """One registered version (stage, aliases, source run, hash)."""
    return Registry().get_model_version(name, version)


def list_models() -> list[RegisteredModel]:
    """Every registered model with its versions."""
    return Registry().list_models()


def get_latest_versions(name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
    """The newest version of ``name`` in each stage asked for (all stages by default)."""
    return Registry().get_latest_versions(name, stages)


def search_model_versions(
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> list[ModelVersion]:
    """Versions matching MLflow's model-version filter, e.g. ``"name = 'taxi'"``."""
    return Registry().search_model_versions(filter_string, max_results, order_by)


def search_registered_models(
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> list[RegisteredModel]:
    """Models matching MLflow's registered-model filter, e.g. ``"name LIKE 'taxi%'"``."""
    from runsite.entities import page
    from runsite.registry.query import search_models

    return list(
        page(search_models(Registry().list_models(), filter_string, order_by), max_results, None)
    )


def resolve_model_uri(uri: str, store: str | os.PathLike[str] | None = None) -> Path:
    """The verified model folder of ``models:/name/3``, ``models:/name/production``,
    ``models:/name/latest`` or ``models:/name@alias``."""
    reg = Registry(store)
    return reg.verified_folder(reg.resolve(uri[len("models:/") :].strip("/")))


def log_registered_model(
    run: Run, model: Any, name: str, registered_model_name: str, **kwargs: Any
) -> ModelInfo:
    """``log_model(registered_model_name=...)``: log the model into ``run`` now and
    register it as the next version of ``registered_model_name`` when the run ends."""
    from runsite.models.api import log_model
    from runsite.registry.manifest import check_model_name

    check_model_name(registered_model_name)  # before anything is written
    info = log_model(run, model, name, **kwargs)
    register_logged_model(run, info, registered_model_name)
    return info


def resolve_model_version(
    uri: str, store: str | os.PathLike[str] | None = None
) -> tuple[Path, ModelVersion]:
    """The model folder of a ``models:/`` URI and the version it names, whose ``hash``
    is the one the registry records (``load_model`` checks the bytes it loads against
    it, reading them once, and tells the loaded model its name, version and stage)."""
    reg = Registry(store)
    mv = reg.resolve(uri[len("models:/") :].strip("/"))
    return reg.model_folder(mv), mv


def register_logged_model(run: Run, info: ModelInfo, name: str) -> None:
    """``log_model(registered_model_name=...)``: register when the run ends FINISHED
    (a running run's model is not registered: it could still change)."""
    from runsite.registry.manifest import check_model_name

    check_model_name(name)

    def on_end(r: Run, status: str) -> None:
        if status != "FINISHED":
            log.warning(
                "runsite: run %s ended %s; %s not registered as %s",
                r.run_id,
                status,
                info.name,
                name,
            )
            return
        try:
            mv = Registry(r.store_root).register_model(info.model_uri, name)
        except Exception as exc:
            log.warning("runsite: could not register %s as %s: %s", info.model_uri, name, exc)
            return
        r.registered_versions.append(mv)
        log.info("runsite: registered %s v%s", name, mv.version)

    run.on_end(on_end)
