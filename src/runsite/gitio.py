"""Everything that touches GitPython. Imported only when a run starts (or, later, when
the registry reads history), never by ``import runsite``."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import git

from runsite.errors import InvalidInput, RunsiteError


def _strip_credentials(url: str) -> str:
    """``https://user:token@host/x`` → ``https://host/x``: run headers get published."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]+@", r"\1", url)


def repo_info(start: Path, exclude: Path | None = None) -> dict[str, Any] | None:
    """Commit, branch, remote and dirty state of the repo containing ``start``.

    ``exclude`` (the store) is left out of the dirty check and the diff: the runs we
    are writing must not make every later run look dirty. ``None`` outside a repo.
    Raises ``git`` errors to the caller, which turns them into warnings.
    """
    repo = _open_repo(start)
    if repo is None:
        return None
    with repo:
        root = Path(repo.working_tree_dir or start).resolve()
        info: dict[str, Any] = {"root": str(root)}
        try:
            info["commit"] = repo.head.commit.hexsha
        except ValueError:  # a repository with no commits yet
            info["commit"] = None
        info["branch"] = None if repo.head.is_detached else repo.active_branch.name
        remote = next((r for r in repo.remotes if r.name == "origin"), None) or next(
            iter(repo.remotes), None
        )
        info["remote"] = _strip_credentials(next(remote.urls, "")) if remote else None
        pathspec = ["."]
        if exclude is not None:
            try:
                rel = exclude.resolve().relative_to(root).as_posix()
                if rel and rel != ".":
                    pathspec.append(f":(exclude){rel}")
            except ValueError:
                pass
        status = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--", *pathspec)
        files = _porcelain_paths(status)
        info["dirty"] = bool(files)
        info["dirty_files"] = files
        diff = ""
        if files and info["commit"]:
            diff = repo.git.diff("HEAD", "--", *pathspec)
        return {**info, "_diff": diff}


def _porcelain_paths(text: str) -> list[str]:
    """Paths from ``git status --porcelain -z`` (renames give two entries; keep the new)."""
    out: list[str] = []
    entries = text.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        out.append(f"{code.strip()} {path}")
        if code[0] in "RC":
            i += 1  # the source path of a rename/copy follows
    return out


# ---- registry history
# Primitives for ``runsite.registry.history``: which commits touched a file, the file's
# blobs, and the commit graph. The logic (what changed, who did it) lives in history.py.

_NULL_SHA = re.compile(r"^0+$")
_RAW_LINE = re.compile(r"^:\d+ \d+ ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ", re.MULTILINE)
# one record per commit: sha, parents, author name, email, author time, raw message;
# the --raw line of the file follows the last separator.
_LOG_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%B%x1f"
_LOG_OPTIONS = (
    "--raw",
    "--no-abbrev",
    "--no-renames",
    "--root",
    "--no-follow",
    "--no-color",
    "--no-show-signature",
    "--encoding=UTF-8",
    f"--format={_LOG_FORMAT}",
)


def _open_repo(start: Path) -> git.Repo | None:
    try:
        return git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def work_tree_root(start: Path) -> Path | None:
    """Root of the work tree of the repository containing ``start``; ``None`` outside
    one (or in a bare repository)."""
    repo = _open_repo(start)
    if repo is None:
        return None
    with repo:
        return Path(repo.working_tree_dir).resolve() if repo.working_tree_dir else None


def resolve_commit(start: Path, rev: str) -> str | None:
    """Full sha of the commit ``rev`` names; ``None`` when it names none (an unknown
    name, or ``HEAD`` of a repository without commits) or outside a repository."""
    repo = _open_repo(start)
    if repo is None:
        return None
    with repo:
        try:
            return str(
                repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
            )
        except git.GitCommandError:
            return None


def _blob(sha: str) -> str | None:
    return None if _NULL_SHA.match(sha) else sha


def path_log(
    start: Path,
    path: str,
    rev: str,
    *,
    first_parent: bool = False,
    no_merges: bool = False,
    exclude: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Commits reachable from ``rev`` (and not from any of ``exclude``) that changed the
    file ``path`` (relative to the work tree root, ``/``-separated), newest first.

    ``first_parent``: only the first-parent chain, a merge's change being its diff
    against its first parent. Otherwise every commit that changed the file against its
    parent (``--full-history``: side branches are not pruned); ``no_merges`` leaves out
    merges. Each commit is a dict: ``sha``, ``parents`` (list), ``author``, ``email``,
    ``time`` (author time, Unix seconds), ``message``, ``old_blob`` / ``new_blob`` (the
    file's blob before and after, ``None`` where it does not exist).
    """
    repo = _open_repo(start)
    if repo is None:
        return []
    args: list[str] = [*_LOG_OPTIONS]
    if first_parent:
        args += ["--first-parent", "-m"]
    else:
        args += ["--full-history", "--topo-order"]
    if no_merges:
        args.append("--no-merges")
    args += [rev, *(f"^{sha}" for sha in exclude), "--", f":(top,literal){path}"]
    with repo:
        text = repo.git.log(*args)
    out: list[dict[str, Any]] = []
    for record in text.split("\x1e")[1:]:
        fields = record.split("\x1f", 6)
        if len(fields) < 7:
            continue
        sha, parents, author, email, when, message, raw = fields
        match = _RAW_LINE.search(raw)
        if match is None:  # e.g. a merge that only touched the file on its other side
            continue
        out.append(
            {
                "sha": sha,
                "parents": parents.split(),
                "author": author,
                "email": email,
                "time": int(when) if when.strip().lstrip("-").isdigit() else 0,
                "message": message,
                "old_blob": _blob(match.group(1)),
                "new_blob": _blob(match.group(2)),
            }
        )
    return out


def commit_graph(start: Path, rev: str, exclude: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Parents of every commit reachable from ``rev`` and not from any of ``exclude``
    (parents cut off by a shallow clone are left out)."""
    repo = _open_repo(start)
    if repo is None:
        return {}
    with repo:
        text = repo.git.rev_list("--parents", rev, *(f"^{sha}" for sha in exclude), "--")
    graph: dict[str, list[str]] = {}
    for line in text.splitlines():
        shas = line.split()
        if shas:
            graph[shas[0]] = shas[1:]
    return graph


def shallow_commits(start: Path) -> set[str]:
    """Commits whose parents a shallow clone left out (empty for a full clone)."""
    repo = _open_repo(start)
    if repo is None:
        return set()
    with repo:
        try:
            text = (Path(repo.common_dir) / "shallow").read_text("utf-8")
        except OSError:
            return set()
    return {line.strip() for line in text.splitlines() if line.strip()}


def read_blobs(start: Path, shas: list[str]) -> dict[str, bytes]:
    """Contents of the blobs ``shas`` (one ``git cat-file --batch`` for all of them)."""
    if not shas:
        return {}
    repo = _open_repo(start)
    if repo is None:
        return {}
    out: dict[str, bytes] = {}
    with repo:
        for sha in dict.fromkeys(shas):
            out[sha] = repo.odb.stream(bytes.fromhex(sha)).read()
    return out


# ---- registry edits on a branch


def _open(start: Path) -> git.Repo:
    repo = _open_repo(start)
    if repo is None:
        raise RunsiteError(f"{start} is not inside a git repository")
    return repo


def _rel(repo: git.Repo, path: Path) -> str:
    root = Path(repo.working_tree_dir or ".").resolve()
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise RunsiteError(f"{path} is outside the git work tree {root}") from None


def show_file(start: Path, rev: str, path: Path) -> str | None:
    """The text of ``path`` at revision ``rev``; ``None`` when the file is not there."""
    with _open(start) as repo:
        try:
            commit = repo.commit(rev)
        except (git.BadName, ValueError):
            raise InvalidInput(f"unknown git revision {rev!r}") from None
        try:
            blob = commit.tree / _rel(repo, path)
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data.decode("utf-8")


def uncommitted(start: Path, path: Path) -> bool:
    """True when ``path`` differs from HEAD (staged or not) or is untracked."""
    with _open(start) as repo:
        return bool(repo.git.status("--porcelain", "--", _rel(repo, path)).strip())


def tracked_at_head(start: Path, path: Path) -> bool:
    with _open(start) as repo:
        return bool(repo.git.ls_tree("-r", "--name-only", "HEAD", "--", _rel(repo, path)).strip())


def commit_on_new_branch(start: Path, branch: str, files: dict[Path, bytes], message: str) -> str:
    """Commit ``files`` (path → new content) on a new branch made from HEAD, without
    touching the working tree, the index or HEAD.

    A temporary index built from HEAD's tree carries the change, so the user's checkout
    stays exactly as it was."""
    with _open(start) as repo:
        try:
            repo.git.check_ref_format("--branch", branch)
        except git.GitCommandError:
            raise InvalidInput(f"{branch!r} is not a valid branch name") from None
        if branch in [h.name for h in repo.heads]:
            raise InvalidInput(f"branch {branch!r} already exists; choose another name")
        try:
            head = repo.head.commit.hexsha
        except ValueError:
            raise RunsiteError(
                "the repository has no commits yet; commit something first"
            ) from None
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            repo.git.read_tree(head, env=env)
            for path, data in files.items():
                blob_file = Path(tmp) / "blob"
                blob_file.write_bytes(data)
                sha = repo.git.hash_object("-w", str(blob_file))
                repo.git.update_index(
                    "--add", "--cacheinfo", f"100644,{sha},{_rel(repo, path)}", env=env
                )
            tree = repo.git.write_tree(env=env)
            try:
                commit = repo.git.commit_tree(tree, "-p", head, "-m", message)
            except git.GitCommandError as exc:
                detail = (exc.stderr or "").strip().splitlines()
                raise RunsiteError(
                    "git could not commit: "
                    + (detail[-1] if detail else str(exc))
                    + " (set your identity: git config user.name / user.email)"
                ) from None
        repo.git.update_ref(f"refs/heads/{branch}", commit, "0" * 40)
        return str(commit)


# ---- pull-request checks
# Primitives for ``runsite runs check`` and ``models check --base``: the files of a
# folder in a commit, read from git objects (never from the working tree, which the pull
# request controls).


def merge_base(start: Path, rev: str, other: str = "HEAD") -> str:
    """The commit where ``other`` branched off ``rev`` (``rev`` itself when ``other``
    contains it, as a pull request's merge commit does)."""
    with _open(start) as repo:
        for name in (rev, other):
            try:
                repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
            except git.GitCommandError:
                raise InvalidInput(f"unknown git revision {name!r}") from None
        try:
            return str(repo.git.merge_base("--end-of-options", rev, other)).strip()
        except git.GitCommandError:
            raise InvalidInput(f"{rev!r} and {other!r} have no common history") from None


def tree_files(start: Path, rev: str, path: Path) -> dict[str, tuple[str, str]]:
    """Every file under the folder ``path`` in commit ``rev``: its path relative to
    ``path`` (``/``-separated) → (git mode, blob sha). Symlinks appear with mode
    ``120000``; submodules are left out. Empty when the folder is not in that commit."""
    with _open(start) as repo:
        rel = _rel(repo, path)
        try:
            commit = repo.git.rev_parse(
                "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
            )
        except git.GitCommandError:
            raise InvalidInput(f"unknown git revision {rev!r}") from None
        try:
            tree = repo.git.rev_parse(
                "--verify", "--quiet", f"{commit}:{rel}" if rel != "." else f"{commit}^{{tree}}"
            )
            text = repo.git.ls_tree("-r", "-z", tree)
        except git.GitCommandError:
            return {}  # the folder is not in that commit (or is a file there)
    out: dict[str, tuple[str, str]] = {}
    for entry in text.split("\0"):
        if not entry:
            continue
        meta, _, name = entry.partition("\t")
        mode, kind, sha = meta.split(" ")
        if kind == "blob":
            out[name] = (mode, sha)
    return out


def status_under(start: Path, path: Path) -> list[str]:
    """Uncommitted changes (``git status`` lines, untracked files included) under ``path``."""
    with _open(start) as repo:
        text = repo.git.status(
            "--porcelain=v1", "-z", "--untracked-files=all", "--", _rel(repo, path)
        )
    return _porcelain_paths(text)


def default_branch(start: Path) -> str | None:
    """The repository's default branch: what ``origin/HEAD`` points at, else the branch
    checked out, else ``init.defaultBranch``; ``None`` outside a repository (or when none
    of them says)."""
    repo = _open_repo(start)
    if repo is None:
        return None
    with repo:
        try:
            ref = repo.git.symbolic_ref("--quiet", "refs/remotes/origin/HEAD")
            return str(ref).removeprefix("refs/remotes/origin/") or None
        except git.GitCommandError:
            pass
        if not repo.head.is_detached:
            return repo.active_branch.name
        try:
            return str(repo.git.config("--get", "init.defaultBranch")) or None
        except git.GitCommandError:
            return None
