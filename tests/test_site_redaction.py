"""Attack 6: what a public site leaks by default. A run records secrets the way real
training scripts do (params and tags named like secrets, ``--api-key=…`` on the command
line, a dirty working tree); the built site must not contain any of them in any file
(pages, data files, the search index, compare pages), while the store keeps them."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

import runsite
from conftest import git
from runsite import redact
from runsite.site.build import build

SECRET_PARAMS = {
    "API_KEY": "s3cr3t-param-1",
    "apiKey": "s3cr3t-param-2",
    "openai-api-key": "s3cr3t-param-3",
    "Password": "s3cr3t-param-4",
    "AWS_SECRET_ACCESS_KEY": "s3cr3t-param-5",
    "api_token": "s3cr3t-param-6",
    "db_password": "s3cr3t-param-7",
    "hf_token": "s3cr3t-param-8",
    "client.secret": "s3cr3t-param-9",
    "authToken": "s3cr3t-param-10",
}
SECRET_TAGS = {"GITHUB_TOKEN": "s3cr3t-tag-1", "db-passwd": "s3cr3t-tag-2"}
PLAIN_PARAMS = {"n_keys": "plain-1", "key_metric": "plain-2", "max_tokens": "plain-3"}
COMMAND = [
    "train.py",
    "--api-key=s3cr3t-arg-1",
    "--db-password",
    "s3cr3t-arg-2",
    "OPENAI_API_KEY=s3cr3t-arg-3",
    "db.password=s3cr3t-arg-4",
    "--data",
    "postgres://me:s3cr3t-arg-5@db.internal/taxi",
    "--lr",
    "plain-arg-1",
]
SECRETS = [
    *SECRET_PARAMS.values(),
    *SECRET_TAGS.values(),
    *(a.rsplit("=", 1)[-1] for a in COMMAND if "s3cr3t" in a and "=" in a and "://" not in a),
    "s3cr3t-arg-2",
    "s3cr3t-arg-5",
    "s3cr3t-diff",
]


@pytest.fixture
def leaky_run(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    store = repo / "runs"
    runsite.set_store(store)
    runsite.set_experiment("taxi")
    git(repo, "remote", "add", "origin", "https://github.com/acme-hidden/taxi.git")
    (repo / "train.py").write_text("TOKEN = 's3cr3t-diff'\n")  # uncommitted: the diff
    monkeypatch.setattr(sys, "argv", COMMAND)
    monkeypatch.setenv("USER", "alice-hidden-user")
    monkeypatch.setenv("LOGNAME", "alice-hidden-user")
    monkeypatch.setattr(socket, "gethostname", lambda: "gpu-hidden-host")
    with runsite.start_run(run_name="leaky") as run:
        runsite.log_params({**SECRET_PARAMS, **PLAIN_PARAMS})
        runsite.set_tags(SECRET_TAGS)
        runsite.log_metric("rmse", 5.0)
    return store, run.info.run_id


def _site_bytes(out: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


def test_secrets_are_masked_everywhere_on_the_site(leaky_run: tuple[Path, str]) -> None:
    store, run_id = leaky_run
    # The store keeps the true values.
    rec = runsite.Store(store).run(run_id)
    assert rec.params["API_KEY"] == "s3cr3t-param-1" and rec.header["command"] == COMMAND
    assert "s3cr3t-diff" in (rec.artifacts_dir / "git-diff.patch").read_text()

    out = store.parent / "site"
    build(store, out)
    everything = _site_bytes(out)
    leaked = [s for s in SECRETS if s.encode() in everything]
    assert leaked == []
    assert not list(out.rglob("git-diff.patch"))
    for plain in [*PLAIN_PARAMS.values(), "plain-arg-1"]:
        assert plain.encode() in everything
    page = (out / "runs" / f"{run_id}.html").read_text()
    assert "--api-key=***" in page and "--db-password *** " in page
    assert "postgres://me:***@db.internal/taxi" in page
    # Shown by default, hidden on request (next test).
    for shown in ("alice-hidden-user", "gpu-hidden-host", "acme-hidden/taxi"):
        assert shown in page


def test_site_yaml_hides_command_user_host_packages_remote(
    leaky_run: tuple[Path, str],
) -> None:
    store, run_id = leaky_run
    (store / "site.yaml").write_text(
        "hide: [command, user, host, packages, git_remote]\npublish_diff: true\n"
    )
    out = store.parent / "site"
    assert not build(store, out).warnings
    everything = _site_bytes(out)
    for hidden in (b"alice-hidden-user", b"gpu-hidden-host", b"acme-hidden", b"plain-arg-1"):
        assert hidden not in everything
    page = (out / "runs" / f"{run_id}.html").read_text()
    assert "installed packages" not in page
    # publish_diff: the patch is published again (its content is the user's choice).
    (patch,) = out.rglob("git-diff.patch")
    assert "s3cr3t-diff" in patch.read_text()


def test_bad_hide_settings_are_clear_errors(store: Path) -> None:
    store.mkdir()
    (store / "site.yaml").write_text("hide: [command, passwords]\n")
    with pytest.raises(runsite.RunsiteError, match="hide must be a list of some of command"):
        build(store, store.parent / "site")
    (store / "site.yaml").write_text("publish_diff: yes please\n")
    with pytest.raises(runsite.RunsiteError, match="publish_diff must be true or false"):
        build(store, store.parent / "site")


SECRET_NAMES = [
    "API_KEY",
    "apiKey",
    "openai-api-key",
    "Password",
    "AWS_SECRET_ACCESS_KEY",
    "api_token",
    "db_password",
    "DB_PASS",
    "passwd",
    "token",
    "hf_token",
    "GITHUB_TOKEN",
    "access_token",
    "authToken",
    "Authorization",
    "client_secret",
    "private_key",
    "ssh-key",
    "credentials",
    "db.password",
    "sessionCookie",
    "dsn",
]
PLAIN_NAMES = [
    "max_tokens",
    "max_new_tokens",
    "num_tokens",
    "tokens_per_second",
    "pad_token_id",
    "eos_token_id",
    "token_count",
    "tokenizer",
    "n_keys",
    "key_metric",
    "sort_key",
    "primary_key",
    "key",
    "author",
    "n_passes",
    "monkey",
    "learning_rate",
    "signature",
    "session_id",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names(name: str) -> None:
    assert redact.secret_name(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_ordinary_ml_names_are_not_masked(name: str) -> None:
    assert not redact.secret_name(name)


def test_command_lines() -> None:
    assert redact.mask_command(COMMAND) == [
        "train.py",
        "--api-key=***",
        "--db-password",
        "***",
        "OPENAI_API_KEY=***",
        "db.password=***",
        "--data",
        "postgres://me:***@db.internal/taxi",
        "--lr",
        "plain-arg-1",
    ]
    # A flag without a value does not swallow the next option; a string command works.
    assert redact.mask_command(["x", "--password", "--verbose"]) == ["x", "--password", "--verbose"]
    assert redact.mask_command("python x.py --token abc --n 3") == "python x.py --token *** --n 3"
