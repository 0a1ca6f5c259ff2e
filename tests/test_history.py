"""Registry stage history from the git history of ``registry.yaml`` (real repositories)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runsite.errors import InvalidInput
from runsite.registry.history import (
    Transition,
    diff,
    history,
    history_available,
    pr_number,
    reason_of,
)
from runsite.registry.manifest import parse

PEOPLE = {
    "alice": ("Alice Liddell", "alice@example.com"),
    "bob": ("Bob Stone", "bob@example.com"),
    "carol": ("Carol Danvers", "carol@example.com"),
}


def entry(version: int, stage: str | None = None, run: str | None = None) -> str:
    run = run or f"01jd{version:022d}"
    text = (
        f"      - version: {version}\n"
        f"        run: {run}\n"
        "        artifact: model\n"
        f"        hash: sha256:{str(version) * 64}\n"
    )
    return text + (f"        stage: {stage}\n" if stage else "")


def model(name: str, versions: dict[int, str | None], aliases: dict[str, int] | None = None) -> str:
    text = f"  {name}:\n    description: Predicts {name}.\n"
    if aliases:
        text += "    aliases:\n" + "".join(f"      {a}: {v}\n" for a, v in aliases.items())
    return text + "    versions:\n" + "".join(entry(v, s) for v, s in versions.items())


def manifest(*models: str) -> str:
    return "format: 1\nmodels:\n" + "".join(models) if models else "format: 1\nmodels: {}\n"


class Repo:
    """A real git repository; every commit is one minute after the previous one."""

    def __init__(self, path: Path, manifest_path: str = "registry.yaml") -> None:
        self.path = path
        self.manifest = path / manifest_path
        self.tick = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, who: str = "alice") -> str:
        name, email = PEOPLE[who]
        date = f"2026-01-01T10:{self.tick:02d}:00Z"
        env = {
            **os.environ,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        return subprocess.run(
            ["git", "-c", f"user.name={name}", "-c", f"user.email={email}", *args],
            cwd=self.path,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def commit(self, text: str | None, message: str, who: str = "alice") -> str:
        """Write the manifest (``None``: other file only) and commit; the full sha."""
        self.tick += 1
        if text is None:
            other = self.path / "train.py"
            other.write_text(f"print({self.tick})\n")
            self.git("add", "train.py")
        else:
            self.manifest.parent.mkdir(parents=True, exist_ok=True)
            self.manifest.write_text(text)
            self.git("add", str(self.manifest.relative_to(self.path)))
        self.git("commit", "-q", "--no-verify", "-m", message, who=who)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, message: str, who: str = "carol") -> str:
        self.tick += 1
        self.git("merge", "-q", "--no-ff", "--no-verify", "-m", message, branch, who=who)
        return self.git("rev-parse", "HEAD")

    def date(self, sha: str) -> str:
        return self.git("show", "-s", "--format=%ad", "--date=format-local:%Y-%m-%dT%H:%M:%SZ", sha)

    def history(self, **kwargs: Any) -> list[Transition]:
        return history(self.path, self.manifest, **kwargs)


def what(ts: list[Transition]) -> list[tuple[Any, ...]]:
    """The change of each transition, without who made it."""
    out: list[tuple[Any, ...]] = []
    for t in ts:
        if t.kind == "alias":
            out.append((t.model, t.version, "alias", t.alias, t.from_version, t.to_version))
        else:
            out.append((t.model, t.version, t.kind, t.from_stage, t.to_stage))
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


# ---------------------------------------------------------------------- message helpers


def test_pr_number() -> None:
    assert pr_number("Merge pull request #12 from alice/promote\n\nPromote v2") == 12
    assert pr_number("Promote taxi v2 (#13)") == 13
    assert pr_number("Promote taxi v2 (#13)\n\n* models: taxi v2 (#99)") == 13
    assert pr_number("Merged in feature (pull request #7)") == 7
    assert pr_number("Fix #12 in the docs") is None
    assert pr_number("Promote (#13) taxi") is None
    assert pr_number("models: taxi v2 staging → production") is None
    assert pr_number("") is None


def test_reason_of() -> None:
    msg = "models: taxi v2 staging → production\n\nReason: better rmse on March data\n"
    assert reason_of(msg) == "better rmse on March data"
    multi = "models: taxi v2\n\nSome context.\n\nReason:\n  rmse 3.1 → 2.8\n  on March data\n"
    assert reason_of(multi) == "rmse 3.1 → 2.8\non March data"
    assert reason_of("subject\n\nreason: lower case works") == "lower case works"
    assert reason_of("bump taxi to prod") == "bump taxi to prod"
    assert reason_of("bump taxi to prod\n\nAfter the review with Bob.\n") == (
        "After the review with Bob."
    )
    squash = (
        "Promote taxi v2 (#13)\n\n* models: taxi v2 staging → production\n\n"
        "Reason: squash reason\n\nCo-authored-by: Bob Stone <bob@example.com>\n"
    )
    assert reason_of(squash) == "squash reason"
    assert reason_of("subject\n\nSigned-off-by: A <a@x>\n") == "subject"
    assert reason_of("subject\n\nReason:\n") == "subject"


# ---------------------------------------------------------------------- diff


def test_diff_of_manifests() -> None:
    one = parse(manifest(model("taxi", {1: "staging", 2: None}, {"champion": 1})))
    two = parse(
        manifest(
            model("taxi", {1: "archived", 3: "production"}, {"champion": 3, "latest-ok": 1}),
            model("bikes", {1: None}),
        )
    )
    assert diff(None, None) == []
    assert diff(one, one) == []
    assert what(diff(one, two)) == [
        ("bikes", 1, "registered", None, "none"),
        ("taxi", 1, "stage", "staging", "archived"),
        ("taxi", 1, "alias", "latest-ok", None, 1),
        ("taxi", 2, "removed", "none", None),
        ("taxi", 3, "registered", None, "production"),
        ("taxi", 3, "alias", "champion", 1, 3),
    ]
    assert what(diff(two, None)) == [
        ("bikes", 1, "removed", "none", None),
        ("taxi", 1, "alias", "latest-ok", 1, None),
        ("taxi", 1, "removed", "archived", None),
        ("taxi", 3, "alias", "champion", 3, None),
        ("taxi", 3, "removed", "production", None),
    ]
    t = diff(None, one)[0]
    assert t.to_dict() == {
        "model": "taxi",
        "version": 1,
        "kind": "registered",
        "from_stage": None,
        "to_stage": "staging",
        "alias": None,
        "from_version": None,
        "to_version": None,
        "author": "",
        "email": "",
        "date": "",
        "commit": "",
        "merge_commit": None,
        "reason": "",
        "pr": None,
        "subject": "",
    }


# ---------------------------------------------------------------------- git history


def test_linear_history_registered_and_stages(repo: Repo) -> None:
    c1 = repo.commit(manifest(model("taxi", {1: None})), "models: register taxi v1")
    repo.commit(None, "train more")
    c2 = repo.commit(
        manifest(model("taxi", {1: "staging"})),
        "models: taxi v1 none → staging\n\nReason: looks good offline",
        who="bob",
    )
    c3 = repo.commit(
        manifest(model("taxi", {1: "production", 2: "staging"})),
        "models: taxi v1 staging → production, register v2\n\nReason: passed the A/B test",
        who="carol",
    )
    ts = repo.history()
    assert what(ts) == [
        ("taxi", 1, "stage", "staging", "production"),
        ("taxi", 2, "registered", None, "staging"),
        ("taxi", 1, "stage", "none", "staging"),
        ("taxi", 1, "registered", None, "none"),
    ]
    assert [t.commit for t in ts] == [c3, c3, c2, c1]
    assert ts[0].to_dict() == {
        "model": "taxi",
        "version": 1,
        "kind": "stage",
        "from_stage": "staging",
        "to_stage": "production",
        "alias": None,
        "from_version": None,
        "to_version": None,
        "author": "Carol Danvers",
        "email": "carol@example.com",
        "date": "2026-01-01T10:04:00Z",
        "commit": c3,
        "merge_commit": None,
        "reason": "passed the A/B test",
        "pr": None,
        "subject": "models: taxi v1 staging → production, register v2",
    }
    assert (ts[2].author, ts[2].email, ts[2].date, ts[2].reason) == (
        "Bob Stone",
        "bob@example.com",
        "2026-01-01T10:03:00Z",
        "looks good offline",
    )
    assert ts[2].date == repo.date(c2)
    assert (ts[3].author, ts[3].reason, ts[3].subject) == (
        "Alice Liddell",
        "models: register taxi v1",
        "models: register taxi v1",
    )
    # an earlier revision sees only what had happened by then
    assert [t.commit for t in repo.history(rev=c2)] == [c2, c1]
    assert [t.commit for t in repo.history(rev="HEAD~1")] == [c2, c1]


def test_alias_set_moved_removed(repo: Repo) -> None:
    c1 = repo.commit(manifest(model("taxi", {1: None, 2: None})), "register")
    c2 = repo.commit(manifest(model("taxi", {1: None, 2: None}, {"champion": 1})), "set champion")
    c3 = repo.commit(
        manifest(model("taxi", {1: None, 2: None}, {"champion": 2})),
        "move champion\n\nReason: v2 wins",
        who="bob",
    )
    c4 = repo.commit(manifest(model("taxi", {1: None, 2: None})), "drop champion", who="carol")
    aliases = [t for t in repo.history() if t.kind == "alias"]
    assert [(t.version, t.alias, t.from_version, t.to_version, t.commit) for t in aliases] == [
        (2, "champion", 2, None, c4),
        (2, "champion", 1, 2, c3),
        (1, "champion", None, 1, c2),
    ]
    assert [(t.author, t.reason) for t in aliases] == [
        ("Carol Danvers", "drop champion"),
        ("Bob Stone", "v2 wins"),
        ("Alice Liddell", "set champion"),
    ]
    assert all(t.from_stage is None and t.to_stage is None for t in aliases)
    assert [t.commit for t in repo.history() if t.kind == "registered"] == [c1, c1]


def test_merged_pull_request_credits_the_branch_commit(repo: Repo) -> None:
    base = manifest(model("taxi", {1: "production", 2: "staging"}))
    c1 = repo.commit(base, "models: register taxi v1, v2")
    repo.git("checkout", "-q", "-b", "alice/promote")
    repo.commit(None, "retrain", who="alice")
    b1 = repo.commit(
        manifest(model("taxi", {1: "archived", 2: "production"})),
        "models: taxi v2 staging → production\n\nReason: better rmse on March data",
        who="alice",
    )
    b2 = repo.commit(
        manifest(model("taxi", {1: "archived", 2: "production"}, {"champion": 2})),
        "models: taxi champion → v2",
        who="bob",
    )
    repo.git("checkout", "-q", "main")
    # the mainline moves on meanwhile (another model): credited to itself, not the merge
    m1 = repo.commit(
        manifest(model("bikes", {1: None}), model("taxi", {1: "production", 2: "staging"})),
        "models: register bikes v1",
        who="carol",
    )
    merge = repo.merge(
        "alice/promote",
        "Merge pull request #12 from alice/promote\n\nPromote taxi v2",
        who="carol",
    )
    ts = repo.history()
    assert what(ts) == [
        ("taxi", 1, "stage", "production", "archived"),
        ("taxi", 2, "stage", "staging", "production"),
        ("taxi", 2, "alias", "champion", None, 2),
        ("bikes", 1, "registered", None, "none"),
        ("taxi", 1, "registered", None, "production"),
        ("taxi", 2, "registered", None, "staging"),
    ]
    promote = ts[1]
    assert promote.to_dict() == {
        "model": "taxi",
        "version": 2,
        "kind": "stage",
        "from_stage": "staging",
        "to_stage": "production",
        "alias": None,
        "from_version": None,
        "to_version": None,
        "author": "Alice Liddell",
        "email": "alice@example.com",
        "date": "2026-01-01T10:03:00Z",
        "commit": b1,
        "merge_commit": merge,
        "reason": "better rmse on March data",
        "pr": 12,
        "subject": "models: taxi v2 staging → production",
    }
    assert (ts[0].commit, ts[0].author, ts[0].merge_commit, ts[0].pr) == (
        b1,
        "Alice Liddell",
        merge,
        12,
    )
    assert (ts[2].commit, ts[2].author, ts[2].reason, ts[2].merge_commit, ts[2].pr) == (
        b2,
        "Bob Stone",
        "models: taxi champion → v2",
        merge,
        12,
    )
    assert (ts[3].commit, ts[3].merge_commit, ts[3].pr, ts[3].author) == (
        m1,
        None,
        None,
        "Carol Danvers",
    )
    assert {t.commit for t in ts[4:]} == {c1}


def test_merge_without_exact_match_or_branch_commits(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: None})), "register v1")
    repo.git("checkout", "-q", "-b", "bob/v3")
    repo.commit(manifest(model("taxi", {1: None, 2: None})), "register v2", who="bob")
    b2 = repo.commit(
        manifest(model("taxi", {1: None, 2: "staging"})),
        "models: taxi v2 none → staging\n\nReason: ready for shadow traffic",
        who="alice",
    )
    repo.commit(None, "unrelated tweak", who="carol")
    repo.git("checkout", "-q", "main")
    merge = repo.merge("bob/v3", "Merge pull request #21 from bob/v3", who="carol")
    # registered straight into staging: no branch commit made exactly that change, so
    # the last branch commit that touched the manifest is credited
    ts = repo.history(rev=merge)
    assert what(ts) == [
        ("taxi", 2, "registered", None, "staging"),
        ("taxi", 1, "registered", None, "none"),
    ]
    t = ts[0]
    assert (t.commit, t.author, t.reason, t.merge_commit, t.pr) == (
        b2,
        "Alice Liddell",
        "ready for shadow traffic",
        merge,
        21,
    )

    # a merge whose change was made by the merge itself (the branch did not touch the
    # manifest; e.g. a conflict resolution): credited to the merge
    repo.git("checkout", "-q", "-b", "carol/other")
    repo.commit(None, "other work", who="carol")
    repo.git("checkout", "-q", "main")
    repo.tick += 1
    repo.git("merge", "-q", "--no-ff", "--no-commit", "carol/other", who="carol")
    repo.manifest.write_text(manifest(model("taxi", {1: "archived", 2: "staging"})))
    repo.git("add", "registry.yaml")
    repo.git(
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "Merge pull request #22 from carol/other\n\nArchive v1",
        who="bob",
    )
    own = repo.git("rev-parse", "HEAD")
    [t] = repo.history(rev=own)[:1]
    assert what([t]) == [("taxi", 1, "stage", "none", "archived")]
    assert (t.commit, t.merge_commit, t.author, t.reason, t.pr, t.subject) == (
        own,
        own,
        "Bob Stone",
        "Archive v1",
        22,
        "Merge pull request #22 from carol/other",
    )


def test_squash_commit(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: "production", 2: "staging"})), "register")
    sq = repo.commit(
        manifest(model("taxi", {1: "archived", 2: "production"})),
        "Promote taxi v2 (#13)\n\n* models: taxi v2 staging → production\n\n"
        "Reason: squash reason\n\nCo-authored-by: Bob Stone <bob@example.com>",
        who="alice",
    )
    ts = repo.history()[:2]
    assert what(ts) == [
        ("taxi", 1, "stage", "production", "archived"),
        ("taxi", 2, "stage", "staging", "production"),
    ]
    for t in ts:
        assert (t.commit, t.merge_commit, t.pr, t.author, t.reason, t.subject) == (
            sq,
            None,
            13,
            "Alice Liddell",
            "squash reason",
            "Promote taxi v2 (#13)",
        )


def test_rebased_branch(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: None})), "register v1")
    repo.git("checkout", "-q", "-b", "bob/stages")
    repo.commit(
        manifest(model("taxi", {1: "staging"})), "taxi v1 → staging\n\nReason: one", who="bob"
    )
    repo.commit(
        manifest(model("taxi", {1: "production"})),
        "taxi v1 → production\n\nReason: two",
        who="alice",
    )
    repo.git("checkout", "-q", "main")
    repo.commit(None, "main moves on", who="carol")
    repo.git("checkout", "-q", "bob/stages")
    repo.git("rebase", "-q", "main", who="carol")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "bob/stages")
    head, prev = repo.git("rev-parse", "HEAD"), repo.git("rev-parse", "HEAD~1")
    ts = repo.history()[:2]
    assert [(t.to_stage, t.commit, t.author, t.reason, t.merge_commit, t.pr) for t in ts] == [
        ("production", head, "Alice Liddell", "two", None, None),
        ("staging", prev, "Bob Stone", "one", None, None),
    ]
    # the author date survives the rebase
    assert [t.date for t in ts] == ["2026-01-01T10:03:00Z", "2026-01-01T10:02:00Z"]


def test_hand_edit_with_plain_message(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: "staging"})), "register")
    text = manifest(model("taxi", {1: "staging"})).replace("stage: staging", "stage: Production")
    c = repo.commit("# edited by hand\n" + text, "bump taxi to prod", who="bob")
    [t] = repo.history()[:1]
    assert (t.kind, t.from_stage, t.to_stage, t.commit) == ("stage", "staging", "production", c)
    assert (t.reason, t.subject, t.author, t.pr) == (
        "bump taxi to prod",
        "bump taxi to prod",
        "Bob Stone",
        None,
    )


def test_invalid_manifest_is_skipped_until_fixed(repo: Repo) -> None:
    c1 = repo.commit(manifest(model("taxi", {1: None})), "register")
    bad = repo.commit(
        manifest(model("taxi", {1: "staging"})) + "  oops: [unclosed\n", "hand edit", who="bob"
    )
    also_bad = repo.commit("- just\n- a list\n", "worse", who="bob")
    fix = repo.commit(manifest(model("taxi", {1: "staging"})), "fix the manifest", who="carol")
    ts = repo.history()
    assert what(ts) == [
        ("taxi", 1, "stage", "none", "staging"),
        ("taxi", 1, "registered", None, "none"),
    ]
    assert [(t.commit, t.author) for t in ts] == [(fix, "Carol Danvers"), (c1, "Alice Liddell")]
    assert repo.history(rev=bad) == repo.history(rev=also_bad)
    assert [t.commit for t in repo.history(rev=also_bad)] == [c1]


def test_invalid_manifest_on_a_merged_branch(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: None})), "register")
    repo.git("checkout", "-q", "-b", "alice/fix")
    repo.commit("models: [oops\n", "broken", who="bob")
    b2 = repo.commit(manifest(model("taxi", {1: "staging"})), "stage it", who="alice")
    repo.git("checkout", "-q", "main")
    merge = repo.merge("alice/fix", "Merge pull request #5 from alice/fix")
    [t] = repo.history()[:1]
    assert (t.kind, t.to_stage, t.commit, t.merge_commit, t.pr, t.author) == (
        "stage",
        "staging",
        b2,
        merge,
        5,
        "Alice Liddell",
    )


def test_manifest_in_subfolder_and_removal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Repo(tmp_path / "project", "runs/registry.yaml")
    repo.commit(None, "initial")
    c1 = repo.commit(manifest(model("taxi", {1: None, 2: None})), "register")
    c2 = repo.commit(manifest(model("taxi", {2: None})), "drop v1", who="bob")
    expected = [("taxi", 1, "removed", "none", None)]
    assert what(repo.history()[:1]) == expected
    assert [t.commit for t in repo.history()] == [c2, c1, c1]
    # from a subfolder, with a relative path
    monkeypatch.chdir(repo.path / "runs")
    ts = history(Path("."), Path("registry.yaml"))
    assert what(ts[:1]) == expected
    assert ts == repo.history()
    # deleting the file removes everything
    repo.git("rm", "-q", "runs/registry.yaml")
    repo.tick += 1
    repo.git("commit", "-q", "-m", "no registry", who="carol")
    assert what(repo.history()[:1]) == [("taxi", 2, "removed", "none", None)]
    # a path outside the repository, or one never committed: no history
    assert history(repo.path, tmp_path / "elsewhere.yaml") == []
    assert history(repo.path, repo.path / "other.yaml") == []


def test_filter_by_model(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: None})), "taxi")
    c2 = repo.commit(manifest(model("taxi", {1: None}), model("bikes", {1: None})), "bikes")
    c3 = repo.commit(
        manifest(model("taxi", {1: "staging"}), model("bikes", {1: "staging"})), "both"
    )
    assert [(t.model, t.commit) for t in repo.history(model="bikes")] == [
        ("bikes", c3),
        ("bikes", c2),
    ]
    assert {t.model for t in repo.history(model="taxi")} == {"taxi"}
    assert repo.history(model="nope") == []


def test_no_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "registry.yaml").write_text(manifest(model("taxi", {1: None})))
    assert history_available(plain) is False
    assert history(plain, plain / "registry.yaml") == []
    assert history(tmp_path / "missing", tmp_path / "missing" / "registry.yaml") == []
    empty = Repo(tmp_path / "empty")  # a repository without commits
    assert history_available(empty.path) is False
    assert empty.history() == []


def test_unknown_revision(repo: Repo) -> None:
    repo.commit(manifest(model("taxi", {1: None})), "register")
    assert history_available(repo.path) is True
    with pytest.raises(InvalidInput, match="nosuchbranch"):
        repo.history(rev="nosuchbranch")


def test_shallow_clone(repo: Repo, tmp_path: Path) -> None:
    repo.commit(manifest(model("taxi", {1: None})), "register")
    repo.commit(manifest(model("taxi", {1: "staging"})), "stage")
    last = repo.commit(manifest(model("taxi", {1: "production"})), "promote", who="bob")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    ts = history(clone, clone / "registry.yaml")
    # the oldest commit there is the starting state, not a registration
    assert what(ts) == [("taxi", 1, "stage", "staging", "production")]
    assert (ts[0].commit, ts[0].author) == (last, "Bob Stone")


def test_long_history_is_fast(tmp_path: Path) -> None:
    """200 mainline commits (half of them merged pull requests) read in well under 2 s."""
    path = tmp_path / "big"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    lines: list[str] = []
    mark = 0
    when = 1_767_261_600

    def commit(ref: str, text: str, message: str, parents: list[str]) -> str:
        nonlocal mark, when
        mark += 1
        when += 60
        data = text.encode()
        msg = message.encode()
        lines.append(f"commit {ref}\nmark :{mark}\n")
        lines.append(f"author Alice <alice@example.com> {when} +0000\n")
        lines.append(f"committer Alice <alice@example.com> {when} +0000\n")
        lines.append(f"data {len(msg)}\n{message}\n")
        if parents:
            lines.append(f"from {parents[0]}\n")
        lines.extend(f"merge {p}\n" for p in parents[1:])
        lines.append(f"M 100644 inline registry.yaml\ndata {len(data)}\n{text}\n")
        return f":{mark}"

    versions: dict[int, str | None] = {}
    head = ""
    for i in range(1, 101):
        versions[i] = None
        head = commit(
            "refs/heads/main", manifest(model("taxi", versions)), f"v{i}", [head] if head else []
        )
        versions[i] = "staging"
        side = commit(
            f"refs/heads/pr{i}",
            manifest(model("taxi", versions)),
            f"taxi v{i} → staging\n\nReason: pr {i}",
            [head],
        )
        head = commit(
            "refs/heads/main",
            manifest(model("taxi", versions)),
            f"Merge pull request #{i} from alice/pr{i}",
            [head, side],
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=path,
        input="".join(lines).encode(),
        check=True,
    )
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)
    ts = history(path, path / "registry.yaml")
    assert len(ts) == 200
    assert (ts[0].kind, ts[0].version, ts[0].pr, ts[0].reason) == ("stage", 100, 100, "pr 100")
    assert ts[0].merge_commit is not None and ts[0].commit != ts[0].merge_commit
    assert (ts[-1].kind, ts[-1].version, ts[-1].pr) == ("registered", 1, None)


# ---------------------------------------------------------------------- recorded history


def test_recorded_history_round_trips_and_must_end_in_the_manifest(
    repo: Repo, tmp_path: Path
) -> None:
    """What `models history --json` saved is read back as the same transitions; a file
    whose replay contradicts the manifest, or that is not such a list, is refused with
    the entry and field named."""
    import json

    from runsite.registry.history import load_recorded

    repo.commit(manifest(model("taxi", {1: None})), "register")
    repo.commit(manifest(model("taxi", {1: "staging"})), "stage\n\nReason: looks good")
    final = manifest(model("taxi", {1: "production", 2: None}, {"champion": 1}))
    repo.commit(final, "promote v1, register v2\n\nReason: beat the baseline", who="bob")
    recorded = repo.history()
    path = tmp_path / "history.json"
    path.write_text(json.dumps([t.to_dict() for t in recorded]))
    assert load_recorded(path, parse(final)) == recorded

    # the history of another registry state: refused, naming the difference
    other = manifest(model("taxi", {1: "archived", 2: None}, {"champion": 1}))
    with pytest.raises(InvalidInput, match=r"does not end in registry.yaml's current stages"):
        load_recorded(path, parse(other))
    with pytest.raises(InvalidInput, match=r"taxi v1 is archived in registry.yaml, production"):
        load_recorded(path, parse(other))

    def refused(doc: Any, message: str) -> None:
        path.write_text(json.dumps(doc))
        with pytest.raises(InvalidInput, match=message):
            load_recorded(path, parse(final))

    entries = [t.to_dict() for t in recorded]
    refused({"transitions": entries}, "expected the list `runsite models history --json`")
    refused([*entries[:1], {**entries[1], "version": "2"}], r"entry 2: 'version' must be int")
    refused([{**entries[0], "actor": "x"}, *entries[1:]], r"entry 1: unknown field\(s\) actor")
    refused([{**entries[0], "kind": "moved"}, *entries[1:]], r"kind 'moved' is not one of")
    refused([{**entries[0], "date": "yesterday"}, *entries[1:]], r"date 'yesterday' is not")
    # a stage change whose "from" disagrees with what came before it
    staged = next(i for i, t in enumerate(recorded) if t.to_stage == "staging")
    bad = [dict(e) for e in entries]
    bad[staged]["from_stage"] = "production"
    refused(bad, r"taxi v1 stage .*says it was production, the history before it says none")
    path.write_text("[1,")
    with pytest.raises(InvalidInput, match="is not JSON"):
        load_recorded(path, parse(final))
    with pytest.raises(InvalidInput, match="no such file"):
        load_recorded(tmp_path / "missing.json", parse(final))
