"""``runsite runs check --base REF``: the runs a pull request adds, changes or deletes,
checked against a list of rules.

Both sides are read from git objects: the base is the commit where the branch left
``REF`` (``git merge-base REF HEAD``), the change is ``HEAD``. Nothing is read from the
working tree, which the pull request controls, and nothing in it is executed: a run's
record files are copied out of git into a temporary folder and read by the ordinary
reader (type checks, size limits, identity = folder name).

A rule is a function ``rule(check: RunsCheck) -> Iterable[RunProblem]``; ``RULES`` is
the default list, and ``check_runs(..., rules=[*RULES, my_rule])`` adds one. Rules see
every changed run (``check.changes``) with its record at the base and at the head.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runsite import gitio, record
from runsite.errors import InvalidInput, StoreFormatError
from runsite.registry.report import md_code, md_text
from runsite.store import RunRecord, read_summary

# The files that make a run's record; artifacts are compared by hash, never read.
RECORD_FILES = (record.RUN_JSON, record.EVENTS, record.METRICS_JSONL, record.METRICS_PARQUET)
_REGULAR = ("100644", "100755")


def _runs_in_tree(files: dict[str, tuple[str, str]]) -> dict[str, dict[str, tuple[str, str]]]:
    """Group a store's files into run folders (``<experiment>/<run>`` → files relative to
    the run folder). A run folder is one holding ``run.json``, two levels down, as the
    reader sees it (experiment folders starting with ``.`` or ``_`` are not experiments)."""
    folders = set()
    for name in files:
        parts = name.split("/")
        if (
            len(parts) == 3
            and parts[2] == record.RUN_JSON
            and not parts[0].startswith((".", "_"))
            and not parts[1].startswith(".")
        ):
            folders.add(f"{parts[0]}/{parts[1]}")
    out: dict[str, dict[str, tuple[str, str]]] = {f: {} for f in folders}
    for name, entry in files.items():
        parts = name.split("/", 2)
        if len(parts) == 3 and f"{parts[0]}/{parts[1]}" in out:
            out[f"{parts[0]}/{parts[1]}"][parts[2]] = entry
    return out


class GitRuns:
    """The runs of a store as one commit recorded them, read from git objects.

    ``record(folder)`` gives the run as the ordinary reader sees it (a ``RunRecord`` whose
    ``path`` is a temporary copy of its record files), or raises ``StoreFormatError``."""

    def __init__(self, store_root: Path, commit: str) -> None:
        self.store_root = store_root
        self.commit = commit
        self.folders = _runs_in_tree(gitio.tree_files(store_root, commit, store_root))
        self._ids: dict[str, list[str]] = {}
        for folder in sorted(self.folders):
            self._ids.setdefault(folder.split("/")[1], []).append(folder)
        self._tmp: Path | None = None
        self._records: dict[str, RunRecord | StoreFormatError] = {}

    def __enter__(self) -> GitRuns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def folders_of(self, run_id: str) -> list[str]:
        """The run folders (``<experiment>/<run>``) named ``run_id`` in this commit."""
        return list(self._ids.get(run_id, []))

    def header(self, folder: str) -> object:
        """``run.json`` of ``folder`` as JSON (``None`` when it is not valid JSON)."""
        _mode, sha = self.folders[folder][record.RUN_JSON]
        data = gitio.read_blobs(self.store_root, [sha])[sha]
        if len(data) > record.MAX_HEADER_BYTES:
            return None
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            return None

    def record(self, folder: str) -> RunRecord:
        if folder not in self._records:
            self._records[folder] = self._read(folder)
        got = self._records[folder]
        if isinstance(got, StoreFormatError):
            raise got
        return got

    def _read(self, folder: str) -> RunRecord | StoreFormatError:
        files = self.folders[folder]
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="runsite-runs-"))
        dest = self._tmp / folder
        dest.mkdir(parents=True, exist_ok=True)
        wanted = {n: files[n][1] for n in RECORD_FILES if n in files and files[n][0] in _REGULAR}
        blobs = gitio.read_blobs(self.store_root, list(wanted.values()))
        for name, sha in wanted.items():
            (dest / name).write_bytes(blobs[sha])
        try:
            summary = read_summary(dest)
        except StoreFormatError as exc:
            # Name the run as the store does, not the temporary copy.
            return StoreFormatError(str(exc).replace(str(dest), f"{folder} at {self.commit[:8]}"))
        return RunRecord(dest, summary)

    def run(self, run_id: str) -> RunRecord | None:
        """The run ``run_id`` in this commit; ``None`` when it is not there. Raises
        ``StoreFormatError`` when it cannot be read or two folders claim the id."""
        folders = self.folders_of(run_id)
        if not folders:
            return None
        if len(folders) > 1:
            raise StoreFormatError(
                f"run id {run_id} is claimed by {len(folders)} folders at {self.commit[:8]} "
                f"({', '.join(folders)}); a run id must be unique in the store"
            )
        return self.record(folders[0])


@dataclass
class RunChange:
    """A run folder the branch adds, modifies or deletes."""

    folder: str  # "<experiment folder>/<run folder>"
    kind: str  # "added" | "modified" | "deleted"
    files: list[str]  # files that differ, relative to the run folder
    base: RunRecord | None = None  # the run at the base (None: added, or unreadable)
    head: RunRecord | None = None  # the run at the head (None: deleted, or unreadable)
    base_error: str | None = None
    head_error: str | None = None

    @property
    def run_id(self) -> str:
        return self.folder.split("/")[1]

    @property
    def experiment(self) -> str:
        return self.folder.split("/")[0]

    @property
    def closed_at_base(self) -> bool:
        return self.base is not None and self.base.status in record.END_STATUSES


@dataclass
class RunProblem:
    folder: str
    rule: str
    message: str

    def format(self) -> str:
        return f"{self.folder}: {self.message}"


@dataclass
class RunsCheck:
    """What every rule gets: the two commits and the changed runs."""

    store_root: Path
    base_ref: str
    base: GitRuns
    head: GitRuns
    changes: list[RunChange]


Rule = Callable[[RunsCheck], Iterable[RunProblem]]


def closed_runs_unchanged(check: RunsCheck) -> Iterator[RunProblem]:
    """A run that had ended at the base is immutable: not modified, not deleted (moving
    it to another experiment is a deletion too)."""
    for c in check.changes:
        if not c.closed_at_base or c.kind == "added":
            continue
        assert c.base is not None
        status = c.base.status
        if c.kind == "deleted":
            message = (
                f"run {c.run_id} ended ({status}) before the base and this change deletes it; "
                "closed runs are immutable (the evidence of registered models and of the site)"
            )
        else:
            changed = ", ".join(c.files[:5]) + (
                f" and {len(c.files) - 5} more" if len(c.files) > 5 else ""
            )
            message = (
                f"run {c.run_id} ended ({status}) before the base and this change modifies it "
                f"({changed}); closed runs are immutable: record new results as a new run"
            )
        yield RunProblem(c.folder, "closed-runs-unchanged", message)


def run_identity(check: RunsCheck) -> Iterator[RunProblem]:
    """A run's id is its folder name, unique in the store: an added or changed run whose
    ``run.json`` claims another id, or whose id another experiment's folder holds, is an
    impostor (the metric gate and the site would take it for the real run)."""
    for c in check.changes:
        if c.kind == "deleted":
            continue
        header = check.head.header(c.folder)
        claimed = header.get("run_id") if isinstance(header, dict) else None
        if claimed is not None and claimed != c.run_id:
            yield RunProblem(
                c.folder,
                "run-identity",
                f"run.json claims run id {claimed!r} but its folder is {c.run_id!r}; a run's id "
                "is its folder name (a copied or forged run folder?)",
            )
        others = [f for f in check.head.folders_of(c.run_id) if f != c.folder]
        if others:
            yield RunProblem(
                c.folder,
                "run-identity",
                f"run id {c.run_id} is also held by {', '.join(others)}; a run id must be unique "
                "in the store (either folder could be an impostor)",
            )


def readable_records(check: RunsCheck) -> Iterator[RunProblem]:
    """An added or changed run must be readable: ``run.json`` and ``events.jsonl`` of the
    types the writer gives them, within the size limits."""
    for c in check.changes:
        if c.kind != "deleted" and c.head_error and "claims run id" not in c.head_error:
            yield RunProblem(c.folder, "readable-records", c.head_error)


def team_policy(check: RunsCheck) -> Iterator[RunProblem]:
    """``runsite runs check``: every run the branch adds lives in an experiment named
    with a team's prefix and carries the required run tags. The policy is the manifest's
    at the base."""
    from runsite.errors import RunsiteError
    from runsite.registry.manifest import FILENAME, parse
    from runsite.registry.team import policy_of

    try:
        text = gitio.show_file(check.store_root, check.base.commit, check.store_root / FILENAME)
        doc = parse(text, f"{FILENAME} at the base") if text else None
    except RunsiteError:
        return  # an unreadable base manifest is models check's to report
    pol = policy_of(doc)
    if pol.empty:
        return
    for c in check.changes:
        if c.base is not None or c.head is None:
            continue  # only runs the branch adds
        why = pol.name_problem("experiment", c.head.experiment)
        if why:
            yield RunProblem(c.folder, "team-names", why)
        missing = pol.missing_tags("runs", c.head.tags)
        if missing:
            yield RunProblem(
                c.folder,
                "required-tags",
                f"run {c.run_id} lacks the required tag(s) {', '.join(missing)} "
                "(set them when logging: runsite.set_tag(KEY, VALUE))",
            )


RULES: list[Rule] = [closed_runs_unchanged, run_identity, readable_records, team_policy]


@dataclass
class RunsCheckResult:
    base_ref: str
    base_commit: str
    head_commit: str
    changes: list[RunChange] = field(default_factory=list)
    problems: list[RunProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _changes(base: GitRuns, head: GitRuns) -> list[RunChange]:
    out = []
    for folder in sorted(set(base.folders) | set(head.folders)):
        old, new = base.folders.get(folder), head.folders.get(folder)
        if old == new:
            continue
        if old is None:
            assert new is not None
            out.append(RunChange(folder, "added", sorted(new)))
        elif new is None:
            out.append(RunChange(folder, "deleted", sorted(old)))
        else:
            diff = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
            out.append(RunChange(folder, "modified", diff))
    for c in out:
        if c.kind != "added":
            try:
                c.base = base.record(c.folder)
            except StoreFormatError as exc:
                c.base_error = str(exc)
        if c.kind != "deleted":
            try:
                c.head = head.record(c.folder)
            except StoreFormatError as exc:
                c.head_error = str(exc)
    return out


def check_runs(
    store_root: Path, base_ref: str, head: str = "HEAD", rules: Iterable[Rule] | None = None
) -> RunsCheckResult:
    """Check the runs that ``head`` adds, modifies or deletes since it left ``base_ref``."""
    if not store_root.is_dir():
        raise InvalidInput(f"{store_root} is not a folder: no store to check (a mistyped --store?)")
    base_commit = gitio.merge_base(store_root, base_ref, head)
    head_commit = gitio.resolve_commit(store_root, head) or head
    result = RunsCheckResult(base_ref, base_commit, head_commit)
    with GitRuns(store_root, base_commit) as b, GitRuns(store_root, head_commit) as h:
        result.changes = _changes(b, h)
        check = RunsCheck(store_root, base_ref, b, h, result.changes)
        for rule in RULES if rules is None else rules:
            result.problems += list(rule(check))
        if head == "HEAD" and store_root.exists():
            pending = gitio.status_under(store_root, store_root)
            if pending:
                result.warnings.append(
                    f"{len(pending)} uncommitted change(s) under {store_root} are not checked "
                    "(the check reads commits, as a pull request carries them)"
                )
        result.report = runs_report(result)
    return result


def base_commit(store_root: Path, base_ref: str) -> str:
    """The commit ``base_ref`` names (an ``InvalidInput`` error naming it otherwise)."""
    sha = gitio.resolve_commit(store_root, base_ref)
    if sha is None:
        raise InvalidInput(f"unknown git revision {base_ref!r}")
    return sha


_MAX_ROWS = 200


def runs_report(result: RunsCheckResult) -> str:
    """The markdown report of ``runsite runs check``: the runs the change adds, modifies
    or deletes, and each rule's problems."""
    status = "✅ passed" if result.ok else f"❌ {len(result.problems)} problem(s)"
    counts = {k: sum(c.kind == k for c in result.changes) for k in ("added", "modified", "deleted")}
    lines = [
        f"## runsite runs check: {status}",
        "",
        f"Against {md_code(result.base_ref, table=False)} (commit `{result.base_commit[:8]}`): "
        + ", ".join(f"{n} run(s) {k}" for k, n in counts.items())
        + ".",
        "",
    ]
    if result.changes:
        lines += [
            "| run | name | experiment | change | at the base | files |",
            "|---|---|---|---|---|---|",
        ]
        for c in result.changes[:_MAX_ROWS]:
            rec = c.head or c.base
            at_base = "–" if c.kind == "added" else (c.base.status if c.base else "unreadable")
            if c.closed_at_base:
                at_base += " (closed)"
            files = ", ".join(c.files[:4]) + (f" +{len(c.files) - 4}" if len(c.files) > 4 else "")
            lines.append(
                f"| {md_code(c.run_id)} | {md_text(rec.run_name, 60) if rec else ''} | "
                f"{md_text(c.experiment, 60)} | {c.kind} | {at_base} | {md_text(files, 120)} |"
            )
        if len(result.changes) > _MAX_ROWS:
            lines.append(f"| … {len(result.changes) - _MAX_ROWS} more | | | | | |")
        lines.append("")
    if result.problems:
        lines += ["### Problems", ""]
        lines += [
            f"- {md_code(p.folder, table=False)} ({p.rule}): {md_text(p.message)}"
            for p in result.problems
        ]
        lines.append("")
    for w in result.warnings:
        lines += [f"> {md_text(w)}", ""]
    return "\n".join(lines).rstrip() + "\n"
