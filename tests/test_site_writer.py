"""The static site (``runsite build``): the site writer: one output per path, no path out
of the site, its manifest.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runsite.site.writer import MANIFEST, BuildError, Writer

# --------------------------------------------------------------------------- the writer


def test_writer_refuses_two_outputs_on_one_path(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text("from a file")
    writer = Writer(tmp_path / "out")
    writer.add("runs/a.html", "<p>one</p>", origin="run a")
    with pytest.raises(BuildError, match=r"two outputs for runs/a\.html: run a and theme file x"):
        writer.add("runs/a.html", b"<p>two</p>", origin="theme file x")
    with pytest.raises(BuildError, match="two outputs"):
        writer.add_file("runs/a.html", source, origin="artifact of run b")
    with pytest.raises(BuildError, match="two outputs"):
        writer.add("/runs/a.html", "<p>three</p>", origin="a leading slash")
    with pytest.raises(BuildError, match="refusing output path"):
        writer.add("../escape.html", "x", origin="escape")
    writer.add_file("runs/b.txt", source, origin="artifact")
    stats = writer.commit()
    assert (stats.files, stats.written) == (2, 2)
    assert (tmp_path / "out/runs/a.html").read_text() == "<p>one</p>"
    assert (tmp_path / "out/runs/b.txt").read_text() == "from a file"
    assert not (tmp_path / "escape.html").exists()
    assert set(json.loads((tmp_path / "out" / MANIFEST).read_text())) == {
        "runs/a.html",
        "runs/b.txt",
    }


def test_writer_spills_past_its_memory_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-memory budget every generated output goes to the staging folder (a
    100,000-run build stays bounded); the files written are the same."""
    from runsite.site import writer as writer_mod

    monkeypatch.setattr(writer_mod, "_MEMORY_BUDGET", 10)
    writer = Writer(tmp_path / "out")
    for i in range(5):
        writer.add(f"p/{i}.html", f"<p>{i}</p>" * 3, origin=f"page {i}")
    staged = list((tmp_path / ".out.staging").iterdir())
    assert len(staged) == 4  # the first fits the budget, then every one is spilled
    stats = writer.commit()
    assert stats.written == 5
    assert [(tmp_path / f"out/p/{i}.html").read_text() for i in range(5)] == [
        f"<p>{i}</p>" * 3 for i in range(5)
    ]
    assert not (tmp_path / ".out.staging").exists()
