"""search_registered_models / search_model_versions filters and the page tokens of the
four client searches, checked against real MLflow (a test dependency)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runsite
from mlflow_support import run_mlflow
from runsite.client import MlflowClient
from runsite.errors import InvalidInput, QueryError

pytestmark = pytest.mark.slow

# name -> (tags, number of versions): registered the same way in both.
MODELS = {
    "taxi-a": ({"team": "ops"}, 2),
    "taxi-b": ({"team": "fraud"}, 1),
    "Taxi-C": ({}, 1),
    "other": ({"team": "ops"}, 3),
}
MODEL_FILTERS = [
    "",
    "name = 'taxi-a'",
    "name != 'taxi-a'",
    "name LIKE 'taxi%'",
    "name ILIKE 'taxi%'",
    "name LIKE '%-_'",
    "tags.team = 'ops'",
    "tags.team != 'ops'",
    "tags.team LIKE 'f%' AND name LIKE 'taxi%'",
    "name = 'nope'",
]
VERSION_FILTERS = [
    "name = 'other'",
    "name LIKE 'taxi%'",
    "name ILIKE 'TAXI-%'",
    "name IN ('taxi-a', 'other')",
    "version_number > 1",
    "name = 'other' AND version_number <= 2",
]

_MLFLOW = """
import json, sys
from mlflow import MlflowClient
import mlflow
models, model_filters, version_filters = json.loads(sys.argv[2])
mlflow.set_tracking_uri(f"sqlite:///{sys.argv[1]}/m.db")
mlflow.set_experiment("e")
c = MlflowClient()
for i in range(5):
    with mlflow.start_run(run_name=f"r{i}"):
        mlflow.log_metric("m", i)
for name, (tags, n) in models.items():
    c.create_registered_model(name, tags=tags)
    for _ in range(n):
        c.create_model_version(name, f"file:///tmp/{name}")
def pages(search, size, **kw):
    out, token = [], None
    while True:
        got = search(max_results=size, page_token=token, **kw)
        out.append(len(got))
        token = got.token
        if token is None:
            return out
exp = c.get_experiment_by_name("e").experiment_id
print(json.dumps({
    "models": {f: [m.name for m in c.search_registered_models(filter_string=f)]
               for f in model_filters},
    "fluent_models": [m.name for m in
                      mlflow.search_registered_models(filter_string="name LIKE 'taxi%'")],
    "versions": {f: sorted([m.name, int(m.version)] for m in c.search_model_versions(f))
                 for f in version_filters},
    "model_pages": pages(c.search_registered_models, 2),
    "model_pages_3": pages(c.search_registered_models, 3),
    "version_pages": pages(c.search_model_versions, 3),
    "run_pages": pages(c.search_runs, 2, experiment_ids=[exp]),
    "run_pages_5": pages(c.search_runs, 5, experiment_ids=[exp]),
    "run_order": [r.info.run_name for r in c.search_runs([exp], max_results=3)],
}))
"""


def _mlflow(tmp_path: Path) -> dict[str, Any]:
    args = json.dumps([MODELS, MODEL_FILTERS, VERSION_FILTERS])
    return run_mlflow(["-c", _MLFLOW, str(tmp_path), args], tmp_path)


def _ours(store: Path) -> MlflowClient:
    from sklearn.linear_model import LinearRegression

    import runsite.sklearn

    runsite.set_experiment("e")
    for i in range(5):
        with runsite.start_run(run_name=f"r{i}", log_git=False):
            runsite.log_metric("m", i)
    c = MlflowClient()
    for name, (tags, n) in MODELS.items():
        for _ in range(n):
            with runsite.start_run(log_git=False, experiment="models") as r:
                runsite.sklearn.log_model(LinearRegression().fit([[0], [1]], [0, 1]), "model")
            mv = c.create_model_version(name, f"runs:/{r.run_id}/model")
        for k, v in tags.items():
            c.set_registered_model_tag(name, k, v)
        assert mv.version == n
    return c


def _pages(search: Any, size: int, **kw: Any) -> list[int]:
    out, token = [], None
    while True:
        got = search(max_results=size, page_token=token, **kw)
        out.append(len(got))
        token = got.token
        if token is None:
            return out


def test_registry_searches_and_pages_match_mlflow(tmp_path: Path, store: Path) -> None:
    theirs = _mlflow(tmp_path)
    c = _ours(store)
    for f in MODEL_FILTERS:
        assert [m.name for m in c.search_registered_models(filter_string=f)] == theirs["models"][
            f
        ], f
    got = [m.name for m in runsite.search_registered_models(filter_string="name LIKE 'taxi%'")]
    assert got == theirs["fluent_models"]
    for f in VERSION_FILTERS:
        found = sorted([m.name, int(m.version)] for m in c.search_model_versions(f))
        assert found == theirs["versions"][f], f
    assert _pages(c.search_registered_models, 2) == theirs["model_pages"]
    assert _pages(c.search_registered_models, 3) == theirs["model_pages_3"]
    assert _pages(c.search_model_versions, 3) == theirs["version_pages"]
    assert _pages(c.search_runs, 2, experiment_ids=["e"]) == theirs["run_pages"]
    assert _pages(c.search_runs, 5, experiment_ids=["e"]) == theirs["run_pages_5"]
    assert [r.info.run_name for r in c.search_runs(["e"], max_results=3)] == theirs["run_order"]
    # the pages together are the whole answer, in order, each item once
    first = c.search_runs(["e"], max_results=2)
    rest = c.search_runs(["e"], max_results=10, page_token=first.token)
    assert [r.run_name for r in [*first, *rest]] == [f"r{i}" for i in range(4, -1, -1)]
    exps = c.search_experiments(max_results=1)
    assert len(exps) == 1 and exps.token is not None


def test_bad_filters_tokens_and_limits(store: Path) -> None:
    c = MlflowClient()
    with pytest.raises(QueryError, match="expected name or tags"):
        c.search_registered_models(filter_string="run_id = 'x'")
    with pytest.raises(InvalidInput, match="invalid page_token"):
        c.search_registered_models(page_token="garbage")
    with pytest.raises(InvalidInput, match="max_results must be a positive integer"):
        c.search_runs(["e"], max_results=0)
    with pytest.raises(InvalidInput, match="order_by clause"):
        c.search_registered_models(order_by=["creation_timestamp DESC"])
