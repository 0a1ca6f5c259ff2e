"""``runsite models evaluate``: score registered versions on new data, record the
evidence as runs, and decide.

For each version: verify its hash (a version that fails is reported, never unpickled),
load it, predict through its preprocessor, compute the standard metrics, latency per
row and size, and the drift of the data against the version's training input. Each
version gets one evaluation run that names it (tags ``runsite.evaluation.*``) and the
data (an input with context ``evaluation``); nothing about a version is stored twice:
the site's version pages and the evidence gate of ``models check`` read these runs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runsite.errors import InvalidInput, NotFound, RunsiteError, StoreFormatError, UnsafePickle
from runsite.models import drift as drift_mod
from runsite.models import metrics as metrics_mod
from runsite.record import STAGES

if TYPE_CHECKING:
    from runsite.registry.api import Change, Registry
    from runsite.registry.manifest import ModelVersion, RegisteredModel
    from runsite.store import RunRecord

TAG_MODEL = "runsite.evaluation.model"
TAG_VERSION = "runsite.evaluation.version"
TAG_HASH = "runsite.evaluation.model_hash"
TAG_STAGE = "runsite.evaluation.stage"
EVALUATION_FILE = "evaluation.json"
CONTEXT = "evaluation"


@dataclass
class VersionResult:
    """One version's evaluation (``error`` set when it could not be evaluated)."""

    name: str
    version: int
    stage: str
    hash: str
    source_run: str
    metrics: dict[str, float] = field(default_factory=dict)
    latency_ms_per_row: float | None = None
    size_bytes: int | None = None
    drift: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    run_path: Path | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "hash": self.hash,
            "source_run": self.source_run,
            "metrics": self.metrics,
            "latency_ms_per_row": self.latency_ms_per_row,
            "size_bytes": self.size_bytes,
            "drift": self.drift,
            "evaluation_run": self.run_id,
            "error": self.error,
        }


@dataclass
class Evaluation:
    """What ``evaluate_versions`` found: per version results, the verdict, a decision."""

    model: str
    data: dict[str, Any]
    target: str
    model_type: str
    metric: str
    goal: str
    results: list[VersionResult]
    verdict: str = ""
    decision: dict[str, Any] | None = None  # {"action": "promote"|"archive", "version": n}

    @property
    def metrics(self) -> dict[str, float]:
        """The metrics of the first version evaluated (``mlflow.evaluate``'s shape)."""
        ok = [r for r in self.results if r.error is None]
        return dict(ok[0].metrics) if ok else {}

    @property
    def run_id(self) -> str | None:
        ok = [r for r in self.results if r.run_id]
        return ok[0].run_id if ok else None

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.results)

    def reason(self) -> str:
        return (
            f"{self.verdict} (evaluation runs: "
            + ", ".join(f"v{r.version} {r.run_id}" for r in self.results if r.run_id)
            + ")"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "data": self.data,
            "target": self.target,
            "model_type": self.model_type,
            "metric": self.metric,
            "goal": self.goal,
            "results": [r.to_dict() for r in self.results],
            "verdict": self.verdict,
            "decision": self.decision,
        }


# ---------------------------------------------------------------------- data


@dataclass
class _Data:
    path: Path
    table: Any  # pyarrow Table without the target
    y: Any
    columns: dict[str, Any]
    rows: int


def _read(path: Path, target: str) -> _Data:
    from runsite import arrowio

    table = arrowio.read_data(path)
    if table.num_rows == 0:
        raise InvalidInput(f"{path} has no rows: nothing to evaluate")
    if target not in table.column_names:
        raise InvalidInput(
            f"{path} has no target column {target!r} (columns: {', '.join(table.column_names)})"
        )
    y_col = table.column(target)
    if y_col.null_count:
        raise InvalidInput(
            f"{path}: the target column {target!r} has {y_col.null_count} empty values"
        )
    y = arrowio.table_columns(table.select([target]))[target]
    features = table.drop_columns([target])
    return _Data(path, features, y, arrowio.table_columns(features), table.num_rows)


def _model_input(data: _Data) -> Any:
    from runsite import arrowio

    try:
        return arrowio.table_frame(data.table)
    except ImportError:  # no pandas: records work for every flavor
        return arrowio.table_records(data.table)


# ---------------------------------------------------------------------- drift


def _training_input(rec: RunRecord) -> dict[str, Any] | None:
    for inp in rec.inputs:
        if inp.get("context") == "training" and inp.get("path"):
            return inp
    return None


def _resolve_input_path(recorded: str, store_root: Path) -> Path | None:
    p = Path(recorded)
    if p.is_absolute():
        return p if p.exists() else None
    from runsite import gitio

    for base in (gitio.work_tree_root(store_root), Path.cwd(), store_root.parent):
        if base is not None and (base / p).exists():
            return base / p
    return None


def training_drift(
    reg: Registry, rec: RunRecord, data: _Data, features: list[str], threshold: float
) -> dict[str, Any]:
    """Drift of ``data`` against the source run's training input, or why there is none."""
    from runsite import arrowio, hashing

    inp = _training_input(rec)
    if inp is None:
        return drift_mod.unavailable(
            f"source run {rec.run_id} logged no training input (log_input(..., context='training'))"
        )
    path = _resolve_input_path(str(inp["path"]), reg.store.root)
    if path is None:
        return drift_mod.unavailable(
            f"the training data {inp['path']} of run {rec.run_id} is not on this machine"
        )
    digest, _, _ = hashing.hash_path(path)
    if f"sha256:{digest}" != inp.get("hash"):
        return drift_mod.unavailable(
            f"{inp['path']} has changed since run {rec.run_id} trained on it "
            f"(recorded {str(inp.get('hash'))[:19]}…, now sha256:{digest[:12]}…)"
        )
    try:
        train = arrowio.table_columns(arrowio.read_data(path))
    except RunsiteError as exc:
        return drift_mod.unavailable(f"the training data cannot be read: {exc}")
    result = drift_mod.compare(train, data.columns, features, threshold)
    result["training"] = {"name": inp.get("name"), "path": inp.get("path"), "hash": inp.get("hash")}
    return result


# ---------------------------------------------------------------------- versions


def select_versions(model: RegisteredModel, specs: list[str] | None) -> list[ModelVersion]:
    """``1``, ``v1``, a stage or an alias per spec; default: production and staging."""
    if not specs:
        chosen = model.in_stage("production") + model.in_stage("staging")
        if not chosen:
            raise NotFound(
                f"model {model.name!r} has no version in production or staging; "
                "choose some with --versions 1,2"
            )
        return chosen
    out: list[ModelVersion] = []
    for spec in specs:
        s = spec.strip().lower().removeprefix("v")
        alias = spec.strip().lstrip("@")
        found: list[ModelVersion | None] = []
        if s.isdigit():
            found = [model.version(int(s))]
        elif s in STAGES:
            found = list(model.in_stage(s))
        elif alias in model.aliases:
            found = [model.version(model.aliases[alias])]
        if not found or None in found:
            known = ", ".join(f"v{v.version}" for v in model.versions) or "none"
            raise NotFound(f"model {model.name!r} has no version {spec!r} (versions: {known})")
        out += [v for v in found if v is not None and v not in out]
    return out


def _evaluate_one(
    reg: Registry,
    mv: ModelVersion,
    data: _Data,
    model_type: str,
    threshold: float,
    trust: bool = False,
) -> tuple[VersionResult, Any]:
    from runsite.models.api import load_folder
    from runsite.models.signature import input_columns

    result = VersionResult(mv.name, mv.version, mv.stage, mv.hash, mv.run_id)
    folder = reg.model_folder(mv)
    try:
        if not folder.is_dir():
            raise NotFound(
                f"{mv.name} v{mv.version}: artifact {mv.artifact!r} is missing in run {mv.run_id}"
            )
        # One read: the registry's hash, every file hash and the pickle scan are checked
        # on the bytes that are then unpickled; a version that fails is never loaded.
        model = load_folder(folder, reg.store.root, mv.hash, trust=trust)
    except (StoreFormatError, NotFound, UnsafePickle) as exc:
        result.error = str(exc)
        return result, None
    declared = [n for n, _ in input_columns(model.signature)]
    have = data.table.column_names
    if declared:
        unknown = [c for c in have if c not in declared]
        if unknown:
            raise InvalidInput(
                f"{data.path} has columns {mv.name} v{mv.version} does not know: {unknown} "
                f"(its signature takes {declared}; the target is excluded)"
            )
    started = time.perf_counter()
    pred = model.predict(_model_input(data))
    seconds = time.perf_counter() - started
    if model_type == "classifier":
        proba = classes = None
        if model.has_predict_proba:
            proba = model.predict_proba(_model_input(data))
            classes = getattr(model.native, "classes_", None)
        result.metrics = metrics_mod.classification(data.y, pred, proba, classes)
    else:
        result.metrics = metrics_mod.regression(data.y, pred)
    result.latency_ms_per_row = seconds * 1000 / data.rows
    result.size_bytes = model.size_bytes
    rec = reg.store.run(mv.run_id)
    result.drift = training_drift(reg, rec, data, declared or list(have), threshold)
    return result, model


def _record(
    reg: Registry,
    result: VersionResult,
    data: _Data,
    target: str,
    model_type: str,
    experiment: str,
    tags: dict[str, str],
) -> None:
    st = reg.store
    name = f"{result.name} v{result.version} on {data.path.name}"
    run = st.start_run(
        experiment,
        run_name=name,
        tags={
            **tags,
            TAG_MODEL: result.name,
            TAG_VERSION: str(result.version),
            TAG_HASH: result.hash,
            TAG_STAGE: result.stage,
        },
    )
    with run:
        run.log_params(
            {
                "model": result.name,
                "version": result.version,
                "target": target,
                "model_type": model_type,
            }
        )
        info = run.log_input(data.path, name=data.path.stem, context=CONTEXT)
        values = {k: v for k, v in result.metrics.items() if v == v}  # NaN is not recorded
        values["latency_ms_per_row"] = float(result.latency_ms_per_row or 0.0)
        values["model_size_bytes"] = float(result.size_bytes or 0)
        values["example_count"] = float(data.rows)
        if result.drift.get("available"):
            values["drift_max_psi"] = float(result.drift.get("max_psi") or 0.0)
            values["drift_features"] = float(len(result.drift.get("drifted") or []))
        run.log_metrics(values)
        run.log_dict(
            {
                "model": result.name,
                "version": result.version,
                "stage": result.stage,
                "model_hash": result.hash,
                "source_run": result.source_run,
                "target": target,
                "model_type": model_type,
                "data": {k: info.get(k) for k in ("name", "path", "hash", "rows", "size")},
                "metrics": result.metrics,
                "latency_ms_per_row": result.latency_ms_per_row,
                "size_bytes": result.size_bytes,
                "drift": result.drift,
            },
            EVALUATION_FILE,
        )
    result.run_id = run.run_id
    result.run_path = run.path
    data_info = {k: info.get(k) for k in ("name", "path", "hash", "rows")}
    result.drift.setdefault("data", data_info)


def _better_or_equal(a: float, b: float, goal: str) -> bool:
    return a <= b if goal == "minimize" else a >= b


def _decide(ev: Evaluation) -> None:
    ok = [
        r
        for r in ev.results
        if r.error is None
        and ev.metric in r.metrics
        and r.metrics[ev.metric] == r.metrics[ev.metric]  # not NaN
    ]
    if not ok:
        ev.verdict = f"no version could be scored on {ev.metric}"
        return
    champs = [r for r in ok if r.stage == "production"]
    champion = max(champs, key=lambda r: r.version) if champs else None
    others = [r for r in ok if r is not champion and r.stage != "production"]
    pick = min if ev.goal == "minimize" else max
    challenger = pick(others, key=lambda r: r.metrics[ev.metric]) if others else None
    m = ev.metric

    def val(r: VersionResult) -> str:
        return f"v{r.version} {m} {r.metrics[m]:.6g}"

    data = f"{ev.data.get('name')} ({str(ev.data.get('hash'))[:19]}…)"
    if challenger is None:
        ev.verdict = f"keep v{champion.version} in production: no challenger" if champion else ""
        return
    if champion is None:
        ev.verdict = (
            f"promote v{challenger.version} to production: {val(challenger)} on {data}, "
            "no current production version"
        )
        ev.decision = {"action": "promote", "version": challenger.version}
        return
    c, i = challenger.metrics[m], champion.metrics[m]
    if _better_or_equal(c, i, ev.goal):
        ev.verdict = (
            f"promote v{challenger.version} to production: {val(challenger)} vs "
            f"{val(champion)} on {data} ({ev.goal})"
        )
        ev.decision = {
            "action": "promote",
            "version": challenger.version,
            "replaces": champion.version,
        }
    else:
        ev.verdict = (
            f"keep v{champion.version} in production, archive v{challenger.version}: "
            f"{val(challenger)} vs {val(champion)} on {data} ({ev.goal})"
        )
        ev.decision = {"action": "archive", "version": challenger.version}


def evaluate_versions(
    reg: Registry,
    name: str,
    data: str | os.PathLike[str],
    target: str,
    versions: list[str] | None = None,
    model_type: str | None = None,
    experiment: str | None = None,
    tags: dict[str, str] | None = None,
    drift_threshold: float = drift_mod.DEFAULT_THRESHOLD,
    record: bool = True,
    trust: bool = False,
) -> Evaluation:
    """Evaluate versions of ``name`` on a CSV/Parquet file with a ``target`` column.

    Each version's bytes are checked against the registry's hash and its pickles scanned
    before anything is unpickled: a version that fails either is reported (``error``)
    and not evaluated. ``trust`` skips the scan (models you trust)."""
    if model_type is not None and model_type not in metrics_mod.MODEL_TYPES:
        raise InvalidInput(
            f"model_type must be one of {', '.join(metrics_mod.MODEL_TYPES)}, got {model_type!r}"
        )
    model = reg.get_model(name)
    chosen = select_versions(model, versions)
    path = Path(data)
    d = _read(path, target)
    mt = model_type or metrics_mod.guess_model_type(d.y)
    metric = str(model.policy.get("metric") or ("rmse" if mt == "regressor" else "accuracy"))
    goal = str(model.policy.get("goal") or metrics_mod.goal_of(metric))
    from runsite import hashing

    digest, _, _ = hashing.hash_path(path)
    ev = Evaluation(
        name,
        {"name": path.stem, "path": str(path), "hash": f"sha256:{digest}", "rows": d.rows},
        target,
        mt,
        metric,
        goal,
        [],
    )
    scored = []
    for mv in chosen:
        result, _ = _evaluate_one(reg, mv, d, mt, drift_threshold, trust)
        scored.append(result)
    # Record only once every version has been scored: bad data leaves the store as it was.
    for result in scored:
        if result.error is None and record:
            _record(reg, result, d, target, mt, experiment or f"{name}-evaluation", tags or {})
        ev.results.append(result)
    _decide(ev)
    return ev


def decision_change(reg: Registry, ev: Evaluation) -> Any:
    """The registry change the evaluation's decision makes (``None`` when it has none)."""
    if not ev.decision:
        return None
    v = ev.decision["version"]
    if ev.decision["action"] == "promote":
        return reg.stage_change(ev.model, v, "production", ev.reason(), archive_existing=True)
    return reg.stage_change(ev.model, v, "archived", ev.reason())


def propose(reg: Registry, ev: Evaluation, branch: str | None = None) -> tuple[Change, str, str]:
    """Commit the decision and the evaluation runs on a new branch (from HEAD); the run
    folders then leave the working tree, which is left as it was. Returns the change,
    the commit and the branch."""
    from runsite.registry.branch import apply_on_branch

    change = decision_change(reg, ev)
    if change is None:
        raise InvalidInput(f"nothing to propose: {ev.verdict or 'no decision'}")
    assert ev.decision is not None
    action, v = ev.decision["action"], ev.decision["version"]
    branch = branch or f"{action}-{ev.model}-v{v}"
    files: dict[Path, bytes] = {}
    folders = [r.run_path for r in ev.results if r.run_path is not None]
    for folder in folders:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                files[f] = f.read_bytes()
    done, sha = apply_on_branch(reg, change, branch, [], extra_files=files)
    import shutil

    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return done, sha, branch


# ---------------------------------------------------------------------- reading back


def evaluation_runs(runs: list[RunRecord]) -> list[RunRecord]:
    """The finished evaluation runs among ``runs``, oldest first."""
    out = [r for r in runs if TAG_MODEL in r.tags and r.status == "FINISHED"]
    return sorted(out, key=lambda r: (r.start_time, r.run_id))


def evaluation_data_hash(rec: RunRecord) -> str | None:
    for inp in rec.inputs:
        if inp.get("context") == CONTEXT and inp.get("hash"):
            return str(inp["hash"])
    return None


def read_evaluation(rec: RunRecord) -> dict[str, Any]:
    """The run's ``evaluation.json`` (drift included), or ``{}``."""
    import json

    from runsite import validate

    path = rec.artifacts_dir / EVALUATION_FILE
    if not path.is_file() or not validate.inside(rec.path, path):
        return {}
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def evaluate(
    model: str,
    data: Any,
    *,
    targets: str,
    model_type: str | None = None,
    evaluator_config: dict[str, Any] | None = None,
    store: str | os.PathLike[str] | None = None,
    experiment: str | None = None,
) -> Evaluation:
    """``mlflow.models.evaluate``'s shape: ``model`` is ``models:/NAME/VERSION`` (or a
    stage or ``@alias``), ``data`` a CSV/Parquet path or a DataFrame, ``targets`` the
    target column, ``model_type`` ``"regressor"`` or ``"classifier"``. Records one
    evaluation run; the result has ``.metrics`` and ``.run_id``::

        result = runsite.evaluate("models:/taxi/staging", "march.parquet",
                                  targets="duration", model_type="regressor")
        result.metrics["rmse"]
    """
    import tempfile

    from runsite.registry.api import Registry

    reg = Registry(store)
    text = str(model)
    if not text.startswith("models:/"):
        raise InvalidInput(f"model must be a models:/ URI (models:/NAME/VERSION), got {text!r}")
    mv = reg.resolve(text[len("models:/") :].strip("/"))
    threshold = float((evaluator_config or {}).get("drift_threshold", drift_mod.DEFAULT_THRESHOLD))
    if isinstance(data, str | os.PathLike):
        return evaluate_versions(
            reg,
            mv.name,
            data,
            targets,
            [str(mv.version)],
            model_type,
            experiment,
            drift_threshold=threshold,
        )
    if not hasattr(data, "to_parquet"):
        raise InvalidInput(
            f"data must be a CSV/Parquet path or a pandas DataFrame, got {type(data).__name__}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dataframe.parquet"
        data.to_parquet(path, index=False)
        return evaluate_versions(
            reg,
            mv.name,
            path,
            targets,
            [str(mv.version)],
            model_type,
            experiment,
            drift_threshold=threshold,
        )
