"""Artifacts in object storage, against a real S3-compatible server (moto's standalone
server on 127.0.0.1) through the same s3fs client users run."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import runsite
from conftest import git
from runsite import objstore
from runsite.cli import main
from runsite.errors import InvalidInput, NotFound, StoreFormatError

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
Ridge = pytest.importorskip("sklearn.linear_model").Ridge


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A moto S3 server on a free port of 127.0.0.1; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A fresh bucket; credentials only in the environment, as users set them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    import boto3

    name = "rs-" + request.node.name.lower().replace("_", "-")[:40]
    boto3.client("s3", endpoint_url=s3).create_bucket(Bucket=name)
    return name


def configure(store: Path, s3: str, bucket: str, threshold: str = "all") -> None:
    store.mkdir(parents=True, exist_ok=True)
    (store / "storage.yaml").write_text(
        f"url: s3://{bucket}/models\nendpoint_url: {s3}\nthreshold: {threshold}\nretries: 1\n"
    )


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def fit() -> Ridge:
    X = np.arange(20.0).reshape(10, 2)
    return Ridge(alpha=0.5).fit(X, X.sum(axis=1))


def test_full_loop_two_clones_through_s3(
    tmp_path: Path, s3: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    one = tmp_path / "one"
    git(tmp_path, "clone", "-q", str(bare), str(one))
    monkeypatch.chdir(one)
    configure(one / "runs", s3, bucket)
    runsite.set_store(one / "runs")
    runsite.set_experiment("taxi")
    with runsite.start_run() as run:
        runsite.log_metric("rmse", 1.5)
        info = runsite.log_model(fit(), "model")
    folder = run.artifacts_dir / "model"
    assert not (folder / "model.pkl").exists()  # the bytes left the run folder
    ptr = objstore.read_pointer(folder / "model.pkl.pointer")
    assert ptr.url == f"s3://{bucket}/models/sha256/{ptr.sha256[:2]}/{ptr.sha256}"
    assert objstore.pending(one / "runs") == []
    runsite.register_model(f"runs:/{run.run_id}/model", "taxi")
    runsite.set_model_stage("taxi", 1, "production", reason="first")
    git(one, "add", "runs")
    git(one, "commit", "-q", "-m", "a run with its model in S3")
    git(one, "push", "-q", "origin", "HEAD")
    tracked = git(one, "ls-files").split()
    assert not any(p.endswith("model.pkl") for p in tracked)
    assert any(p.endswith("model.pkl.pointer") for p in tracked)

    two = tmp_path / "two"
    git(tmp_path, "clone", "-q", str(bare), str(two))
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "cache-two"))  # nothing cached
    model = runsite.load_model("models:/taxi/production", store=two / "runs")
    assert model.predict(np.array([[1.0, 2.0]])).shape == (1,)
    assert objstore.cached_path(ptr.sha256).is_file()  # fetched by hash
    pulled = tmp_path / "pulled"
    assert (
        cli(
            "models", "pull", "taxi/production", "--out", str(pulled), "--store", str(two / "runs")
        )[0]
        == 0
    )
    assert (pulled / "model.pkl").read_bytes() == objstore.cached_path(ptr.sha256).read_bytes()
    code, _, err = cli("build", str(two / "runs"), "--out", str(tmp_path / "site"))
    assert code == 0, err
    assert (tmp_path / "site" / "index.html").is_file()
    assert info.hash == runsite.get_model_version("taxi", 1).hash


def test_tampered_object_is_refused_naming_it(
    tmp_path: Path, s3: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "runs"
    configure(store, s3, bucket)
    with runsite.Store(store).start_run("e") as run:
        run.log_model(fit(), "model")
    ptr = objstore.read_pointer(run.artifacts_dir / "model" / "model.pkl.pointer")
    import boto3

    key = ptr.url.split(f"s3://{bucket}/", 1)[1]
    boto3.client("s3", endpoint_url=s3).put_object(Bucket=bucket, Key=key, Body=b"evil")
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "fresh"))
    with pytest.raises(StoreFormatError, match=r"does not match its hash") as e:
        runsite.load_model(f"runs:/{run.run_id}/model", store=store)
    assert ptr.url in str(e.value)
    assert not objstore.cached_path(ptr.sha256).exists()  # never entered the cache
    # a tampered cache is caught by the loader's own check of the bytes
    cached = objstore.cached_path(ptr.sha256)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"evil")
    with pytest.raises(StoreFormatError, match=r"model\.pkl does not match"):
        runsite.load_model(f"runs:/{run.run_id}/model", store=store)
    boto3.client("s3", endpoint_url=s3).delete_object(Bucket=bucket, Key=key)
    cached.unlink()
    with pytest.raises(NotFound, match="missing from the artifact store"):
        runsite.load_model(f"runs:/{run.run_id}/model", store=store)


def test_storage_down_training_goes_on_then_push(
    tmp_path: Path, s3: str, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "runs"
    configure(store, "http://127.0.0.1:9", bucket)  # nothing listens on the discard port
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(100_000))
    with (
        caplog.at_level(logging.WARNING, logger="runsite"),
        runsite.Store(store).start_run("e") as run,
    ):
        run.log_artifact(big)
        run.log_model(fit(), "model")
        run.log_metric("loss", 0.1)
    rec = runsite.Store(store).run(run.run_id)
    assert rec.status == "FINISHED"
    assert "pending" in caplog.text
    waiting = objstore.pending(store, run.run_id)
    assert {d["path"] for d in waiting} >= {"weights.bin", "model/model.pkl"}
    code, out, _ = cli("runs", "show", run.run_id, "--store", str(store))
    assert code == 0 and "PENDING" in out and "weights.bin" in out
    # the bytes are safe locally, and this machine still loads the model
    assert runsite.load_model(f"runs:/{run.run_id}/model", store=store).native is not None
    code, _, err = cli("artifacts", "push", "--store", str(store))
    assert code == 1 and "unreachable" in err
    configure(store, s3, bucket)  # back online
    code, out, err = cli("artifacts", "push", "--store", str(store))
    assert code == 0, err
    assert "uploaded weights.bin" in out
    assert objstore.pending(store) == []
    assert "PENDING" not in cli("runs", "show", run.run_id, "--store", str(store))[1]
    ptr = objstore.read_pointer(run.artifacts_dir / "weights.bin.pointer")
    assert objstore.ObjectStore(objstore.load_config(store)).exists(ptr.sha256)  # type: ignore[arg-type]


def test_missing_bucket_and_foreign_pointer(
    tmp_path: Path, s3: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "runs"
    configure(store, s3, "no-such-bucket")
    cfg = objstore.load_config(store)
    assert cfg is not None
    src = tmp_path / "f"
    src.write_bytes(b"x")
    with pytest.raises(objstore.StorageError, match="does not exist"):
        objstore.ObjectStore(cfg).put(src, "0" * 64)
    configure(store, s3, bucket)
    with runsite.Store(store).start_run("e") as run:
        run.log_model(fit(), "model")
    pointer = run.artifacts_dir / "model" / "model.pkl.pointer"
    doc = json.loads(pointer.read_text())
    doc["url"] = doc["url"].replace(bucket, "attacker-bucket")
    pointer.write_text(json.dumps(doc))
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "fresh"))
    with pytest.raises(objstore.StorageError, match=r"attacker-bucket.*not this store's"):
        runsite.load_model(f"runs:/{run.run_id}/model", store=store)


def test_credentials_are_refused_in_urls_and_options(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    store.mkdir()
    for text in (
        "url: s3://AKIA:secret@bucket/p\n",
        "url: az://container/p?sig=abc&sv=2020\n",
        "url: s3://bucket/p\noptions: {secret: abc}\n",
        "url: s3://bucket/p\noptions: {key: AKIA}\n",
        "url: s3://bucket/p\nbucket_password: x\n",
    ):
        (store / "storage.yaml").write_text(text)
        with pytest.raises(InvalidInput):
            objstore.load_config(store)
    (store / "storage.yaml").write_text("url: s3://bucket/p/\nthreshold: 1MB\n")
    cfg = objstore.load_config(store)
    assert cfg is not None and cfg.url == "s3://bucket/p" and cfg.threshold == 1024**2


def test_threshold_keeps_small_files_in_the_run(
    tmp_path: Path, s3: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "runs"
    store.mkdir()
    monkeypatch.setenv("RUNSITE_ARTIFACT_URL", f"s3://{bucket}/ci")
    monkeypatch.setenv("RUNSITE_ARTIFACT_ENDPOINT_URL", s3)
    monkeypatch.setenv("RUNSITE_ARTIFACT_THRESHOLD", "50KB")
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_text("hello")
    big.write_bytes(os.urandom(60 * 1024))
    with runsite.Store(store).start_run("e") as run:
        run.log_artifact(small)
        run.log_artifact(big)
    assert (run.artifacts_dir / "small.txt").read_text() == "hello"
    assert not (run.artifacts_dir / "big.bin").exists()
    arts = {a["path"]: a for a in runsite.Store(store).run(run.run_id).artifacts}
    assert "url" not in arts["small.txt"]
    assert arts["big.bin"]["url"].startswith(f"s3://{bucket}/ci/sha256/")


def test_file_url_store(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    store.mkdir()
    (store / "storage.yaml").write_text(f"url: file://{tmp_path / 'objects'}\nthreshold: 0\n")
    with runsite.Store(store).start_run("e") as run:
        run.log_model(fit(), "model")
    assert list((tmp_path / "objects" / "sha256").rglob("*"))
    os.environ["RUNSITE_CACHE_DIR"] = str(tmp_path / "fresh")
    assert runsite.load_model(f"runs:/{run.run_id}/model", store=store).native is not None


def test_site_publishes_fetched_artifacts_and_lists_large_ones(
    tmp_path: Path, s3: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bs4 import BeautifulSoup

    store = tmp_path / "runs"
    configure(store, s3, bucket)
    with (store / "storage.yaml").open("a") as f:
        f.write("public_url: https://cdn.example.com/models\n")
    (store / "site.yaml").write_text("max_artifact_size: 1KB\n")
    small, big = tmp_path / "notes.txt", tmp_path / "weights.bin"
    small.write_text("small & fetched")
    big.write_bytes(os.urandom(5000))
    with runsite.Store(store).start_run("e") as run:
        run.log_artifact(small)
        run.log_artifact(big)
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "ci-cache"))  # as on CI
    code, _, err = cli("build", str(store), "--out", str(tmp_path / "site"))
    assert code == 0, err
    published = tmp_path / "site" / "runs" / run.run_id / "artifacts" / "notes.txt"
    assert published.read_text() == "small & fetched"
    page = next((tmp_path / "site").rglob(f"{run.run_id}.html"), None) or next(
        p
        for p in (tmp_path / "site").rglob("*.html")
        if run.run_id in p.read_text() and "weights.bin" in p.read_text()
    )
    soup = BeautifulSoup(page.read_text(), "html.parser")
    sha = objstore.read_pointer(run.artifacts_dir / "weights.bin.pointer").sha256
    link = soup.find("a", string="weights.bin")
    assert link is not None
    assert link["href"] == f"https://cdn.example.com/models/sha256/{sha[:2]}/{sha}"
    assert f"sha256:{sha[:16]}" in soup.get_text()
    assert not (tmp_path / "site" / "runs" / run.run_id / "artifacts" / "weights.bin").exists()
    assert "testing" not in page.read_text()  # no credential reaches the site


def test_gc_lists_then_removes_only_unreferenced_objects(
    tmp_path: Path, s3: str, bucket: str
) -> None:
    store = tmp_path / "runs"
    configure(store, s3, bucket)
    keep, drop = tmp_path / "keep.bin", tmp_path / "drop.bin"
    keep.write_bytes(b"keep me")
    drop.write_bytes(b"drop me")
    with runsite.Store(store).start_run("e") as run:
        run.log_artifact(keep)
    with runsite.Store(store).start_run("e") as other:
        other.log_artifact(drop)
    drop_sha = objstore.read_pointer(other.artifacts_dir / "drop.bin.pointer").sha256
    keep_sha = objstore.read_pointer(run.artifacts_dir / "keep.bin.pointer").sha256
    import shutil

    shutil.rmtree(other.path)  # the run was deleted (e.g. its branch was dropped)
    code, out, _ = cli("artifacts", "gc", "--store", str(store))
    assert code == 0 and drop_sha in out and keep_sha not in out and "--yes" in out
    client = objstore.ObjectStore(objstore.load_config(store))  # type: ignore[arg-type]
    assert client.exists(drop_sha)  # a dry run removes nothing
    code, out, _ = cli("artifacts", "gc", "--yes", "--store", str(store))
    assert code == 0 and "1 objects" in out
    assert not client.exists(drop_sha) and client.exists(keep_sha)


def test_download_artifacts_fetches_by_hash_and_checks(
    tmp_path: Path, s3: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "runs"
    configure(store, s3, bucket)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(os.urandom(4096))
    with runsite.Store(store).start_run("e") as run:
        run.log_artifact(weights, "ckpt")
        run.log_model(fit(), "model")
    assert (run.artifacts_dir / "ckpt" / "weights.bin.pointer").is_file()
    monkeypatch.setenv("RUNSITE_CACHE_DIR", str(tmp_path / "fresh"))  # as on another clone
    client = runsite.MlflowClient(tracking_uri=str(store))
    got = Path(client.download_artifacts(run.run_id, "ckpt/weights.bin", str(tmp_path / "d1")))
    assert got == (tmp_path / "d1" / "weights.bin").resolve()
    assert got.read_bytes() == weights.read_bytes()
    folder = Path(client.download_artifacts(run.run_id, "model", str(tmp_path / "d2")))
    assert not list(folder.rglob("*.pointer")) and (folder / "model.pkl").is_file()
    assert runsite.load_model(folder).predict(np.array([[1.0, 2.0]])).shape == (1,)
    # a tampered object is refused naming it, and nothing is left in its place
    ptr = objstore.read_pointer(run.artifacts_dir / "ckpt" / "weights.bin.pointer")
    objstore.cached_path(ptr.sha256).write_bytes(b"evil")
    with pytest.raises(StoreFormatError, match=r"weights\.bin") as e:
        client.download_artifacts(run.run_id, "ckpt/weights.bin", str(tmp_path / "d3"))
    assert ptr.url in str(e.value)
    assert not (tmp_path / "d3" / "weights.bin").exists()


@pytest.fixture
def s3_with_auth(tmp_path: Path) -> Iterator[tuple[str, str, str, str]]:
    """A moto server (its own process) that checks credentials, as S3 does: moto's
    standalone server accepts any key until ``/moto-api/reset-auth`` turns its IAM
    checks on. Set up while open: a bucket, an IAM user with an access key and a policy
    allowing S3. Yields (endpoint, bucket, key id, secret)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        setup = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        setup |= {"region_name": "us-east-1", "endpoint_url": endpoint}
        s3c = boto3.client("s3", **setup)
        for _ in range(300):
            try:
                s3c.create_bucket(Bucket="team-models")
                break
            except Exception:
                time.sleep(0.1)
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="trainer")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="trainer", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="trainer")["AccessKey"]
        req = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},  # (a form body would be parsed away)
        )
        urllib.request.urlopen(req, timeout=30).read()  # from now on every request is checked
        yield endpoint, "team-models", key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        proc.terminate()
        proc.wait(30)


def test_wrong_credentials_are_a_clear_error_and_training_goes_on(
    tmp_path: Path,
    s3_with_auth: tuple[str, str, str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint, bucket, key_id, secret = s3_with_auth
    store = tmp_path / "runs"
    configure(store, endpoint, bucket)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(100_000))
    for wrong_id, wrong_secret in (("AKIAWRONGWRONGWRONG1", secret), (key_id, "not-the-secret")):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", wrong_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong_secret)
        caplog.clear()
        with (
            caplog.at_level(logging.WARNING, logger="runsite"),
            runsite.Store(store).start_run("e") as run,
        ):
            run.log_artifact(big)
            run.log_model(fit(), "model")
            run.log_metric("loss", 0.1)  # training goes on
        rec = runsite.Store(store).run(run.run_id)
        assert rec.status == "FINISHED" and rec.metrics["loss"]["last"] == 0.1
        said = caplog.text
        assert "pending" in said and "refused the credentials" in said, said
        assert f"s3://{bucket}/" in said and endpoint in said
        assert wrong_secret not in said  # a secret is never printed
        waiting = {d["path"] for d in objstore.pending(store, run.run_id)}
        assert waiting >= {"weights.bin", "model/model.pkl"}
        # the bytes are safe locally: this machine still loads the model
        assert runsite.load_model(f"runs:/{run.run_id}/model", store=store).native is not None
        code, _, err = cli("artifacts", "push", "--store", str(store))
        assert code == 1 and "refused the credentials" in err and endpoint in err
        assert bucket in err and "Traceback" not in err
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)  # the right key: push finishes
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    code, out, err = cli("artifacts", "push", "--store", str(store))
    assert code == 0, err
    assert "uploaded weights.bin" in out and objstore.pending(store) == []
