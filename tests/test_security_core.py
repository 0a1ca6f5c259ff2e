"""Attacks on the library, store and registry (issue 15, docs/security.md): forged run
identity, a swapped pickle behind a warm cache, paths out of the store, malicious pickles,
hostile YAML and records. Each test is an attack that got through before."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import runsite
from runsite.errors import StoreFormatError, UnsafePickle
from runsite.models.pickle_scan import scan
from runsite.registry import Registry
from runsite.registry.check import check
from runsite.store import Store

Ridge = pytest.importorskip("sklearn.linear_model").Ridge


def train(store: Path, rmse: float = 4.0) -> Any:
    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(log_git=False):
        runsite.log_metric("rmse", rmse)
        return runsite.log_model(Ridge().fit(X, X.sum(axis=1)), "model")


class Payload:
    """Unpickling this writes a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> Any:
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def _rehash(folder: Path) -> str:
    """Fix model.yaml's file hashes after a swap (as an attacker would) and return the
    new model hash."""
    import hashlib

    from runsite import yamlio
    from runsite.hashing import HashCache, hash_path

    manifest = yamlio.load_safe(folder / "model.yaml")
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "model.yaml").write_text(yamlio.dump(manifest))
    return "sha256:" + hash_path(folder, HashCache(folder.parent / "_nocache.sqlite"))[0]


# ---------------------------------------------------------------- 3. cache vs bytes


def test_swapped_pickle_behind_a_warm_cache_is_refused(store: Path, tmp_path: Path) -> None:
    info = train(store)
    runsite.register_model(info.model_uri, "taxi")
    runsite.load_model("models:/taxi/1")  # warms every cache
    folder = Path(info.path)
    marker = tmp_path / "marker"
    pkl, yml = folder / "model.pkl", folder / "model.yaml"
    stats = {p: p.stat() for p in (pkl, yml)}
    evil = pickle.dumps(Payload(marker))
    pkl.write_bytes(evil + b" " * (stats[pkl].st_size - len(evil)))  # same size
    _rehash(folder)  # model.yaml: same size (hex digests), new file hashes
    for p, st in stats.items():
        assert p.stat().st_size == st.st_size
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(StoreFormatError, match="does not match"):
        runsite.load_model("models:/taxi/1", trust=True)  # the hash, not the scan, refuses
    assert not marker.exists()
    problems = check(Registry(store)).problems
    assert any("does not match the model folder" in p.message for p in problems)


# ---------------------------------------------------------------- 4. paths


ESCAPES = [
    "../other",
    "../../registry.yaml",
    "model/../../x",
    "/etc",
    "/etc/passwd",
    "C:/x",
    "a\\..\\..\\x",
    "./../x",
    "model/../..",
    "..",
    "x/\x00y",
]


@pytest.mark.parametrize("artifact", ESCAPES)
def test_models_check_flags_artifact_paths_out_of_the_run(store: Path, artifact: str) -> None:
    info = train(store)
    runsite.register_model(info.model_uri, "taxi")
    path = store / "registry.yaml"
    text = path.read_text()
    path.write_text(text.replace("artifact: model", f"artifact: {json.dumps(artifact)}"))
    problems = check(Registry(store)).problems
    assert problems and any("artifact" in p.message for p in problems), artifact


def test_symlinks_out_of_the_store_are_refused_everywhere(store: Path, tmp_path: Path) -> None:
    info = train(store)
    runsite.register_model(info.model_uri, "taxi")
    secret = tmp_path / "secret.txt"
    secret.write_text("ssh-key\n")
    folder = Path(info.path)
    req = folder / "requirements.txt"
    req.unlink()
    req.symlink_to(secret)
    old = Registry(store).get_model_version("taxi", 1).hash
    new = _rehash(folder)  # hashes follow the secret: a PR would commit exactly this
    (folder.parent / "_nocache.sqlite").unlink()
    reg_file = store / "registry.yaml"
    reg_file.write_text(reg_file.read_text().replace(old, new))
    problems = check(Registry(store)).problems
    assert any("symlink" in p.message and "requirements.txt" in p.message for p in problems)
    with pytest.raises(runsite.RunsiteError, match="symlink"):
        runsite.load_model(info.model_uri)
    with pytest.raises(runsite.RunsiteError, match="symlink"):
        Registry(store).pull("taxi/1", tmp_path / "out")
    # A whole model folder (and a run folder) that is a symlink out of the store.
    outside = tmp_path / "elsewhere"
    shutil.copytree(folder, outside)
    shutil.rmtree(folder)
    folder.symlink_to(outside)
    with pytest.raises(runsite.RunsiteError, match=r"outside|symlink"):
        Registry(store).verified_folder(Registry(store).resolve("taxi/1"))
    exp = tmp_path / "foreign-exp"
    shutil.copytree(store / "default", exp, symlinks=True)
    (store / "linked").symlink_to(exp)
    st = Store(store)
    st.runs()
    assert any("linked" in w and "outside the store" in w for w in st.warnings)


# ---------------------------------------------------------------- 5. pickles


def _raw_global(module: str, name: str) -> bytes:
    # protocol 0: GLOBAL, a tuple argument, REDUCE
    return f"c{module}\n{name}\n(S'x'\ntR.".encode()


def _stack_global_via_memo(module: str, name: str) -> bytes:
    import pickletools as pt  # noqa: F401  (documents the opcodes used)

    def s(text: str) -> bytes:
        return b"\x8c" + bytes([len(text)]) + text.encode()

    # PROTO 4, module, MEMOIZE, name, MEMOIZE, POP both, GET them back, STACK_GLOBAL
    return (
        b"\x80\x04"
        + s(module)
        + b"\x94"
        + s(name)
        + b"\x94"
        + b"0"
        + b"0"
        + b"h\x00h\x01\x93"
        + s("id")
        + b"\x85R."
    )


HOSTILE_PICKLES = {
    "os.system": pickle.dumps(Payload(Path("/tmp/x"))).replace(b"exec", b"eval"),
    "exec": pickle.dumps(Payload(Path("/tmp/x"))),
    "protocol-0 os.system": _raw_global("os", "system"),
    "posix.system": _raw_global("posix", "system"),
    "subprocess.Popen": _raw_global("subprocess", "Popen"),
    "builtins.getattr": _raw_global("builtins", "getattr"),
    "builtins.__import__": _raw_global("builtins", "__import__"),
    "__builtin__.eval": _raw_global("__builtin__", "eval"),
    "dotted name through numpy": _raw_global("numpy", "os.system"),
    "numpy.load": _raw_global("numpy", "load"),
    "numpy.memmap": _raw_global("numpy", "memmap"),
    "pandas.read_pickle": _raw_global("pandas", "read_pickle"),
    "operator.attrgetter": _raw_global("operator", "attrgetter"),
    "functools.partial": _raw_global("functools", "partial"),
    "STACK_GLOBAL via memo": _stack_global_via_memo("os", "system"),
    "extension registry": b"\x80\x02\x82\x01)R.",
    "truncated": b"\x80\x04\x8c\x02os",
    "nested in an estimator": pickle.dumps(
        {"est": Ridge(), "x": Payload(Path("/tmp/x"))}, protocol=5
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PICKLES))
def test_hostile_pickles_fail_the_scan(case: str) -> None:
    assert not scan(HOSTILE_PICKLES[case], "sklearn").ok, case
    assert not scan(HOSTILE_PICKLES[case], "python", "mypkg.Model").ok, case


def test_real_models_pass_the_scan() -> None:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    X = np.random.default_rng(0).random((40, 3))
    y = X.sum(axis=1)
    for model in (
        make_pipeline(StandardScaler(), FunctionTransformer(np.abs), Ridge()).fit(X, y),
        RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y),
        GradientBoostingClassifier(n_estimators=2).fit(X, y > 1.5),
        DictVectorizer().fit([{"a": 1, "b": "x"}]),
    ):
        for protocol in (2, 5):
            result = scan(pickle.dumps(model, protocol=protocol), "sklearn")
            assert result.ok, (model, result.refused)


def test_malicious_model_fails_check_and_load_unless_trusted(store: Path, tmp_path: Path) -> None:
    info = train(store)
    folder = Path(info.path)
    marker = tmp_path / "marker"
    (folder / "model.pkl").write_bytes(pickle.dumps(Payload(marker)))
    digest = _rehash(folder)
    # The PR registers it with a correct hash: the hash only proves it is the same file.
    reg = Registry(store)
    reg.register_model(info.model_uri, "taxi")
    assert reg.get_model_version("taxi", 1).hash == digest
    problems = check(reg).problems
    assert any("builtins.exec" in p.message for p in problems), problems
    with pytest.raises(UnsafePickle, match=r"builtins\.exec"):
        runsite.load_model("models:/taxi/1")
    assert not marker.exists()
    with pytest.raises(Exception):  # noqa: B017 - trusted: it runs (then fails to predict)
        runsite.load_model("models:/taxi/1", trust=True).predict(np.zeros((1, 2)))
    assert marker.read_text() == "pwned"


# ---------------------------------------------------------------- 2. identity


def test_a_run_claiming_another_runs_id_is_rejected(store: Path) -> None:
    a = train(store, rmse=4.0)
    b = train(store, rmse=9.0)
    run_a = Store(store).run(a.run_id)
    # Another folder whose run.json claims a's id
    header = json.loads((Path(b.path).parents[1] / "run.json").read_text())
    header["run_id"] = a.run_id
    (Path(b.path).parents[1] / "run.json").write_text(json.dumps(header))
    st = Store(store)
    ids = [r.run_id for r in st.runs()]
    assert ids.count(a.run_id) == 1 and b.run_id not in ids
    assert any("claims run id" in w for w in st.warnings)
    # A copy of a's folder in another experiment: neither is trusted.
    shutil.copytree(run_a.path, store / "other" / a.run_id)
    st = Store(store)
    assert a.run_id not in [r.run_id for r in st.runs()]
    assert any("claimed by 2 folders" in w for w in st.warnings)
    with pytest.raises(StoreFormatError, match="unique"):
        Store(store).run(a.run_id)


# ---------------------------------------------------------------- 7. limits


def test_deep_yaml_and_alias_bombs_are_clear_errors(store: Path) -> None:
    train(store)
    path = store / "registry.yaml"
    path.write_text("models: " + "[" * 20000 + "]" * 20000 + "\n")
    problems = check(Registry(store)).problems
    assert problems and "nested" in problems[0].message
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    path.write_text("format: 1\nmodels: {}\n" + bomb)
    problems = check(Registry(store)).problems
    assert problems and "values" in problems[0].message


HOSTILE_HEADERS: dict[str, Any] = {
    "numeric run_id": {"run_id": 12345},
    "null run_id": {"run_id": None},
    "empty run_id": {"run_id": ""},
    "list run_name": {"run_name": ["x"]},
    "numeric experiment": {"experiment": 3},
    "string start_time": {"start_time": "yesterday"},
    "bool start_time": {"start_time": True},
    "float start_time": {"start_time": 1.5},
    "start_time past 9999": {"start_time": 10**30},
    "start_time before 1970": {"start_time": -(10**18)},
    "dict user": {"user": {"a": 1}},
    "numeric host": {"host": 7},
    "string pid": {"pid": "1"},
    "numeric command": {"command": 5},
    "numeric python": {"python": 3.11},
    "git as list": {"git": ["a"]},
    "git.commit number": {"git": {"commit": 5}},
    "git.dirty string": {"git": {"dirty": "yes"}},
    "packages as list": {"packages": ["x"]},
    "numeric parent": {"parent_run_id": 9},
    "string format": {"format": "1"},
    "future format": {"format": 99},
    "deep": {"python": json.loads("[" * 500 + "]" * 500)},
}
HOSTILE_RUN_JSON: dict[str, str] = {
    "run.json a list": "[1, 2]",
    "run.json null": "null",
    "run.json a number": "5",
    "run.json not JSON": "{run_id: x",
    "run.json empty": "",
    "run.json 100k deep": "[" * 100_000 + "]" * 100_000,
}
HOSTILE_EVENTS: dict[str, Any] = {
    "param key number": {"type": "param", "key": 1, "value": 2},
    "param value dict": {"type": "param", "key": "a", "value": {"x": 1}},
    "tag value number": {"type": "tag", "key": "a", "value": 3},
    "type number": {"type": 5},
    "no type": {"key": "a"},
    "event a list": [1, 2],
    "event a string": "hello",
    "event null": None,
    "artifact path ..": {"type": "artifact", "path": "../../x", "size": 1},
    "artifact path absolute": {"type": "artifact", "path": "/etc/passwd", "size": 1},
    "artifact path null": {"type": "artifact", "path": None, "size": 1},
    "artifact size string": {"type": "artifact", "path": "x", "size": "big"},
    "model name absolute": {"type": "model", "name": "/etc", "flavor": "sklearn"},
    "model flavor number": {"type": "model", "name": "m", "flavor": 5},
    "note not text": {"type": "note", "text": 5},
    "status unknown": {"type": "status", "status": "PWNED"},
    "status null": {"type": "status", "status": None},
    "status metrics list": {"type": "status", "status": "FINISHED", "metrics": [1]},
    "status summary strings": {"type": "status", "status": "FINISHED", "metrics": {"a": 1}},
    "end_time string": {"type": "status", "status": "FINISHED", "end_time": "now"},
    "end_time bool": {"type": "status", "status": "FINISHED", "end_time": True},
    "end_time past 9999": {"type": "status", "status": "FINISHED", "end_time": 10**30},
    "t past 9999": {"type": "tag", "key": "a", "value": "b", "t": 10**30},
    "input size string": {"type": "input", "name": "d", "size": "1GB"},
    "input name number": {"type": "input", "name": 5},
    "deep event": {"type": "tag", "key": "a", "value": json.loads("[" * 300 + "]" * 300)},
}
# metric lines of a run that never ended (its summary is read from metrics.jsonl)
HOSTILE_METRICS: dict[str, Any] = {
    "metric time past 9999": {"k": "rmse", "v": 1.0, "s": 0, "t": 10**30},
    "metric time before 1970": {"k": "rmse", "v": 1.0, "s": 0, "t": -(10**18)},
    "metric value string": {"k": "rmse", "v": "1", "s": 0, "t": 0},
    "metric unknown non-finite": {"k": "rmse", "v": None, "x": "Bogus", "s": 0, "t": 0},
    "metric key number": {"k": 5, "v": 1.0, "s": 0, "t": 0},
    "metric step string": {"k": "rmse", "v": 1.0, "s": "0", "t": 0},
    "metric value bool": {"k": "rmse", "v": True, "s": 0, "t": 0},
    "metric a list": [1],
    "metric not JSON": "{k: rmse",
}
CRAFTED = sorted(HOSTILE_HEADERS) + sorted(HOSTILE_RUN_JSON) + sorted(HOSTILE_EVENTS)
CRAFTED += sorted(HOSTILE_METRICS)


def _craft(run_dir: Path, case: str) -> None:
    """Apply the crafted record ``case`` to the (ended) run in ``run_dir``."""
    if case in HOSTILE_HEADERS:
        header = json.loads((run_dir / "run.json").read_text())
        header.update(HOSTILE_HEADERS[case])
        (run_dir / "run.json").write_text(json.dumps(header))
    elif case in HOSTILE_RUN_JSON:
        (run_dir / "run.json").write_text(HOSTILE_RUN_JSON[case])
    elif case in HOSTILE_EVENTS:
        with (run_dir / "events.jsonl").open("a") as f:
            f.write(json.dumps(HOSTILE_EVENTS[case]) + "\n")
    else:  # as if the process died: no end event, metrics only in metrics.jsonl
        events = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
        kept = [line for line in events if '"type":"status"' not in line.replace(" ", "")]
        (run_dir / "events.jsonl").write_text("".join(kept))
        (run_dir / "metrics.parquet").unlink(missing_ok=True)
        header = json.loads((run_dir / "run.json").read_text())
        header["pid"] = 2**22 + 12345  # no such process: the run reads as crashed
        (run_dir / "run.json").write_text(json.dumps(header))
        line = HOSTILE_METRICS[case]
        with (run_dir / "metrics.jsonl").open("a") as f:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


@pytest.mark.parametrize("case", CRAFTED)
def test_crafted_records_are_skipped_with_a_warning(store: Path, case: str) -> None:
    """Every reader: no traceback, the bad run (or record) skipped with a warning naming
    it, and `build --strict` fails naming it."""
    from click.testing import CliRunner

    from runsite.cli import main

    with runsite.start_run(log_git=False, run_name="crafted") as run:
        runsite.log_param("alpha", 1)
        runsite.log_metric("rmse", 4.0)
    run_id = run.info.run_id
    run_dir = next(store.glob(f"*/{run_id}"))
    _craft(run_dir, case)
    st = Store(store)
    st.runs()
    assert st.warnings, case
    assert any(run_id in w for w in st.warnings), st.warnings
    runsite.search_runs("metrics.rmse < 5")  # no exception
    for args in (["runs", "list"], ["runs", "show", run_id], ["runs", "search", "params.a = 1"]):
        r = CliRunner().invoke(main, [*args, "--store", str(store)])
        assert r.exception is None or isinstance(r.exception, SystemExit), (case, args, r.output)
        assert "Traceback" not in r.output
    r = CliRunner().invoke(main, ["build", str(store), "--out", "site", "--strict"])
    assert r.exit_code == 1, r.output
    assert isinstance(r.exception, SystemExit), r.exception
    assert run_id in r.output and "--strict" in r.output and "Traceback" not in r.output


def test_hostile_skops_file_fails_check_load_and_pull_unless_trusted(
    store: Path, tmp_path: Path
) -> None:
    """A pull request swaps a skops model for one that builds os.system (skops' schema
    names it): models check fails naming it, load and pull refuse it; trusted, it loads."""
    pytest.importorskip("skops")
    import skops.io as sio
    from click.testing import CliRunner
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from runsite.cli import main

    X = np.arange(20.0).reshape(10, 2)
    with runsite.start_run(log_git=False):
        info = runsite.sklearn.log_model(
            Ridge().fit(X, X.sum(axis=1)), "model", serialization_format="skops"
        )
    folder = Path(info.path)
    fitted = sio.loads((folder / "model.skops").read_bytes())
    hostile = Pipeline([("f", FunctionTransformer(os.system)), ("m", fitted)])
    (folder / "model.skops").write_bytes(sio.dumps(hostile))
    _rehash(folder)
    reg = Registry(store)
    reg.register_model(info.model_uri, "taxi")
    problems = check(reg).problems
    assert any("system" in p.message and "skops" in p.message for p in problems), problems
    with pytest.raises(UnsafePickle, match=r"(posix|os)\.system"):
        runsite.load_model("models:/taxi/1")
    pulled = CliRunner().invoke(
        main, ["models", "pull", "taxi/1", "--out", str(tmp_path / "a"), "--store", str(store)]
    )
    assert pulled.exit_code == 1 and "system" in pulled.stderr and "--trust-pickle" in pulled.stderr
    assert not (tmp_path / "a" / "model.skops").exists()
    loaded = runsite.load_model("models:/taxi/1", trust=True)
    assert loaded.native.steps[0][1].func is os.system
