"""Setting an experiment's description and key metric from Python (the CLI: test_cli_more)."""

from __future__ import annotations

from pathlib import Path

import pytest

import runsite
from runsite import InvalidInput, Store


def test_update_writes_experiment_yaml_keeping_comments(store: Path) -> None:
    runsite.set_experiment("NYC Taxi")
    with runsite.start_run():
        runsite.log_metric("rmse", 5.0)
    yml = store / "nyc-taxi" / "experiment.yaml"
    yml.write_text("# owned by the pricing team\ntags:\n  team: pricing  # who to ask\n")
    exp = runsite.update_experiment(
        description="Trip durations.\n\nIn **minutes**.", key_metric="rmse"
    )
    assert exp.name == "NYC Taxi"
    assert exp.description == "Trip durations.\n\nIn **minutes**.\n"
    assert exp.key_metric == "rmse"
    assert exp.tags == {"team": "pricing"}
    text = yml.read_text()
    assert "# owned by the pricing team" in text and "# who to ask" in text
    again = Store(store).experiment("NYC Taxi")
    assert (again.description, again.key_metric) == (exp.description, "rmse")


def test_same_values_leave_the_file_untouched_and_empty_removes(store: Path) -> None:
    runsite.update_experiment("Churn", key_metric="auc")
    yml = store / "churn" / "experiment.yaml"
    before = yml.stat().st_mtime_ns
    text = yml.read_text()
    runsite.update_experiment("Churn", key_metric="auc")
    assert yml.read_text() == text and yml.stat().st_mtime_ns == before
    assert "name: Churn" in text  # a new file keeps the display name the slug loses
    exp = runsite.update_experiment("Churn", key_metric="", description="d")
    assert exp.key_metric is None and "key_metric" not in yml.read_text()


def test_bad_input_is_refused_without_writing(store: Path) -> None:
    with pytest.raises(InvalidInput, match="give a description or a key_metric"):
        runsite.update_experiment("x")
    with pytest.raises(InvalidInput, match="key metric"):
        runsite.update_experiment("x", key_metric="../rmse")
    assert not (store / "x" / "experiment.yaml").exists()
    runsite.set_experiment("nyc-taxi")
    with runsite.start_run():
        pass
    with pytest.raises(InvalidInput, match="share the folder"):
        runsite.update_experiment("NYC Taxi!", description="d")
    broken = store / "nyc-taxi" / "experiment.yaml"
    broken.write_text("tags: [unclosed\n")
    with pytest.raises(runsite.StoreFormatError):
        runsite.update_experiment("nyc-taxi", description="d")
    assert broken.read_text() == "tags: [unclosed\n"
