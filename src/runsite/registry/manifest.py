"""``registry.yaml``: reading it (with line/column for every problem), validating it,
and editing it so comments, key order and formatting of the rest survive.

The schema is documented in docs/registry.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runsite import record, yamlio
from runsite.atomic import write_atomic
from runsite.errors import InvalidInput, StoreFormatError
from runsite.yamlio import CommentedMap, CommentedSeq

FILENAME = record.REGISTRY_YAML
FORMAT_VERSION = 1
STAGES = record.STAGES
GOALS = ("minimize", "maximize")
AGGREGATES = ("last", "min", "max")

TOP_KEYS = ("format", "policy", "teams", "required_tags", "models")
POLICY_KEYS = (
    "max_production_versions",
    "metric",
    "goal",
    "aggregate",
    "require_evaluation",
    "min_improvement",
)
MODEL_KEYS = ("description", "tags", "policy", "aliases", "versions")
VERSION_KEYS = (
    "version",
    "run",
    "artifact",
    "hash",
    "registered",
    "stage",
    "description",
    "tags",
)

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")

TEMPLATE = """\
# runsite model registry: reviewed like code, changed by pull request.
# Stage history is not kept here: git history of this file is the audit log
# (runsite models history). Schema: docs/registry.md
format: 1

# policy:                      # checked by `runsite models check` (defaults shown)
#   max_production_versions: 1
#   metric: rmse               # optional gate: a new production version must be
#   goal: minimize             # at least as good as the one it replaces
#   require_evaluation: false  # true: ...and evaluated on new data, beating production
#   min_improvement: 0         #   there by this much (runsite models evaluate)

models: {}
"""


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not _MODEL_NAME.match(name):
        raise InvalidInput(
            f"model name {name!r} is not path-safe: use 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInput(
            f"alias {alias!r} must start with a letter and use letters, digits, '_' or '-'"
        )
    if alias.lower() in (*STAGES, "latest"):
        raise InvalidInput(f"alias {alias!r} is reserved (a stage name or 'latest')")
    return alias


def check_stage(stage: object) -> str:
    text = str(stage).strip().lower()
    if text not in STAGES:
        raise InvalidInput(f"unknown stage {stage!r}; stages are: {', '.join(STAGES)}")
    return text


def parse(text: str, source: str = FILENAME) -> Any:
    """Parse manifest text; a YAML error names the line and column. Size, nesting and
    alias expansion are limited (``yamlio.check_shape``): a hostile file is an error."""
    return yamlio.roundtrip_loads(text, source)


def dump(doc: Any) -> str:
    return yamlio.roundtrip_dumps(doc)


@dataclass(frozen=True)
class Problem:
    """A problem in the manifest, with its place (1-based line and column)."""

    message: str
    line: int | None = None
    column: int | None = None

    def where(self, source: str = FILENAME) -> str:
        if self.line is None:
            return source
        return f"{source}:{self.line}:{self.column or 1}"

    def format(self, source: str = FILENAME) -> str:
        return f"{self.where(source)}: {self.message}"


def _pos(node: Any, key: Any = None) -> tuple[int | None, int | None]:
    """1-based (line, column) of ``node[key]`` (or of ``node``) in the source."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None, None
    try:
        if key is None:
            return lc.line + 1, lc.col + 1
        if isinstance(node, CommentedSeq):
            line, col = lc.item(key)
        else:
            line, col = lc.key(key)
        return line + 1, col + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return lc.line + 1, lc.col + 1


def problem(message: str, node: Any, key: Any = None) -> Problem:
    line, col = _pos(node, key)
    return Problem(message, line, col)


def _check_keys(node: Any, allowed: tuple[str, ...], what: str, out: list[Problem]) -> None:
    for key in node:
        if key not in allowed:
            out.append(
                problem(f"unknown key {key!r} in {what} (known: {', '.join(allowed)})", node, key)
            )


def _check_str_map(node: Any, key: str, what: str, out: list[Problem]) -> None:
    value = node.get(key)
    if value is not None and not isinstance(value, dict):
        out.append(problem(f"{what}.{key} must be a mapping of names to text", node, key))


def _check_policy(node: Any, where: str, out: list[Problem]) -> None:
    if not isinstance(node, dict):
        out.append(problem(f"{where} must be a mapping", node))
        return
    _check_keys(node, POLICY_KEYS, where, out)
    mpv = node.get("max_production_versions")
    if mpv is not None and (not isinstance(mpv, int) or isinstance(mpv, bool) or mpv < 1):
        out.append(
            problem(
                f"{where}.max_production_versions must be a whole number ≥ 1",
                node,
                "max_production_versions",
            )
        )
    if node.get("goal") is not None and node.get("goal") not in GOALS:
        out.append(problem(f"{where}.goal must be one of {', '.join(GOALS)}", node, "goal"))
    if node.get("aggregate") is not None and node.get("aggregate") not in AGGREGATES:
        out.append(
            problem(f"{where}.aggregate must be one of {', '.join(AGGREGATES)}", node, "aggregate")
        )
    if node.get("goal") is not None and not node.get("metric"):
        out.append(problem(f"{where}.goal needs a metric", node, "goal"))
    req = node.get("require_evaluation")
    if req is not None and not isinstance(req, bool):
        out.append(
            problem(f"{where}.require_evaluation must be true or false", node, "require_evaluation")
        )
    margin = node.get("min_improvement")
    if margin is not None and (
        isinstance(margin, bool) or not isinstance(margin, int | float) or margin < 0
    ):
        out.append(
            problem(f"{where}.min_improvement must be a number ≥ 0", node, "min_improvement")
        )


def validate_doc(doc: Any) -> list[Problem]:
    """Schema problems of a parsed manifest (structure only: runs and hashes are
    checked against the store by ``runsite.registry.check``)."""
    out: list[Problem] = []
    if doc is None:
        return out
    if not isinstance(doc, dict):
        return [Problem("the manifest must be a mapping with a 'models' key", 1, 1)]
    _check_keys(doc, TOP_KEYS, "the manifest", out)
    version = doc.get("format", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        out.append(
            problem(
                f"manifest format {version!r} is newer than this runsite reads "
                f"({FORMAT_VERSION}); upgrade runsite",
                doc,
                "format",
            )
        )
        return out
    if "policy" in doc:
        _check_policy(doc["policy"], "policy", out)
    models = doc.get("models")
    if models is None:
        return out
    if not isinstance(models, dict):
        return [*out, problem("'models' must be a mapping of model names", doc, "models")]
    for name, model in models.items():
        where = f"model {name!r}"
        try:
            check_model_name(name)
        except InvalidInput as exc:
            out.append(problem(str(exc), models, name))
        if not isinstance(model, dict):
            out.append(problem(f"{where} must be a mapping", models, name))
            continue
        _check_keys(model, MODEL_KEYS, where, out)
        _check_str_map(model, "tags", where, out)
        if "policy" in model:
            _check_policy(model["policy"], f"{where} policy", out)
        versions = model.get("versions") or []
        if not isinstance(versions, list):
            out.append(problem(f"{where}: versions must be a list", model, "versions"))
            continue
        seen: dict[int, int] = {}
        for i, v in enumerate(versions):
            out.extend(_validate_version(v, versions, i, where, seen))
        aliases = model.get("aliases")
        if aliases is not None:
            if not isinstance(aliases, dict):
                out.append(
                    problem(f"{where}: aliases must map alias names to versions", model, "aliases")
                )
                continue
            for alias, target in aliases.items():
                try:
                    check_alias(alias)
                except InvalidInput as exc:
                    out.append(problem(str(exc), aliases, alias))
                if target not in seen:
                    out.append(
                        problem(
                            f"{where}: alias {alias!r} points to version {target!r}, "
                            "which does not exist",
                            aliases,
                            alias,
                        )
                    )
    return out


def _validate_version(v: Any, seq: Any, i: int, where: str, seen: dict[int, int]) -> list[Problem]:
    out: list[Problem] = []
    if not isinstance(v, dict):
        return [problem(f"{where}: version entry {i + 1} must be a mapping", seq, i)]
    number = v.get("version")
    label = f"{where} version {number!r}"
    _check_keys(v, VERSION_KEYS, label, out)
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        out.append(
            problem(
                f"{where}: entry {i + 1} needs 'version', a whole number ≥ 1",
                v,
                "version" if "version" in v else None,
            )
        )
    elif number in seen:
        out.append(problem(f"{where}: version {number} appears twice", v, "version"))
    else:
        seen[number] = i
    for key in ("run", "artifact", "hash"):
        if not isinstance(v.get(key), str) or not v.get(key):
            out.append(problem(f"{label}: '{key}' is required", v, key if key in v else None))
    run = v.get("run")
    if isinstance(run, str) and run and not re.fullmatch(r"[0-9a-z]{6,64}", run):
        out.append(problem(f"{label}: run {run!r} is not a run id", v, "run"))
    art = v.get("artifact")
    if isinstance(art, str) and art:
        from runsite import validate

        try:
            if not validate.safe_relpath(art, "artifact"):
                raise InvalidInput(f"artifact {art!r} names no folder")
        except InvalidInput as exc:
            out.append(problem(f"{label}: {exc}", v, "artifact"))
    h = v.get("hash")
    if isinstance(h, str) and not re.match(r"^sha256:[0-9a-f]{64}$", h):
        out.append(problem(f"{label}: hash must look like sha256:<64 hex digits>", v, "hash"))
    stage = v.get("stage", "none")
    if str(stage).lower() not in STAGES:
        out.append(
            problem(f"{label}: unknown stage {stage!r} (stages: {', '.join(STAGES)})", v, "stage")
        )
    _check_str_map(v, "tags", label, out)
    return out


# ---------------------------------------------------------------------- plain views


@dataclass
class ModelVersion:
    """One registered version (MLflow's ``ModelVersion`` shape: ``.name``, ``.version``)."""

    name: str
    version: int
    run_id: str
    artifact: str
    hash: str
    stage: str = "none"
    aliases: list[str] = field(default_factory=list)
    registered: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact}"

    @property
    def current_stage(self) -> str:  # MLflow's name
        return self.stage

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "aliases": self.aliases,
            "run_id": self.run_id,
            "artifact": self.artifact,
            "source": self.source,
            "hash": self.hash,
            "registered": self.registered,
            "description": self.description,
            "tags": self.tags,
        }


@dataclass
class RegisteredModel:
    name: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    versions: list[ModelVersion] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)

    def version(self, number: int) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    def in_stage(self, stage: str) -> list[ModelVersion]:
        return [v for v in self.versions if v.stage == stage]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "aliases": self.aliases,
            "versions": [v.to_dict() for v in self.versions],
        }


def _text_map(node: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in node.items()} if isinstance(node, dict) else {}


def models_of(doc: Any) -> dict[str, RegisteredModel]:
    """Plain objects for every model of a (valid) parsed manifest."""
    out: dict[str, RegisteredModel] = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        return out
    global_policy = dict(doc.get("policy") or {}) if isinstance(doc.get("policy"), dict) else {}
    for name, m in doc["models"].items():
        if not isinstance(m, dict):
            continue
        aliases = (
            {str(a): t for a, t in (m.get("aliases") or {}).items()}
            if isinstance(m.get("aliases"), dict)
            else {}
        )
        rm = RegisteredModel(
            name=str(name),
            description=str(m.get("description") or ""),
            tags=_text_map(m.get("tags")),
            aliases=aliases,
            policy={
                **global_policy,
                **(dict(m["policy"]) if isinstance(m.get("policy"), dict) else {}),
            },
        )
        for v in m.get("versions") or []:
            if not isinstance(v, dict) or not isinstance(v.get("version"), int):
                continue
            rm.versions.append(
                ModelVersion(
                    name=str(name),
                    version=v["version"],
                    run_id=str(v.get("run") or ""),
                    artifact=str(v.get("artifact") or ""),
                    hash=str(v.get("hash") or ""),
                    stage=str(v.get("stage") or "none").lower(),
                    aliases=sorted(a for a, t in aliases.items() if t == v["version"]),
                    registered=str(v["registered"]) if v.get("registered") else None,
                    description=str(v.get("description") or ""),
                    tags=_text_map(v.get("tags")),
                )
            )
        out[rm.name] = rm
    return out


# ---------------------------------------------------------------------- the file


class Manifest:
    """A manifest being read or edited: ``doc`` is ruamel's round-trip tree."""

    def __init__(self, path: Path, text: str | None) -> None:
        self.path = path
        self.exists = text is not None
        self.doc = parse(text if text is not None else TEMPLATE, str(path))
        if self.doc is None:
            self.doc = parse(TEMPLATE, str(path))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            text = None
        except UnicodeDecodeError as exc:
            raise StoreFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
        return cls(path, text)

    def problems(self) -> list[Problem]:
        return validate_doc(self.doc)

    def require_valid(self) -> None:
        problems = self.problems()
        if problems:
            listing = "\n  ".join(p.format(str(self.path)) for p in problems[:10])
            raise StoreFormatError(
                f"{self.path} has problems; fix them before changing it:\n  {listing}"
            )

    def models(self) -> dict[str, RegisteredModel]:
        return models_of(self.doc)

    def text(self) -> str:
        return dump(self.doc)

    def save(self) -> None:
        write_atomic(self.path, self.text())
        self.exists = True

    # -- edits (on the round-trip tree) ----------------------------------------

    def _models_node(self) -> CommentedMap:
        models = self.doc.get("models")
        if not isinstance(models, CommentedMap):
            models = CommentedMap()
            self.doc["models"] = models
        models.fa.set_block_style()
        return models

    def model_node(self, name: str, create: bool = False) -> CommentedMap:
        models = self._models_node()
        node = models.get(name)
        if node is None:
            if not create:
                known = ", ".join(str(k) for k in models) or "none"
                raise InvalidInput(f"no registered model {name!r} (models: {known})")
            node = CommentedMap()
            node["versions"] = CommentedSeq()
            models[name] = node
        return node

    def version_node(self, name: str, version: int) -> CommentedMap:
        model = self.model_node(name)
        for v in model.get("versions") or []:
            if isinstance(v, CommentedMap) and v.get("version") == version:
                return v
        known = ", ".join(str(v.get("version")) for v in model.get("versions") or []) or "none"
        raise InvalidInput(f"model {name!r} has no version {version!r} (versions: {known})")

    def add_version(self, name: str, entry: dict[str, Any], number: int | None = None) -> int:
        """Append a version: the next number, or ``number`` (an import keeps MLflow's),
        kept in version order."""
        model = self.model_node(name, create=True)
        versions = model.get("versions")
        if not isinstance(versions, CommentedSeq):
            versions = CommentedSeq()
            model["versions"] = versions
        numbers = [v.get("version", 0) for v in versions if isinstance(v, dict)]
        if number is None:
            number = max(numbers, default=0) + 1
        elif number in numbers:
            raise InvalidInput(f"model {name!r} already has a version {number}")
        node = CommentedMap()
        node["version"] = number
        for k, v in entry.items():
            if v is not None:
                node[k] = _to_node(v)
        at = sum(1 for n in numbers if isinstance(n, int) and n < number)
        versions.insert(at, node)
        return number

    def set_map_value(self, node: CommentedMap, key: str, sub: str, value: Any) -> None:
        m = node.get(key)
        if not isinstance(m, CommentedMap):
            m = CommentedMap()
            node[key] = m
        m.fa.set_block_style()
        if value is None:
            m.pop(sub, None)
            if not m:
                del node[key]
        else:
            m[sub] = value


def _to_node(value: Any) -> Any:
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _to_node(v)
        return m
    return value
