"""The documentation stays in step with the code: every public name is documented, every
relative link resolves and every Python example at least compiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import runsite

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = DOCS / "api.md"

# [text](target) — not images' alt text, not inline code.
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _markdown_files() -> list[Path]:
    return [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]


def _without_code(text: str) -> str:
    """The markdown outside fenced code blocks (links in code are not links)."""
    return _FENCE.sub("", text)


def _documented(name: str, text: str) -> bool:
    return f"`{name}`" in text or f"{name}(" in text


@pytest.fixture(scope="module")
def api_text() -> str:
    return API.read_text("utf-8")


@pytest.mark.parametrize("name", runsite.__all__)
def test_public_name_in_api_reference(name: str, api_text: str) -> None:
    assert _documented(name, api_text), f"runsite.{name} is not documented in docs/api.md"


def _run_members() -> list[str]:
    return sorted(n for n in vars(runsite.Run) if not n.startswith("_"))


def test_run_has_public_members() -> None:
    assert "log_metric" in _run_members()


@pytest.mark.parametrize("name", _run_members())
def test_run_member_in_api_reference(name: str, api_text: str) -> None:
    assert _documented(name, api_text), f"Run.{name} is not documented in docs/api.md"


def _links() -> list[tuple[str, str]]:
    out = []
    for md in _markdown_files():
        for target in _LINK.findall(_without_code(md.read_text("utf-8"))):
            out.append((str(md.relative_to(ROOT)), target))
    return out


@pytest.mark.parametrize(("source", "target"), _links())
def test_relative_link_resolves(source: str, target: str) -> None:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
        return  # a URL (http:, mailto:) or an anchor in the same file
    path = target.split("#", 1)[0]
    resolved = (ROOT / source).parent / path
    assert resolved.exists(), f"{source}: link {target!r} points to a missing file"


def _python_blocks() -> list[tuple[str, int, str]]:
    out = []
    for md in sorted(DOCS.glob("*.md")):
        text = md.read_text("utf-8")
        for m in _FENCE.finditer(text):
            if m.group(1) == "python":
                line = text.count("\n", 0, m.start()) + 1
                out.append((md.name, line, m.group(2)))
    return out


def test_docs_have_python_examples() -> None:
    names = {name for name, _, _ in _python_blocks()}
    assert {"api.md", "porting.md"} <= names


@pytest.mark.parametrize(
    ("doc", "line", "code"),
    [pytest.param(*block, id=f"{block[0]}:{block[1]}") for block in _python_blocks()],
)
def test_python_block_compiles(doc: str, line: int, code: str) -> None:
    compile(code, f"docs/{doc}:{line}", "exec")
