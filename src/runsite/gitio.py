"""Everything that touches GitPython. Imported only when a run starts (or, later, when
the registry reads history), never by ``import runsite``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import git


def _strip_credentials(url: str) -> str:
    """``https://user:token@host/x`` → ``https://host/x``: run headers get published."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]+@", r"\1", url)


def repo_info(start: Path, exclude: Path | None = None) -> dict[str, Any] | None:
    """Commit, branch, remote and dirty state of the repo containing ``start``.

    ``exclude`` (the store) is left out of the dirty check and the diff: the runs we
    are writing must not make every later run look dirty. ``None`` outside a repo.
    Raises ``git`` errors to the caller, which turns them into warnings.
    """
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
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
