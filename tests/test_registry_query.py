"""get_latest_versions and search_model_versions: MLflow's registry reads, natively."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import runsite
from runsite.errors import InvalidInput, NotFound, QueryError
from runsite.registry import Registry

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def _model(alpha: float) -> str:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(run_name=f"ridge-{alpha}", log_git=False):
        return runsite.log_model(Ridge(alpha=alpha).fit(X, X.sum(axis=1)), "model").model_uri


@pytest.fixture
def registry(store: Path) -> Registry:
    uris = [_model(a) for a in (0.1, 0.2, 0.3, 0.4)]
    for uri in uris[:3]:
        runsite.register_model(uri, "taxi")
    runsite.register_model(uris[3], "fraud")
    reg = Registry(store)
    # Two production versions (a policy allowing them): the newest is the latest.
    text = reg.path.read_text()
    reg.path.write_text(
        text.replace("format: 1", "format: 1\npolicy:\n  max_production_versions: 2")
    )
    reg.set_model_stage("taxi", 1, "production")
    reg.set_model_stage("taxi", 2, "production")
    reg.set_model_stage("taxi", 3, "staging")
    reg.tag("taxi", "team", "ops", version=2)
    return reg


def test_get_latest_versions_per_stage(registry: Registry) -> None:
    got = registry.get_latest_versions("taxi")
    assert [(v.version, v.stage) for v in got] == [(3, "staging"), (2, "production")]
    assert [v.version for v in registry.get_latest_versions("taxi", ["Production"])] == [2]
    assert [v.version for v in runsite.get_latest_versions("taxi", ["None", "Staging"])] == [3]
    assert runsite.get_latest_versions("fraud", ["production"]) == []
    assert [v.version for v in runsite.get_latest_versions("fraud", ["none"])] == [1]
    with pytest.raises(NotFound, match="no registered model 'nope'"):
        registry.get_latest_versions("nope")
    with pytest.raises(InvalidInput, match="stage"):
        registry.get_latest_versions("taxi", ["Prod"])


def test_search_model_versions_filters(registry: Registry) -> None:
    def found(q: str | None, **kw: object) -> list[tuple[str, int]]:
        return [(v.name, v.version) for v in runsite.search_model_versions(q, **kw)]  # type: ignore[arg-type]

    assert sorted(found(None)) == [("fraud", 1), ("taxi", 1), ("taxi", 2), ("taxi", 3)]
    assert found("name = 'taxi'", order_by=["version_number ASC"]) == [
        ("taxi", 1),
        ("taxi", 2),
        ("taxi", 3),
    ]
    run_id = registry.get_model_version("taxi", 2).run_id
    assert found(f"run_id = '{run_id}'") == [("taxi", 2)]
    assert found(f"run_id IN ('{run_id}', 'x')") == [("taxi", 2)]
    assert found("name LIKE 'ta%' AND version_number >= 2", order_by=["version_number"]) == [
        ("taxi", 2),
        ("taxi", 3),
    ]
    assert found("name ILIKE 'FR%'") == [("fraud", 1)]
    assert found("tags.team = 'ops'") == [("taxi", 2)]
    assert found("name != 'taxi'") == [("fraud", 1)]
    assert found("name NOT IN ('taxi')") == [("fraud", 1)]
    assert found(f"source_path = 'runs:/{run_id}/model'") == [("taxi", 2)]
    assert found("name = 'taxi'", max_results=1, order_by=["version_number DESC"]) == [("taxi", 3)]


@pytest.mark.parametrize(
    "bad",
    ["stage = 'x'", "name = taxi", "name = 'a' OR name = 'b'", "version_number = '1'"],
)
def test_search_model_versions_rejects_bad_filters(registry: Registry, bad: str) -> None:
    with pytest.raises(QueryError):
        registry.search_model_versions(bad)


def test_search_model_versions_rejects_bad_order_and_limit(registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="order_by key"):
        registry.search_model_versions(order_by=["stage"])
    with pytest.raises(InvalidInput, match="max_results"):
        registry.search_model_versions(max_results=0)
