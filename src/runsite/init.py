"""``runsite init``: the files a repository needs to keep a store and publish it.

Writes ``<store>/registry.yaml`` (the commented manifest template), ``<store>/site.yaml``
(publishing controls), ``.gitattributes``, ``.gitignore`` and, with ``github=True``, two
GitHub Actions workflows: publish the site to Pages on push to the default branch, and
gate registry pull requests with ``runsite models check``. The workflows install runsite
from the spec ``install_spec()`` finds (runsite is not on a public index). Re-running it
never overwrites a file that differs from what it would write; ``.gitignore`` only gets
its missing lines appended. See docs/ci.md.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path, PurePosixPath

from runsite.errors import InvalidInput
from runsite.registry import manifest
from runsite.version import __version__

CREATED = "created"
UNCHANGED = "unchanged"
KEPT = "kept (yours differs)"
KEPT_DATA = "kept (your registry)"  # registry.yaml is data once models are registered
APPENDED = "added missing lines"

# What a project using runsite keeps out of git: the built site and Python's caches.
GITIGNORE = ".gitignore"

PUBLISH_WORKFLOW = ".github/workflows/runsite-publish.yml"
CHECK_WORKFLOW = ".github/workflows/runsite-registry-check.yml"
SITE_OUT = "site"  # the workflow's --out folder

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_store_name(store: object) -> str:
    """A store folder relative to the project: ``runs`` or ``ml/runs`` (letters, digits,
    '.', '_', '-'; each part starting with a letter or digit)."""
    text = str(store) if isinstance(store, str | os.PathLike) else None
    parts = text.split("/") if text else []
    if not parts or not all(_SEGMENT.match(p) and not p.endswith(".") for p in parts):
        raise InvalidInput(
            f"store {store!r} is not a safe relative folder name: use letters, digits, '.', '_' "
            "or '-' (parts separated by '/', each starting with a letter or digit)"
        )
    return text  # type: ignore[return-value]


def codeowners_line(store: str = "runs") -> str:
    """The CODEOWNERS entry that makes registry changes need a reviewer's approval."""
    return f"/{check_store_name(store)}/registry.yaml @your-org/ml-reviewers"


# Where runsite's source lives, for the install spec when nothing better is known.
PLACEHOLDER_REPO = "https://github.com/OWNER/runsite"


def install_spec() -> tuple[str, bool]:
    """The pip requirement CI should install this runsite with, and whether it is known
    to work. runsite is not on a public index, so it is a git URL pinned at a commit:
    the one pip recorded when runsite was installed from git, else the checkout this
    runsite runs from (when its remote is a URL CI can reach). Otherwise a placeholder
    to edit (``False``)."""
    import json
    from importlib import metadata

    try:
        direct = metadata.distribution("runsite").read_text("direct_url.json")
        info = json.loads(direct or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        info = {}
    vcs = info.get("vcs_info") if isinstance(info, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return f"runsite @ git+{info['url']}@{vcs['commit_id']}", True
    try:
        from runsite import gitio

        here = gitio.repo_info(Path(__file__).resolve().parent)
    except Exception:  # no git, a broken checkout: fall back to the placeholder
        here = None
    remote = (here or {}).get("remote") or ""
    if here and here.get("commit") and re.match(r"^(https://|ssh://|git@)", remote):
        if remote.startswith("git@"):  # git@host:owner/repo → ssh://git@host/owner/repo
            remote = "ssh://" + remote.replace(":", "/", 1)
        return f"runsite @ git+{remote}@{here['commit']}", True
    return f"runsite @ git+{PLACEHOLDER_REPO}@v{__version__}", False


def _template(name: str, store: str, spec: str = "", branch: str = "main") -> str:
    text = (resources.files("runsite") / "templates" / name).read_text("utf-8")
    return (
        text.replace("@STORE@", store)
        .replace("@VERSION@", __version__)
        .replace("@PIPSPEC@", spec)
        .replace("@BRANCH@", branch)
    )


def planned_files(
    store: str = "runs",
    github: bool = False,
    *,
    spec: str | None = None,
    branch: str = "main",
) -> list[tuple[str, str]]:
    """``(relative path, content)`` of every file ``init`` writes; the workflows install
    ``spec`` (default: ``install_spec()``) and publish from ``branch``."""
    store = check_store_name(store)
    if github and PurePosixPath(store).parts[0] == SITE_OUT:
        raise InvalidInput(
            f"store {store!r}: the publish workflow builds into {SITE_OUT}/, which cannot be "
            "the store or inside it; choose another store name"
        )
    files = [
        (f"{store}/{manifest.FILENAME}", manifest.TEMPLATE),
        (f"{store}/site.yaml", _template("site.yaml", store)),
        (".gitattributes", _template("gitattributes", store)),
        (GITIGNORE, _template("gitignore", store)),
    ]
    if github:
        if spec is None:
            spec = install_spec()[0]
        if not spec.strip() or "\n" in spec or '"' in spec:
            raise InvalidInput(f"install spec {spec!r}: one pip requirement, without quotes")
        files += [
            (PUBLISH_WORKFLOW, _template("runsite-publish.yml", store, spec, branch)),
            (CHECK_WORKFLOW, _template("runsite-registry-check.yml", store, spec, branch)),
        ]
    return files


def _same(path: Path, content: str) -> bool:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return text.replace("\r\n", "\n") == content  # a CRLF checkout is still ours


def init_project(
    path: str | os.PathLike[str] = ".",
    store: str = "runs",
    github: bool = False,
    *,
    spec: str | None = None,
    branch: str | None = None,
) -> list[tuple[Path, str]]:
    """Write the project files under ``path``; ``(path, action)`` for each, action being
    ``"created"``, ``"unchanged"``, ``"kept (yours differs)"``, ``"kept (your registry)"``
    or (``.gitignore``) ``"added missing lines"``. Existing files are never overwritten.
    ``branch`` defaults to the repository's default branch (``main`` outside git)."""
    root = Path(path)
    if branch is None:
        branch = detect_branch(root)
    files = planned_files(store, github, spec=spec, branch=branch)
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is not a folder")
    out: list[tuple[Path, str]] = []
    for rel, content in files:
        target = root / rel
        if target.is_dir():
            raise InvalidInput(f"{target} is a folder; expected a file")
        if target.exists() or target.is_symlink():
            if _same(target, content):
                out.append((target, UNCHANGED))
            elif rel == GITIGNORE and not target.is_symlink():
                out.append((target, _append_missing(target, content)))
            elif rel.endswith("/" + manifest.FILENAME):
                out.append((target, KEPT_DATA))
            else:
                out.append((target, KEPT))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8", newline="\n") as f:
            f.write(content)
        out.append((target, CREATED))
    return out


def _append_missing(target: Path, content: str) -> str:
    """Append the ignore patterns of ``content`` that ``target`` lacks."""
    have = target.read_text("utf-8", "replace")
    present = {line.strip() for line in have.splitlines()}
    missing = [line for line in content.splitlines() if line.strip() and not line.startswith("#")]
    missing = [line for line in missing if line.strip() not in present]
    if not missing:
        return UNCHANGED
    sep = "" if have.endswith("\n") or not have else "\n"
    with open(target, "a", encoding="utf-8", newline="\n") as f:
        f.write(f"{sep}# added by runsite init\n" + "\n".join(missing) + "\n")
    return APPENDED


def detect_branch(path: Path) -> str:
    """The default branch of the repository at ``path`` (``main`` outside one)."""
    try:
        from runsite import gitio

        return gitio.default_branch(path.resolve()) or "main"
    except Exception:  # git missing or unreadable: the common default
        return "main"


def git_root_warning(path: str | os.PathLike[str]) -> str | None:
    """A warning when ``path`` is inside a git repository but not at its top: GitHub
    reads workflows and CODEOWNERS only at the top of the repository."""
    root = Path(path).resolve()
    if (root / ".git").exists():
        return None
    for parent in root.parents:
        if (parent / ".git").exists():
            return (
                f"{root} is inside the git repository {parent}, not at its top: GitHub only "
                f"runs workflows from {parent / '.github' / 'workflows'}; move them there and "
                "adjust the store paths in them"
            )
    return None
