"""Stage history of the model registry, derived from the git history of ``registry.yaml``.

The manifest holds only the current state; every change to it is a commit, so the
audit log is the file's history on the first-parent chain of the mainline (``HEAD``):

- each mainline commit is compared with its first parent (the root commit with "no
  file"); a manifest that does not parse at some commit is skipped, and the next
  commit is compared with the last state that did parse;
- a merge commit's changes are credited to the commit on the merged branch whose own
  diff made the same change (its author, date, message), else to the branch's last
  commit that touched the manifest, else to the merge itself. The PR number comes from
  the merge's message (``Merge pull request #12 from ...``);
- a squash, rebased or direct commit is credited to itself; a squash commit's PR number
  comes from a ``(#12)`` at the end of its subject.

What a change is (:func:`diff`):

- ``registered``: a version that did not exist. ``from_stage`` is ``None`` and
  ``to_stage`` is the stage it was registered in (``"none"`` unless the entry says
  otherwise); no separate ``stage`` transition is reported for it;
- ``stage``: a version's stage changed (``from_stage`` → ``to_stage``);
- ``alias``: an alias was set (``from_version`` ``None``), moved, or removed
  (``to_version`` ``None``); ``version`` is the version it points to now (the one it
  pointed to, when removed);
- ``removed``: a version disappeared from the file (``from_stage`` is its last stage,
  ``to_stage`` ``None``). Deleting a whole model removes each version and each alias.

This module never imports ``git``: the git-facing primitives are in ``runsite.gitio``.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runsite.errors import InvalidInput
from runsite.registry.manifest import models_of
from runsite.registry.pieces import INVALID, ManifestParser

KINDS = ("registered", "stage", "alias", "removed")
_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclass
class Transition:
    """One change to the registry: a version registered, moved between stages or
    removed, or an alias set, moved or removed.

    ``commit`` is the commit that made the change (the branch commit for a merged pull
    request), ``merge_commit`` the mainline merge that brought it in (``None`` for a
    commit made on the mainline: direct, squashed or rebased). ``author``, ``email``,
    ``date`` (author date, ISO 8601 UTC), ``reason`` and ``subject`` are those of
    ``commit``.
    """

    model: str
    version: int
    kind: str
    from_stage: str | None = None
    to_stage: str | None = None
    alias: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    author: str = ""
    email: str = ""
    date: str = ""
    commit: str = ""
    merge_commit: str | None = None
    reason: str = ""
    pr: int | None = None
    subject: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> tuple[Any, ...]:
        """What the change was, regardless of who made it (matches a merge's change
        with the branch commit that made it)."""
        return (
            self.model,
            self.version,
            self.kind,
            self.to_stage,
            self.alias,
            self.to_version,
        )


def _sort_key(t: Transition) -> tuple[Any, ...]:
    return (t.model, t.version, _KIND_ORDER.get(t.kind, len(KINDS)), t.alias or "")


# ---------------------------------------------------------------------- diffing


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


_State = dict[str, tuple[dict[int, str], dict[str, int]]]


def _state(doc: Any) -> _State:
    """model → ({version: stage}, {alias: version}) of a parsed manifest."""
    out: _State = {}
    for name, model in models_of(doc).items():
        stages: dict[int, str] = {}
        for v in model.versions:
            stages.setdefault(v.version, v.stage)  # a duplicate entry: the first counts
        aliases: dict[str, int] = {}
        for alias, target in model.aliases.items():
            number = _as_int(target)
            if number is not None:
                aliases[alias] = number
        out[name] = (stages, aliases)
    return out


def diff(old_doc: Any, new_doc: Any) -> list[Transition]:
    """The changes between two parsed manifests (``None``: no file), ordered by model,
    version and kind (registered, stage, alias, removed), then alias name. Only the
    change fields are set; who made the change is left empty."""
    return _diff_states(_state(old_doc), _state(new_doc))


def _diff_states(old: _State, new: _State) -> list[Transition]:
    out: list[Transition] = []
    for name in sorted(set(old) | set(new)):
        old_stages, old_aliases = old.get(name, ({}, {}))
        new_stages, new_aliases = new.get(name, ({}, {}))
        for number, stage in new_stages.items():
            if number not in old_stages:
                out.append(Transition(name, number, "registered", to_stage=stage))
            elif old_stages[number] != stage:
                out.append(
                    Transition(name, number, "stage", from_stage=old_stages[number], to_stage=stage)
                )
        for number, stage in old_stages.items():
            if number not in new_stages:
                out.append(Transition(name, number, "removed", from_stage=stage))
        for alias in set(old_aliases) | set(new_aliases):
            before, after = old_aliases.get(alias), new_aliases.get(alias)
            if before == after:
                continue
            version = after if after is not None else before
            assert version is not None
            out.append(
                Transition(
                    name, version, "alias", alias=alias, from_version=before, to_version=after
                )
            )
    out.sort(key=_sort_key)
    return out


# ---------------------------------------------------------------------- messages

_MERGE_PR = re.compile(r"^Merge pull request #(\d+)\b", re.IGNORECASE)
_SQUASH_PR = re.compile(r"\((?:#|pull request #)(\d+)\)\s*$", re.IGNORECASE)
_REASON = re.compile(r"^[ \t]*reason[ \t]*:[ \t]*", re.IGNORECASE | re.MULTILINE)
_TRAILER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+:\s")


def _subject(message: str) -> str:
    return message.strip().split("\n", 1)[0].strip()


def pr_number(message: str) -> int | None:
    """The pull request a commit message names: ``Merge pull request #12 from ...``
    (GitHub merge), or a ``(#12)`` / ``(pull request #12)`` ending the subject (GitHub
    squash, Bitbucket merge). ``None`` otherwise."""
    subject = _subject(message)
    match = _MERGE_PR.match(subject) or _SQUASH_PR.search(subject)
    return int(match.group(1)) if match else None


def _drop_trailers(text: str) -> str:
    """Text without trailing ``Signed-off-by:`` / ``Co-authored-by:``-style paragraphs."""
    paragraphs = re.split(r"\n[ \t]*\n", text.strip())
    while paragraphs and all(
        _TRAILER.match(line.strip() + " ") for line in paragraphs[-1].strip().splitlines()
    ):
        paragraphs.pop()
    return "\n\n".join(paragraphs).strip()


def reason_of(message: str) -> str:
    """Why a change was made, from its commit message: the text after a ``Reason:``
    label (on its line or the lines after it), else the body (after the subject line),
    else the subject. Trailing trailer paragraphs (``Co-authored-by: ...``) are left out.
    """
    text = message.replace("\r\n", "\n").strip()
    match = _REASON.search(text)
    if match:
        after = text[match.end() :]
        if after.startswith("\n"):  # `Reason:` alone on its line, the text below it
            after = textwrap.dedent(after.lstrip("\n"))
        reason = _drop_trailers(after)
        if reason:
            return reason
        text = text[: match.start()].strip()  # an empty label: as if there were none
    subject, _, body = text.partition("\n")
    body = _drop_trailers(body)
    return body or subject.strip()


# ---------------------------------------------------------------------- git history


@dataclass
class _Commit:
    sha: str
    parents: list[str]
    author: str
    email: str
    time: int
    message: str
    old_blob: str | None
    new_blob: str | None
    changes: list[Transition] = field(default_factory=list)

    @classmethod
    def of(cls, entry: dict[str, Any]) -> _Commit:
        return cls(
            sha=entry["sha"],
            parents=list(entry["parents"]),
            author=entry["author"],
            email=entry["email"],
            time=entry["time"],
            message=entry["message"],
            old_blob=entry["old_blob"],
            new_blob=entry["new_blob"],
        )

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Docs:
    """Parsed manifests by blob id: each blob is read and parsed once."""

    def __init__(self, repo_dir: Path, gitio: Any) -> None:
        self.repo_dir = repo_dir
        self.gitio = gitio
        self.docs: dict[str | None, Any] = {None: None}
        self.parser = ManifestParser()
        self.states: dict[int, _State] = {}  # id of a parsed manifest (kept in docs)

    def diff(self, old: Any, new: Any) -> list[Transition]:
        """``diff(old, new)`` of two manifests of ``docs``, each summarized once."""
        return _diff_states(self.state(old), self.state(new))

    def state(self, doc: Any) -> _State:
        key = id(doc)
        if key not in self.states:
            self.states[key] = _state(doc)
        return self.states[key]

    def load(self, blobs: list[str | None]) -> None:
        wanted = [b for b in dict.fromkeys(blobs) if b is not None and b not in self.docs]
        for sha, data in self.gitio.read_blobs(self.repo_dir, wanted).items():
            self.docs[sha] = self.parser.load(data.decode("utf-8", errors="replace"))

    def get(self, blob: str | None) -> Any:
        return self.docs.get(blob, INVALID)


def _gitio() -> Any:
    from runsite import gitio  # GitPython is imported only when history is asked for

    return gitio


def history_available(repo_dir: Path) -> bool:
    """Whether ``repo_dir`` is in a git work tree with at least one commit."""
    gitio = _gitio()
    return (
        gitio.work_tree_root(Path(repo_dir)) is not None
        and gitio.resolve_commit(Path(repo_dir), "HEAD") is not None
    )


def _relative_path(root: Path, manifest_path: Path) -> str | None:
    path = Path(manifest_path)
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        rel = path.resolve().relative_to(root)
    except ValueError:
        return None
    text = rel.as_posix()
    return None if text in ("", ".") else text


def history(
    repo_dir: Path,
    manifest_path: Path,
    rev: str = "HEAD",
    model: str | None = None,
) -> list[Transition]:
    """Every change to the manifest on the first-parent chain of ``rev``, newest first
    (within one commit: by model, version, kind). ``model`` keeps one model's changes.

    An empty list outside a git repository, in one without commits, or when the
    manifest is outside the repository's work tree (see :func:`history_available`).
    A relative ``manifest_path`` is taken relative to the current directory. Raises
    ``InvalidInput`` when ``rev`` names no commit. In a shallow clone the oldest commit
    there is taken as the starting state: its content is not reported as changes.
    """
    gitio = _gitio()
    repo_dir = Path(repo_dir)
    root = gitio.work_tree_root(repo_dir)
    if root is None:
        return []
    head = gitio.resolve_commit(repo_dir, rev)
    if head is None:
        if rev == "HEAD":  # a repository without commits yet
            return []
        raise InvalidInput(f"{rev!r} names no commit of the repository at {root}")
    rel = _relative_path(root, manifest_path)
    if rel is None:
        return []

    mainline = [_Commit.of(e) for e in gitio.path_log(repo_dir, rel, head, first_parent=True)]
    if not mainline:
        return []
    mainline.reverse()  # oldest first
    shallow = gitio.shallow_commits(repo_dir)
    docs = _Docs(repo_dir, gitio)
    docs.load([c.new_blob for c in mainline])

    # the state before each mainline commit (the last one that parsed) and its changes
    before: dict[str, Any] = {}
    state: Any = None
    for c in mainline:
        before[c.sha] = state
        new = docs.get(c.new_blob)
        if new is INVALID:
            continue
        if not c.parents and c.sha in shallow:
            state = new  # a shallow clone's boundary: the starting state, not a change
            continue
        c.changes = docs.diff(state, new)
        state = new

    merges = [c for c in mainline if len(c.parents) >= 2 and c.changes]
    branch_of = _branch_commits(repo_dir, gitio, docs, mainline, merges, before, head, rel)

    out: list[Transition] = []
    for c in reversed(mainline):
        changes = [t for t in c.changes if model is None or t.model == model]
        if not changes:
            continue
        if len(c.parents) >= 2:
            pr = pr_number(c.message)
            branch = branch_of.get(c.sha, [])  # newest first
            for t in changes:
                source = next((b for b in branch if _made(b, t)), branch[0] if branch else c)
                out.append(_credit(t, source, merge_commit=c.sha, pr=pr))
        else:
            pr = pr_number(c.message)
            out.extend(_credit(t, c, merge_commit=None, pr=pr) for t in changes)
    return out


def _made(commit: _Commit, t: Transition) -> bool:
    key = t.key()
    return any(own.key() == key for own in commit.changes)


def _credit(t: Transition, c: _Commit, merge_commit: str | None, pr: int | None) -> Transition:
    return Transition(
        model=t.model,
        version=t.version,
        kind=t.kind,
        from_stage=t.from_stage,
        to_stage=t.to_stage,
        alias=t.alias,
        from_version=t.from_version,
        to_version=t.to_version,
        author=c.author,
        email=c.email,
        date=c.date,
        commit=c.sha,
        merge_commit=merge_commit,
        reason=reason_of(c.message),
        pr=pr,
        subject=_subject(c.message),
    )


def _branch_commits(
    repo_dir: Path,
    gitio: Any,
    docs: _Docs,
    mainline: list[_Commit],
    merges: list[_Commit],
    before: dict[str, Any],
    head: str,
    rel: str,
) -> dict[str, list[_Commit]]:
    """merge sha → the non-merge commits it brought in (reachable from its other
    parents, not from its first) that changed the manifest, newest first, each with its
    own changes. Two git calls for the whole history, not one per merge."""
    if not merges:
        return {}
    oldest = mainline[0]
    exclude = tuple(oldest.parents[:1])  # everything before the manifest's first commit
    graph = gitio.commit_graph(repo_dir, head, exclude)
    touched = [
        _Commit.of(e) for e in gitio.path_log(repo_dir, rel, head, no_merges=True, exclude=exclude)
    ]
    wanted = {m.sha for m in merges}

    # which mainline commit brought in each commit: walk the first-parent chain oldest
    # first; a merge brings in what its other parents reach that nothing before did
    chain: list[str] = []
    sha: str | None = head
    while sha is not None and sha in graph:
        chain.append(sha)
        parents = graph[sha]
        sha = parents[0] if parents else None
    on_chain = set(chain)
    brought_by: dict[str, str] = {}
    for merge in reversed(chain):
        stack = list(graph[merge][1:])
        while stack:
            node = stack.pop()
            if node in on_chain or node in brought_by or node not in graph:
                continue
            brought_by[node] = merge
            stack.extend(graph[node])

    out: dict[str, list[_Commit]] = {}
    for c in touched:  # newest first (topological)
        by = brought_by.get(c.sha)
        if by is not None and by in wanted:
            out.setdefault(by, []).append(c)
    docs.load([b for cs in out.values() for c in cs for b in (c.old_blob, c.new_blob)])
    for merge, commits in out.items():
        # the branch's last good state, starting from the mainline's before the merge
        last_good = before[merge]
        for c in reversed(commits):  # oldest first
            old, new = docs.get(c.old_blob), docs.get(c.new_blob)
            if old is INVALID:
                old = last_good
            if new is INVALID:
                continue
            c.changes = docs.diff(old, new)
            last_good = new
    return out


# ---------------------------------------------------------------------- recorded history

_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "version": (int,),
    "kind": (str,),
    "from_stage": (str, type(None)),
    "to_stage": (str, type(None)),
    "alias": (str, type(None)),
    "from_version": (int, type(None)),
    "to_version": (int, type(None)),
    "author": (str,),
    "email": (str,),
    "date": (str,),
    "commit": (str,),
    "merge_commit": (str, type(None)),
    "reason": (str,),
    "pr": (int, type(None)),
    "subject": (str,),
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def load_recorded(path: Path, manifest_doc: Any) -> list[Transition]:
    """A stage history recorded earlier by ``runsite models history --json`` (newest
    first), read from ``path`` for a build whose store is not in the git repository it
    was made in (the demo store: ``runsite build --registry-history FILE``).

    Raises ``InvalidInput`` naming the entry and field when the file is not that list,
    and when replaying it oldest first does not end in the stages and aliases of
    ``manifest_doc`` (the parsed ``registry.yaml`` the site shows): a history that
    contradicts the manifest is not shown as its history."""
    where = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"registry history {where}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"registry history {where} is not JSON: {exc}") from None
    if not isinstance(doc, list):
        raise InvalidInput(
            f"registry history {where}: expected the list `runsite models history --json` "
            f"prints, got {type(doc).__name__}"
        )
    out: list[Transition] = []
    for i, entry in enumerate(doc):
        at = f"registry history {where}, entry {i + 1}"
        if not isinstance(entry, dict):
            raise InvalidInput(f"{at}: expected an object, got {type(entry).__name__}")
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            raise InvalidInput(f"{at}: unknown field(s) {', '.join(unknown)}")
        for key in ("model", "version", "kind"):
            if key not in entry:
                raise InvalidInput(f"{at}: {key!r} is missing")
        for key, value in entry.items():
            types = _FIELDS[key]
            if isinstance(value, bool) or not isinstance(value, types):
                want = " or ".join("null" if t is type(None) else t.__name__ for t in types)
                raise InvalidInput(f"{at}: {key!r} must be {want}, got {value!r}")
        if entry["kind"] not in KINDS:
            raise InvalidInput(f"{at}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
        if entry.get("date") and not _DATE.match(entry["date"]):
            raise InvalidInput(f"{at}: date {entry['date']!r} is not YYYY-MM-DDTHH:MM:SSZ")
        out.append(Transition(**entry))
    _replay(out, _state(manifest_doc), where)
    return out


def _replay(transitions: list[Transition], current: _State, where: str) -> None:
    """Apply ``transitions`` (newest first, as recorded) oldest first from an empty
    registry; the result must be ``current``."""
    # one commit's changes are listed together, in diff order: replay commit by commit
    groups: list[list[Transition]] = []
    for t in transitions:
        if groups and (groups[-1][0].commit, groups[-1][0].merge_commit) == (
            t.commit,
            t.merge_commit,
        ):
            groups[-1].append(t)
        else:
            groups.append([t])
    state: _State = {}
    for group in reversed(groups):
        for t in group:
            stages, aliases = state.setdefault(t.model, ({}, {}))
            at = (
                f"registry history {where}: {t.model} v{t.version} {t.kind} ({t.date or 'no date'})"
            )
            if t.kind == "registered":
                if t.version in stages:
                    raise InvalidInput(f"{at}: the version is registered twice")
                stages[t.version] = t.to_stage or "none"
            elif t.kind in ("stage", "removed"):
                if stages.get(t.version) != t.from_stage:
                    raise InvalidInput(
                        f"{at}: says it was {t.from_stage}, the history before it says "
                        f"{stages.get(t.version, 'not registered')}"
                    )
                if t.kind == "stage":
                    stages[t.version] = t.to_stage or "none"
                else:
                    del stages[t.version]
            else:
                if t.alias is None:
                    raise InvalidInput(f"{at}: an alias change names no alias")
                if aliases.get(t.alias) != t.from_version:
                    raise InvalidInput(
                        f"{at}: says @{t.alias} pointed at {t.from_version}, the history "
                        f"before it says {aliases.get(t.alias)}"
                    )
                if t.to_version is None:
                    aliases.pop(t.alias, None)
                else:
                    aliases[t.alias] = t.to_version
    replayed = {name: v for name, v in state.items() if v != ({}, {})}
    now = {name: v for name, v in current.items() if v != ({}, {})}
    if replayed != now:
        diffs = _diff_states(replayed, now)
        shown = "; ".join(_describe(t) for t in diffs[:3])
        raise InvalidInput(
            f"registry history {where} does not end in registry.yaml's current stages "
            f"({len(diffs)} difference(s): {shown}): it is not this registry's history"
        )


def _describe(t: Transition) -> str:
    """A difference between the replayed history (old) and the manifest (new)."""
    if t.kind == "registered":
        return f"{t.model} v{t.version} is in registry.yaml, not in the history"
    if t.kind == "removed":
        return f"{t.model} v{t.version} is in the history, not in registry.yaml"
    if t.kind == "stage":
        return (
            f"{t.model} v{t.version} is {t.to_stage} in registry.yaml, "
            f"{t.from_stage} in the history"
        )
    return (
        f"{t.model} @{t.alias} is v{t.to_version} in registry.yaml, "
        f"v{t.from_version} in the history"
    )
