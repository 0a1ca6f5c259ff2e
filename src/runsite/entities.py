"""MLflow-shaped views of a run (``run.info.run_id``, ``run.data.metrics``) so ported
scripts keep working unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ViewType:
    """MLflow's ``ViewType`` for ``search_runs(run_view_type=...)``; runsite runs are never
    soft-deleted, so ACTIVE_ONLY and ALL find the same runs and DELETED_ONLY none."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3


@dataclass(frozen=True)
class Metric:
    """One metric point (MLflow's ``mlflow.entities.Metric``)."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class FileInfo:
    """One entry of ``list_artifacts`` (MLflow's ``FileInfo``)."""

    path: str
    is_dir: bool
    file_size: int | None


@dataclass(frozen=True)
class Param:
    """One param (MLflow's ``mlflow.entities.Param``), for ``log_batch``."""

    key: str
    value: Any


@dataclass(frozen=True)
class RunTag:
    """One tag (MLflow's ``mlflow.entities.RunTag``), for ``log_batch``."""

    key: str
    value: Any


@dataclass(frozen=True)
class Experiment:
    """An experiment: ``experiment_id`` is the folder name (a slug of ``name``)."""

    experiment_id: str
    name: str
    path: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    key_metric: str | None = None
    lifecycle_stage: str = "active"
    # MLflow's attributes, derived from the runs (the first start, the last start or end)
    # where runsite fills them (search_experiments, get_experiment…); None without runs
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    experiment_name: str
    status: str
    start_time: int
    end_time: int | None
    user_id: str
    artifact_uri: str
    lifecycle_stage: str = "active"

    @property
    def run_uuid(self) -> str:  # MLflow's older name
        return self.run_id


@dataclass(frozen=True)
class RunData:
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def run_info(run: Any) -> RunInfo:
    """The ``RunInfo`` of a run being logged or of a run read back (same attributes)."""
    return RunInfo(
        run_id=run.run_id,
        run_name=run.run_name,
        experiment_id=run.experiment_id,
        experiment_name=run.experiment,
        status=run.status,
        start_time=run.start_time,
        end_time=run.end_time,
        user_id=run.user,
        artifact_uri=run.artifacts_dir.resolve().as_uri(),
    )


class PagedList(list):
    """MLflow's ``PagedList``: one page of results and the ``token`` of the next page
    (``None`` on the last page); pass it back as ``page_token=``."""

    def __init__(self, items: Any, token: str | None) -> None:
        super().__init__(items)
        self.token = token


def page(items: list[Any], max_results: int | None, page_token: str | None) -> PagedList:
    """The page of ``items`` that ``page_token`` (MLflow's: base64 of ``{"offset": n}``)
    starts, ``max_results`` long."""
    import base64
    import json

    from runsite.errors import InvalidInput

    if max_results is not None and (
        isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1
    ):
        raise InvalidInput(f"max_results must be a positive integer, got {max_results!r}")
    offset = 0
    if page_token:
        try:
            offset = int(json.loads(base64.b64decode(page_token))["offset"])
        except Exception:
            raise InvalidInput(f"invalid page_token {page_token!r}") from None
        if offset < 0:
            raise InvalidInput(f"invalid page_token {page_token!r}")
    if max_results is None:
        return PagedList(items[offset:], None)
    end = offset + max_results
    token = None
    if end < len(items):
        token = base64.b64encode(json.dumps({"offset": end}).encode("utf-8")).decode("utf-8")
    return PagedList(items[offset:end], token)


@dataclass(frozen=True)
class InputTag:
    """A tag of a data input (MLflow's ``InputTag``); the context is ``mlflow.data.context``."""

    key: str
    value: str


@dataclass(frozen=True)
class Dataset:
    """A data input as MLflow's ``mlflow.entities.Dataset`` shows it: ``schema`` and
    ``profile`` are JSON strings (or ``None``)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag]


def dataset_input(record: dict[str, Any]) -> DatasetInput:
    """MLflow's view of one of runsite's input records."""
    import json

    digest = str(record.get("digest") or record.get("hash") or "").removeprefix("sha256:")
    source = record.get("source")
    if not isinstance(source, str):
        source = json.dumps({"uri": str(record.get("path") or record.get("name") or "")})
    schema = record.get("dataset_schema")
    if not isinstance(schema, str) and record.get("schema") is not None:
        schema = json.dumps(record["schema"])
    profile = record.get("profile")
    if not isinstance(profile, str) and record.get("rows") is not None:
        profile = json.dumps({"num_rows": record["rows"]})
    kind = record.get("kind")
    source_type = record.get("source_type") or ("code" if kind == "memory" else "local")
    tags = [InputTag(str(k), str(v)) for k, v in (record.get("tags") or {}).items()]
    if record.get("context"):
        tags.append(InputTag("mlflow.data.context", str(record["context"])))
    return DatasetInput(
        Dataset(
            name=str(record.get("name") or ""),
            digest=digest,
            source_type=str(source_type),
            source=source,
            schema=schema if isinstance(schema, str) else None,
            profile=profile if isinstance(profile, str) else None,
        ),
        tags,
    )


class RunInputs(list[dict[str, Any]]):
    """A run's data inputs: runsite's records (a list of dicts: ``name``, ``hash``,
    ``context`` …), plus MLflow's ``run.inputs.dataset_inputs`` view of them."""

    @property
    def dataset_inputs(self) -> list[DatasetInput]:
        return [dataset_input(r) for r in self]

    @property
    def model_inputs(self) -> list[Any]:
        return []
