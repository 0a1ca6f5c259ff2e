"""Artifacts, tables, figures and data inputs."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import runsite
from runsite import hashing


def rec_of(store: Path) -> runsite.RunRecord:
    (rec,) = runsite.Store(store).runs()
    return rec


def test_log_artifact_and_artifacts(store: Path, tmp_path: Path, quiet_git: None) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    with runsite.start_run() as r:
        runsite.log_artifact(src / "a.txt")
        runsite.log_artifact(src / "a.txt", artifact_path="copies/x")
        runsite.log_artifacts(src, artifact_path="tree")
        runsite.log_artifacts(src)
    art = r.path / "artifacts"
    assert (art / "a.txt").read_text() == "A"
    assert (art / "copies/x/a.txt").read_text() == "A"
    assert (art / "tree/sub/b.txt").read_text() == "B"
    assert (art / "sub/b.txt").read_text() == "B"
    paths = {a["path"]: a for a in rec_of(store).artifacts}
    assert set(paths) == {"a.txt", "copies/x/a.txt", "tree/a.txt", "tree/sub/b.txt", "sub/b.txt"}
    assert paths["a.txt"]["sha256"] == hashlib.sha256(b"A").hexdigest()
    assert paths["a.txt"]["size"] == 1


@pytest.mark.parametrize("bad", ["../out", "/etc", "a/../../b", "C:/x", "a\\b"])
def test_artifact_paths_cannot_escape(
    store: Path, tmp_path: Path, quiet_git: None, bad: str
) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    with runsite.start_run() as r:
        with pytest.raises(runsite.InvalidInput):
            runsite.log_artifact(f, artifact_path=bad)
        with pytest.raises(runsite.InvalidInput):
            runsite.log_text("x", bad + "/t.txt")
        runsite.log_text("kept", "kept.txt")
    outside = [p for p in tmp_path.rglob("*") if p.name in ("f.txt", "t.txt") and p != f]
    assert outside == []
    assert [a["path"] for a in rec_of(store).artifacts] == ["kept.txt"]
    assert (r.path / "artifacts" / "kept.txt").read_text() == "kept"


def test_symlink_inside_artifacts_cannot_redirect_writes(
    store: Path, tmp_path: Path, quiet_git: None
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    with runsite.start_run() as r:
        (r.path / "artifacts").mkdir()
        os.symlink(victim, r.path / "artifacts" / "link")
        with pytest.raises(runsite.InvalidInput, match="outside"):
            runsite.log_text("pwned", "link/evil.txt")
    assert list(victim.iterdir()) == []


def test_log_artifacts_refuses_symlinks_pointing_outside(
    store: Path, tmp_path: Path, quiet_git: None
) -> None:
    secret = tmp_path / "secret.key"
    secret.write_text("s3cret")
    src = tmp_path / "out"
    src.mkdir()
    (src / "ok.txt").write_text("ok")
    os.symlink(secret, src / "key")
    with runsite.start_run() as r, pytest.raises(runsite.InvalidInput, match="symlink"):
        runsite.log_artifacts(src)
    assert not (r.path / "artifacts").exists()  # nothing half-copied


def test_symlinked_artifacts_folder_is_refused(
    store: Path, tmp_path: Path, quiet_git: None
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    with runsite.start_run() as r:
        os.symlink(victim, r.path / "artifacts")
        with pytest.raises(runsite.InvalidInput, match="outside"):
            runsite.log_text("pwned", "evil.txt")
    assert list(victim.iterdir()) == []


def test_missing_artifact_is_named(store: Path, tmp_path: Path, quiet_git: None) -> None:
    with runsite.start_run():
        with pytest.raises(runsite.NotFound, match=r"nope\.txt"):
            runsite.log_artifact(tmp_path / "nope.txt")
        with pytest.raises(runsite.NotFound, match="nodir"):
            runsite.log_artifacts(tmp_path / "nodir")


def test_log_text_dict_table(store: Path, quiet_git: None) -> None:
    with runsite.start_run() as r:
        runsite.log_text("héllo", "notes/t.txt")
        runsite.log_dict({"b": 1, "a": [1, 2]}, "cfg.json")
        runsite.log_dict({"b": 1, "a": [1, 2]}, "cfg.yaml")
        runsite.log_table({"x": [1, 2], "y": ["a", "b"]}, "t.json")
        runsite.log_table({"x": [1, 2], "y": ["a", "b"]}, "t.csv")
        runsite.log_table({"x": [1, 2], "y": ["a", "b"]}, "t.parquet")
        with pytest.raises(runsite.InvalidInput, match="different lengths"):
            runsite.log_table({"x": [1], "y": [1, 2]}, "bad.json")
        with pytest.raises(runsite.InvalidInput, match=r"\.json, \.csv or \.parquet"):
            runsite.log_table({"x": [1]}, "bad.xlsx")
    art = r.path / "artifacts"
    assert (art / "notes/t.txt").read_text("utf-8") == "héllo"
    assert json.loads((art / "cfg.json").read_text()) == {"b": 1, "a": [1, 2]}
    assert (art / "cfg.yaml").read_text() == "a:\n- 1\n- 2\nb: 1\n"  # sorted, as MLflow's
    assert json.loads((art / "t.json").read_text()) == {
        "columns": ["x", "y"],
        "data": [[1, "a"], [2, "b"]],
    }
    assert (art / "t.csv").read_text().splitlines() == ["x,y", "1,a", "2,b"]
    import pyarrow.parquet as pq

    assert pq.read_table(art / "t.parquet").to_pydict() == {"x": [1, 2], "y": ["a", "b"]}


def test_log_table_from_dataframe(store: Path, quiet_git: None) -> None:
    pd = pytest.importorskip("pandas")
    with runsite.start_run() as r:
        runsite.log_table(pd.DataFrame({"a": [1.5, 2.5]}), "df.json")
    assert json.loads((r.path / "artifacts/df.json").read_text())["data"] == [[1.5], [2.5]]


def test_log_figure_matplotlib(store: Path, quiet_git: None) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with runsite.start_run() as r:
        runsite.log_figure(fig, "plots/curve.png")
        runsite.log_figure(fig, "plots/curve.svg")
        with pytest.raises(runsite.InvalidInput, match="matplotlib or plotly"):
            runsite.log_figure(object(), "x.png")
    plt.close(fig)
    assert (r.path / "artifacts/plots/curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (r.path / "artifacts/plots/curve.svg").read_bytes()


def test_log_input_file_csv_parquet_folder(store: Path, tmp_path: Path, quiet_git: None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    data.mkdir()
    csv = data / "train.csv"
    csv.write_text('a,b,c\n1,x,2.5\n2,"y,\nz",3.5\n3,w,4.5\n')
    pq.write_table(pa.table({"a": [1, 2], "s": ["x", "y"]}), data / "val.parquet")
    (data / "README").write_text("hi")
    with runsite.start_run():
        info_csv = runsite.log_input(csv, context="training")
        info_pq = runsite.log_input(data / "val.parquet", name="validation", context="validation")
        info_dir = runsite.log_input(data)
    assert info_csv["hash"] == "sha256:" + hashlib.sha256(csv.read_bytes()).hexdigest()
    assert info_csv["rows"] == 3  # the quoted newline is one row
    assert info_csv["schema"] == {"a": "int64", "b": "string", "c": "double"}
    assert info_pq["rows"] == 2 and info_pq["schema"] == {"a": "int64", "s": "string"}
    assert info_pq["name"] == "validation" and info_pq["context"] == "validation"
    assert info_dir["kind"] == "folder" and info_dir["files"] == 3
    assert info_dir["size"] == sum(p.stat().st_size for p in data.iterdir())
    lines = "".join(
        f"{name}\0{hashlib.sha256((data / name).read_bytes()).hexdigest()}\n"
        for name in sorted(["README", "train.csv", "val.parquet"])
    )
    assert info_dir["hash"] == "sha256:" + hashlib.sha256(lines.encode()).hexdigest()
    inputs = rec_of(store).inputs
    assert [i["name"] for i in inputs] == ["train.csv", "validation", "data"]


def test_folder_hash_ignores_where_the_folder_is(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "sub" / "f").write_text("same")
    assert hashing.hash_path(tmp_path / "one") == hashing.hash_path(tmp_path / "two")
    (tmp_path / "two" / "sub" / "f").write_text("diff")
    assert hashing.hash_path(tmp_path / "one")[0] != hashing.hash_path(tmp_path / "two")[0]


def test_unchanged_file_is_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20))
    first = hashing.sha256_file(big)
    calls = []
    real = hashlib.file_digest

    def counting(f, name):  # type: ignore[no-untyped-def]
        calls.append(name)
        return real(f, name)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    assert hashing.sha256_file(big) == first and calls == []
    # A change of content (size/mtime) is hashed again.
    big.write_bytes(os.urandom(1 << 20))
    assert hashing.sha256_file(big) != first and calls == ["sha256"]


def test_log_input_missing_path(store: Path, tmp_path: Path, quiet_git: None) -> None:
    with runsite.start_run(), pytest.raises(runsite.NotFound, match=r"missing\.csv"):
        runsite.log_input(tmp_path / "missing.csv")


def test_broken_csv_still_logs_the_hash(store: Path, tmp_path: Path, quiet_git: None) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2,3,4\n")
    with runsite.start_run():
        info = runsite.log_input(bad)
    assert info["hash"].startswith("sha256:") and "rows" not in info


def test_log_table_appends_as_mlflow_does(store: Path, quiet_git: None) -> None:
    import pyarrow.parquet as pq

    with runsite.start_run() as r:
        for ext in ("json", "csv", "parquet"):
            runsite.log_table({"a": [1, 2]}, f"t.{ext}")
            runsite.log_table({"b": ["x"], "a": [3]}, f"t.{ext}")
        runsite.log_text("not a table", "n.json")
        with pytest.raises(runsite.InvalidInput, match="not a table to append to"):
            runsite.log_table({"a": [1]}, "n.json")
    art = r.path / "artifacts"
    assert json.loads((art / "t.json").read_text()) == {
        "columns": ["a", "b"],
        "data": [[1, None], [2, None], [3, "x"]],
    }
    assert (art / "t.csv").read_text().splitlines() == ["a,b", "1,", "2,", "3,x"]
    assert pq.read_table(art / "t.parquet").to_pydict() == {"a": [1, 2, 3], "b": [None, None, "x"]}
    assert json.loads(r.data.tags["mlflow.loggedArtifacts"]) == [
        {"path": "t.json", "type": "table"},
        {"path": "t.parquet", "type": "table"},
    ]
