"""``runsite init``: the files a repository needs to keep a store and publish it.

Writes ``<store>/registry.yaml`` (the commented manifest template), ``<store>/site.yaml``
(publishing controls), ``.gitattributes`` and, with ``github=True``, two GitHub Actions
workflows: publish the site to Pages on push, and gate registry pull requests with
``runsite models check``. Re-running it never overwrites a file that differs from what
it would write. See docs/ci.md.
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


def _template(name: str, store: str) -> str:
    text = (resources.files("runsite") / "templates" / name).read_text("utf-8")
    return text.replace("@STORE@", store).replace("@VERSION@", __version__)


def planned_files(store: str = "runs", github: bool = False) -> list[tuple[str, str]]:
    """``(relative path, content)`` of every file ``init`` writes."""
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
    ]
    if github:
        files += [
            (PUBLISH_WORKFLOW, _template("runsite-publish.yml", store)),
            (CHECK_WORKFLOW, _template("runsite-registry-check.yml", store)),
        ]
    return files


def _same(path: Path, content: str) -> bool:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return text.replace("\r\n", "\n") == content  # a CRLF checkout is still ours


def init_project(
    path: str | os.PathLike[str] = ".", store: str = "runs", github: bool = False
) -> list[tuple[Path, str]]:
    """Write the project files under ``path``; ``(path, action)`` for each, action being
    ``"created"``, ``"unchanged"`` or ``"kept (yours differs)"``. Existing files are
    never overwritten."""
    root = Path(path)
    files = planned_files(store, github)
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is not a folder")
    out: list[tuple[Path, str]] = []
    for rel, content in files:
        target = root / rel
        if target.is_dir():
            raise InvalidInput(f"{target} is a folder; expected a file")
        if target.exists() or target.is_symlink():
            out.append((target, UNCHANGED if _same(target, content) else KEPT))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8", newline="\n") as f:
            f.write(content)
        out.append((target, CREATED))
    return out


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
