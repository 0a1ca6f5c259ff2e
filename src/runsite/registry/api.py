"""The registry's operations: register, stage, alias, describe, tag, resolve.

Every edit is validated before the file is written, so a refused change leaves the
manifest byte-for-byte as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runsite import record, validate
from runsite.errors import InvalidInput, NotFound, RunStateError
from runsite.registry.manifest import (
    FILENAME,
    STAGES,
    Manifest,
    ModelVersion,
    RegisteredModel,
    check_alias,
    check_model_name,
    check_stage,
)

if TYPE_CHECKING:
    from runsite.store import RunRecord, Store


@dataclass
class Change:
    """What an edit did, and the commit message that describes it."""

    model: str
    version: int | None
    summary: str
    reason: str | None = None
    details: list[str] = field(default_factory=list)
    result: Any = None

    def commit_message(self) -> str:
        lines = [f"models: {self.summary}"]
        if self.details:
            lines += ["", *self.details]
        if self.reason:
            lines += ["", f"Reason: {self.reason}"]
        return "\n".join(lines) + "\n"


class Registry:
    """The registry of one store (``<store>/registry.yaml``)."""

    def __init__(self, store: str | os.PathLike[str] | Store | None = None) -> None:
        from runsite.store import Store

        self.store = store if isinstance(store, Store) else Store(store)
        self.path = self.store.root / FILENAME

    # ------------------------------------------------------------------ reading

    def manifest(self) -> Manifest:
        return Manifest.load(self.path)

    def list_models(self) -> list[RegisteredModel]:
        m = self.manifest()
        m.require_valid()
        return list(m.models().values())

    def get_model(self, name: str) -> RegisteredModel:
        models = {m.name: m for m in self.list_models()}
        if name not in models:
            raise NotFound(f"no registered model {name!r} (models: {', '.join(models) or 'none'})")
        return models[name]

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        model = self.get_model(name)
        number = _version_number(version)
        found = model.version(number)
        if found is None:
            known = ", ".join(str(v.version) for v in model.versions) or "none"
            raise NotFound(f"model {name!r} has no version {number} (versions: {known})")
        return found

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version of ``name`` in each of ``stages`` (every stage when none
        are given), in the order of ``stages`` (or none, staging, production, archived);
        a stage with no version is left out. Stage names are case-insensitive
        (``"Production"`` works)."""
        model = self.get_model(name)
        wanted = [check_stage(s) for s in stages] if stages else list(STAGES)
        out = []
        for stage in dict.fromkeys(wanted):
            in_stage = model.in_stage(stage)
            if in_stage:
                out.append(max(in_stage, key=lambda v: v.version))
        return out

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[ModelVersion]:
        """Versions of every model matching MLflow's model-version filter
        (``name = 'taxi'``, ``run_id IN ('…')``, ``tags.team = 'fraud'``, joined by
        ``AND``); newest registration first unless ``order_by`` says otherwise."""
        from runsite.registry.query import search_versions

        versions = [v for m in self.list_models() for v in m.versions]
        return search_versions(versions, filter_string, max_results, order_by)

    def resolve(self, spec: str) -> ModelVersion:
        """``name/3``, ``name/production`` (the newest version in that stage),
        ``name/latest`` or ``name@alias``."""
        if "@" in spec:
            name, _, alias = spec.partition("@")
            model = self.get_model(name)
            if alias not in model.aliases:
                known = ", ".join(model.aliases) or "none"
                raise NotFound(f"model {name!r} has no alias {alias!r} (aliases: {known})")
            return self.get_model_version(name, model.aliases[alias])
        name, sep, ref = spec.partition("/")
        if not sep or not ref:
            raise InvalidInput(
                f"{spec!r}: name a version, stage or alias: NAME/3, NAME/production, NAME@champion"
            )
        model = self.get_model(name)
        if ref.isdigit():
            return self.get_model_version(name, int(ref))
        if ref.lower() == "latest":
            if not model.versions:
                raise NotFound(f"model {name!r} has no versions")
            return max(model.versions, key=lambda v: v.version)
        stage = check_stage(ref)
        in_stage = model.in_stage(stage)
        if not in_stage:
            raise NotFound(f"model {name!r} has no version in stage {stage}")
        return max(in_stage, key=lambda v: v.version)

    def model_folder(self, mv: ModelVersion) -> Path:
        """The version's model folder, confined to its run's artifacts (a ``..`` or a
        symlink leading out of the store is refused, naming the path)."""
        rec = self.store.run(mv.run_id)
        return validate.confined(
            rec.artifacts_dir, mv.artifact, f"{mv.name} v{mv.version} artifact"
        )

    def verified_folder(self, mv: ModelVersion) -> Path:
        """The version's model folder, after checking its hash against the manifest
        (from the bytes, never from a cache)."""
        from runsite.models.manifest import open_model

        folder = self.model_folder(mv)
        if not folder.is_dir():
            raise NotFound(
                f"{mv.name} v{mv.version}: artifact {mv.artifact!r} is missing in run {mv.run_id}"
            )
        open_model(folder, mv.hash)
        return folder

    def pull(self, spec: str, out: Path, trust: bool = False) -> Path:
        """Copy a verified model folder to ``out`` (which must not exist or be empty).

        The bytes written are the bytes verified: the folder is read once, checked against
        the registry's hash and every file hash, then written (files kept in object
        storage are fetched and checked the same way). A pickle that imports what its
        flavor does not need is refused (``UnsafePickle``) unless ``trust``; nothing is
        unpickled either way."""
        from runsite.models.api import copy_model

        mv = self.resolve(spec)
        folder = self.model_folder(mv)
        if not folder.is_dir():
            raise NotFound(
                f"{mv.name} v{mv.version}: artifact {mv.artifact!r} is missing in run {mv.run_id}"
            )
        copy_model(folder, out, mv.hash, trust=trust, store_root=self.store.root)
        return out

    # ------------------------------------------------------------------ deleting runs

    def delete_runs(self, run_ids: Sequence[str], *, dry_run: bool = False) -> list[RunRecord]:
        """Remove the folders of ``run_ids`` (ids or unambiguous prefixes) from the store.

        Refuses, deleting nothing, when any of them is still running, or is the source of
        a registered version (the error names the versions: delete those from
        ``registry.yaml`` first). With ``dry_run`` only the checks run. Returns the runs
        (deleted, or that would be). Objects the runs kept in object storage stay there.
        """
        import shutil

        if isinstance(run_ids, str):
            run_ids = [run_ids]
        if not run_ids:
            raise InvalidInput("no run ids given")
        found: dict[str, RunRecord] = {}
        for rid in run_ids:
            rec = self.store.run(rid)
            found[rec.run_id] = rec
        running = [r for r in found.values() if r.status == record.RUNNING]
        if running:
            raise RunStateError(
                "refusing to delete running runs: "
                + ", ".join(f"{r.run_id} ({r.run_name})" for r in running)
            )
        manifest = self.manifest()
        if manifest.exists:
            manifest.require_valid()
        used: list[str] = []
        for model in manifest.models().values():
            for mv in model.versions:
                if mv.run_id in found:
                    used.append(f"run {mv.run_id} is {model.name} v{mv.version} ({mv.stage})")
        if used:
            raise InvalidInput(
                "refusing to delete runs the registry refers to: "
                + "; ".join(used)
                + f". Remove those versions from {self.path.name} first (by pull request)"
            )
        if not dry_run:
            for rec in found.values():
                if not validate.inside(self.store.root, rec.path) or rec.path.is_symlink():
                    raise InvalidInput(f"run folder {rec.path} is not inside the store; refused")
                shutil.rmtree(rec.path)
        return list(found.values())

    # ------------------------------------------------------------------ editing

    def apply_change(
        self,
        change: Callable[[Manifest], Change],
        manifest: Manifest | None = None,
        save: bool = True,
    ) -> Change:
        m = manifest or self.manifest()
        m.require_valid()
        result = change(m)
        problems = m.problems()
        if problems:  # never write a manifest we would reject
            raise InvalidInput("; ".join(p.message for p in problems))
        if save:
            m.save()
        return result

    def run_model(self, ref: str) -> tuple[RunRecord, str]:
        """A run and a model artifact from ``runs:/ID/NAME``, ``ID/NAME`` or ``ID``."""
        text = ref[len("runs:/") :] if ref.startswith("runs:/") else ref
        run_id, _, artifact = text.strip("/").partition("/")
        rec = self.store.run(run_id)
        if not artifact:
            names = [m["name"] for m in rec.models]
            if len(names) != 1:
                raise InvalidInput(
                    f"run {rec.run_id} has {len(names)} models ({', '.join(names) or 'none'}); "
                    "name one: RUN_ID/MODEL"
                )
            artifact = names[0]
        artifact = validate.safe_relpath(artifact, "model name")
        if not (rec.artifacts_dir / artifact / record.MODEL_YAML).is_file():
            raise NotFound(f"run {rec.run_id} has no model {artifact!r}")
        return rec, artifact

    def register_change(
        self,
        ref: str,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Callable[[Manifest], Change]:
        from runsite.models.manifest import model_hash

        check_model_name(name)
        rec, artifact = self.run_model(ref)
        if rec.status not in record.END_STATUSES:
            raise RunStateError(
                f"run {rec.run_id} is {rec.status}: register a model once its run has ended"
            )
        digest = model_hash(rec.artifacts_dir / artifact)
        now = record.now_iso()
        tag_map = {validate.check_key(k, "tag key"): str(v) for k, v in (tags or {}).items()}

        def apply(m: Manifest) -> Change:
            if description and name not in (m.doc.get("models") or {}):
                # A new model: its first description describes the model too.
                m.model_node(name, create=True).insert(0, "description", description)
            number = m.add_version(
                name,
                {
                    "run": rec.run_id,
                    "artifact": artifact,
                    "hash": digest,
                    "registered": now,
                    "stage": "none",
                    "description": description or None,
                    "tags": tag_map or None,
                },
            )
            mv = ModelVersion(
                name,
                number,
                rec.run_id,
                artifact,
                digest,
                registered=now,
                description=description or "",
                tags=tag_map,
            )
            return Change(
                name,
                number,
                f"register {name} v{number} from run {rec.run_id} ({rec.run_name})",
                result=mv,
            )

        return apply

    def register_model(
        self,
        ref: str,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        change = self.apply_change(self.register_change(ref, name, description, tags))
        result: ModelVersion = change.result
        return result

    def stage_change(
        self,
        name: str,
        version: int | str,
        stage: str,
        reason: str | None = None,
        archive_existing: bool = False,
    ) -> Callable[[Manifest], Change]:
        new = check_stage(stage)
        number = _version_number(version)

        def apply(m: Manifest) -> Change:
            node = m.version_node(name, number)
            old = str(node.get("stage") or "none").lower()
            if old == new:
                raise InvalidInput(f"{name} v{number} is already in stage {new}")
            node["stage"] = new
            details = []
            if archive_existing and new in ("staging", "production"):
                for other in m.model_node(name).get("versions") or []:
                    if other is not node and str(other.get("stage") or "none").lower() == new:
                        other["stage"] = "archived"
                        details.append(f"{name} v{other.get('version')} {new} → archived")
            if new == "production":
                _refuse_over_limit(m, name, number)
            return Change(name, number, f"{name} v{number} {old} → {new}", reason, details)

        return apply

    def set_model_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        reason: str | None = None,
        archive_existing: bool = False,
    ) -> Change:
        return self.apply_change(self.stage_change(name, version, stage, reason, archive_existing))

    def alias_change(
        self, name: str, alias: str, version: int | str | None, reason: str | None = None
    ) -> Callable[[Manifest], Change]:
        check_alias(alias)
        number = None if version is None else _version_number(version)

        def apply(m: Manifest) -> Change:
            node = m.model_node(name)
            current = (node.get("aliases") or {}).get(alias)
            if number is None:
                if current is None:
                    raise InvalidInput(f"model {name!r} has no alias {alias!r}")
                m.set_map_value(node, "aliases", alias, None)
                return Change(name, current, f"{name} @{alias} removed (was v{current})", reason)
            m.version_node(name, number)  # must exist
            if current == number:
                raise InvalidInput(f"alias {alias!r} already points to {name} v{number}")
            m.set_map_value(node, "aliases", alias, number)
            was = f" (was v{current})" if current is not None else ""
            return Change(name, number, f"{name} @{alias} → v{number}{was}", reason)

        return apply

    def set_model_alias(
        self, name: str, alias: str, version: int | str | None, reason: str | None = None
    ) -> Change:
        return self.apply_change(self.alias_change(name, alias, version, reason))

    def describe(self, name: str, description: str, version: int | str | None = None) -> Change:
        def apply(m: Manifest) -> Change:
            node = (
                m.model_node(name)
                if version is None
                else m.version_node(name, _version_number(version))
            )
            node["description"] = description
            what = name if version is None else f"{name} v{version}"
            return Change(name, None, f"describe {what}")

        return self.apply_change(apply)

    def tag(
        self, name: str, key: str, value: str | None, version: int | str | None = None
    ) -> Change:
        validate.check_key(key, "tag key")

        def apply(m: Manifest) -> Change:
            node = (
                m.model_node(name)
                if version is None
                else m.version_node(name, _version_number(version))
            )
            if value is None and key not in (node.get("tags") or {}):
                raise InvalidInput(f"no tag {key!r} to remove")
            m.set_map_value(node, "tags", key, value)
            what = name if version is None else f"{name} v{version}"
            return Change(
                name,
                None,
                f"tag {what} {key}={value}" if value is not None else f"untag {what} {key}",
            )

        return self.apply_change(apply)

    # MLflow's deletes and rename (MlflowClient.delete_model_version, …): edits of the
    # manifest like the others, applied when the change is committed and merged.

    def delete_version(self, name: str, version: int | str) -> Change:
        """Remove a version and the aliases pointing at it; a model left without
        versions goes too (a model exists once it has a version)."""
        number = _version_number(version)

        def apply(m: Manifest) -> Change:
            node = m.model_node(name)
            m.version_node(name, number)  # must exist
            versions = node["versions"]
            for i, v in enumerate(list(versions)):
                if isinstance(v, dict) and v.get("version") == number:
                    del versions[i]
                    break
            for alias, target in list((node.get("aliases") or {}).items()):
                if target == number:
                    m.set_map_value(node, "aliases", alias, None)
            if not versions:
                del m.doc["models"][name]
            return Change(name, number, f"delete {name} v{number}")

        return self.apply_change(apply)

    def delete_model(self, name: str) -> Change:
        """Remove a registered model with all its versions."""

        def apply(m: Manifest) -> Change:
            m.model_node(name)  # must exist
            del m.doc["models"][name]
            return Change(name, None, f"delete model {name}")

        return self.apply_change(apply)

    def rename_model(self, name: str, new_name: str) -> Change:
        """Give a registered model another name (its place in the file is kept)."""
        new_name = check_model_name(new_name)

        def apply(m: Manifest) -> Change:
            node = m.model_node(name)
            models = m.doc["models"]
            if new_name == name:  # as MLflow: nothing to do
                return Change(name, None, f"rename model {name} (unchanged)")
            if new_name in models:
                raise InvalidInput(f"a registered model {new_name!r} already exists")
            at = list(models).index(name)
            del models[name]
            models.insert(at, new_name, node)
            return Change(new_name, None, f"rename model {name} → {new_name}")

        return self.apply_change(apply)


def _refuse_over_limit(m: Manifest, name: str, number: int) -> None:
    """A promotion that would leave more production versions than the policy allows
    (what ``runsite models check`` rejects) is refused, naming the fix."""
    model = m.models()[name]
    limit = int(model.policy.get("max_production_versions") or 1)
    prod = model.in_stage("production")
    if len(prod) > limit:
        others = ", ".join(f"v{v.version}" for v in prod if v.version != number)
        raise InvalidInput(
            f"{name} v{number} → production would leave {len(prod)} production versions "
            f"({others} already there); the policy allows {limit}. Add --archive-existing "
            f"to archive {others} in the same change (archive_existing=True in Python)"
        )


def _version_number(version: int | str) -> int:
    if isinstance(version, bool):
        raise InvalidInput(f"version must be a whole number, got {version!r}")
    if isinstance(version, int) and version >= 1:
        return version
    if isinstance(version, str) and re.fullmatch(r"[1-9][0-9]*", version.strip()):
        return int(version)
    raise InvalidInput(f"version must be a whole number ≥ 1, got {version!r}")
