"""Registry changes as commits: the manifest at a git revision, and a change committed
on a new branch (``--branch``) while the working tree stays as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runsite import gitio
from runsite.errors import InvalidInput
from runsite.registry.api import Change, Registry
from runsite.registry.manifest import Manifest


def manifest_at(reg: Registry, rev: str) -> str | None:
    """The manifest's text at ``rev`` (``None`` when it did not exist there)."""
    return gitio.show_file(
        reg.path.parent if reg.path.parent.exists() else Path.cwd(), rev, reg.path
    )


def apply_on_branch(
    reg: Registry,
    change: Callable[[Manifest], Change],
    branch: str,
    requires: list[Path],
    extra_files: dict[Path, bytes] | None = None,
) -> tuple[Change, str]:
    """Apply ``change`` to the manifest as committed at HEAD and commit the result on a
    new ``branch``. Refuses when the manifest has uncommitted changes, or when a folder in
    ``requires`` (the run a new version comes from) is not committed: the pull request
    must carry everything ``runsite models check`` needs. ``extra_files`` (path → bytes,
    e.g. the evaluation runs that are the change's evidence) go into the same commit."""
    start = reg.store.root
    if gitio.uncommitted(start, reg.path):
        raise InvalidInput(
            f"{reg.path} has uncommitted changes; commit or stash them before --branch"
        )
    for folder in requires:
        if not gitio.tracked_at_head(start, folder):
            raise InvalidInput(
                f"{folder} is not committed; commit the run first "
                f"(git add {folder} && git commit) so the pull request can be checked"
            )
    text = gitio.show_file(start, "HEAD", reg.path)
    manifest = Manifest(reg.path, text)
    done = reg.apply_change(change, manifest, save=False)
    sha = gitio.commit_on_new_branch(
        start,
        branch,
        {**(extra_files or {}), reg.path: manifest.text().encode("utf-8")},
        done.commit_message(),
    )
    return done, sha
