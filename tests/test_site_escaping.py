"""The static site (``runsite build``): hostile names, values, notes and artifacts stay
inert text on every page; symlinks out of the store are not published.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import runsite
from runsite.site import build
from site_helpers import (
    charts,
    check_frame,
    json_blocks,
    kv_table,
    link_problems,
    pages,
    parse,
    script_problems,
    section,
    text_of,
)
from site_store import (
    all_text,
    log_small_model,
    write_run_by_hand,
)

# --------------------------------------------------------------------------- 3. security

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</script><script>alert(1)</script>",
]
JS_LINKS = '[click me](javascript:alert(1)) <a href="javascript:alert(1)">raw</a>'


def _csv_text(rows: list[list[str]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def test_payloads_everywhere_stay_inert_text(store: Path, tmp_path: Path) -> None:
    runsite.set_experiment("evil")
    (store / "evil" / "experiment.yaml").write_text(
        json.dumps(  # JSON is YAML
            {
                "name": f"evil {PAYLOADS[0]}",
                "description": " ".join(PAYLOADS) + " " + JS_LINKS,
                "key_metric": "loss",
            }
        )
    )
    ids = []
    for i, p in enumerate(PAYLOADS):
        with runsite.start_run(run_name=p, description=f"{p} {JS_LINKS}") as r:
            runsite.log_param(f"p{i}", p)
            runsite.set_tag("t", p)
            runsite.log_metric("loss", float(i))
            runsite.add_note(f'{p}\n\n<iframe src="javascript:alert(1)"></iframe>\n\n{JS_LINKS}')
            runsite.log_text(p, "a.txt")
            runsite.log_text(f"# {p}\n\n{JS_LINKS}\n\n{p}\n", "b.md")
            runsite.log_dict({"p": p}, "c.json")
            runsite.log_dict({"p": p}, "c.yaml")
            runsite.log_text(_csv_text([["h", p], ["1", p]]), "d.csv")
            runsite.log_text("named\n", p.replace("/", "|") + ".txt")  # the NAME is the payload
        ids.append(r.run_id)
    # keys the logging API refuses can still be written by hand
    hand = write_run_by_hand(
        store / "evil",
        "01h0handwritten00000000000",
        PAYLOADS[3],
        params={PAYLOADS[1]: PAYLOADS[0]},
        metrics={PAYLOADS[3]: [1.0, 2.0], "loss": [9.0]},
        torn=False,
        ended=True,
    )
    with runsite.start_run(run_name="with-model") as r:
        log_small_model(0.1)
    runsite.register_model(
        f"runs:/{r.run_id}/model", "evil-model", description=" ".join(PAYLOADS) + JS_LINKS
    )

    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 6

    assert script_problems(site) == []
    for page in pages(site):
        doc = parse(page)
        check_frame(doc, page.name)  # the CSP meta tag is on every page
        for script in doc.find_all("script", type="application/json"):
            assert "</script" not in (script.string or "").lower()
        for a in doc.find_all("a", href=True):
            assert not "".join(a["href"].split()).lower().startswith("javascript:")

    # every payload is shown as text, where it was logged
    for run_id, p in zip(ids, PAYLOADS, strict=True):
        doc = parse(site / "runs" / f"{run_id}.html")
        assert doc.find("h1").find(string=True, recursive=False).strip() == p
        assert text_of(doc.find("title")).startswith(p)
        assert list(kv_table(section(doc, "Params").find("table")).values()) == [p]
        assert kv_table(section(doc, "Tags").find("table")) == {"t": p}
        items = {text_of(li.select_one(".artifact-head a")): li for li in doc.select("li.artifact")}
        assert set(items) == {
            "a.txt",
            "b.md",
            "c.json",
            "c.yaml",
            "d.csv",
            p.replace("/", "|") + ".txt",
        }
        assert items["a.txt"].select_one("pre.preview").get_text() == p
        assert json.loads(items["c.json"].select_one("pre.preview").get_text()) == {"p": p}
        cells = [text_of(c) for c in items["d.csv"].select(".preview th, .preview td")]
        assert cells == ["h", p, "1", p]
        named = items[p.replace("/", "|") + ".txt"].select_one(".artifact-head a")["href"]
        assert (site / "runs" / unquote(urlsplit(named).path)).read_text() == "named\n"
        md = items["b.md"].select_one("div.prose")
        assert md.find("h1") is not None and md.find(["script", "svg"]) is None
        assert all(not a.get("href") for a in md.find_all("a"))  # javascript: links dropped
        for note in doc.select("div.note"):
            assert note.find(["script", "iframe", "svg"]) is None

    experiment = parse(site / "experiments" / "evil.html")
    assert text_of(experiment.find("h1")) == f"evil {PAYLOADS[0]}"
    assert experiment.select_one("div.prose").find(["script", "svg"]) is None
    (loss_chart,) = [p for _, p in charts(experiment) if p["spec"]["title"]["text"] == "loss"]
    assert set(PAYLOADS) <= set(loss_chart["data"]["series"]["run"])  # data, not markup

    doc = parse(site / "runs" / f"{hand.name}.html")
    assert kv_table(section(doc, "Params").find("table")) == {PAYLOADS[1]: PAYLOADS[0]}
    titles = {p["spec"]["title"]["text"] for _, p in charts(doc)}
    assert titles == {PAYLOADS[3]}  # "loss" has one point: a number, not a chart
    assert any(PAYLOADS[3] in json.dumps(block) for block in json_blocks(doc))

    for rel in ("registry.html", "models/evil-model.html"):
        doc = parse(site / rel)
        for prose in doc.select("div.prose"):
            assert prose.find(["script", "svg", "iframe"]) is None


def test_symlinked_artifacts_outside_the_store_are_not_published(
    store: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "token.txt").write_text("TOPSECRET-4242\n")
    runsite.set_experiment("exp")
    with runsite.start_run(run_name="leaky") as r:
        runsite.log_text("harmless\n", "leak.txt")
        runsite.log_text("harmless too\n", "dir/token.txt")
        runsite.log_text("fine\n", "fine.txt")
    # after the run: someone with push access swaps the files for symlinks out of the store
    arts = store / "exp" / r.run_id / "artifacts"
    (arts / "leak.txt").unlink()
    (arts / "leak.txt").symlink_to(secret / "token.txt")
    shutil.rmtree(arts / "dir")
    (arts / "dir").symlink_to(secret, target_is_directory=True)
    (arts / "unlogged.txt").symlink_to(secret / "token.txt")
    (arts / "etc-hostname").symlink_to("/etc/hostname")

    site = tmp_path / "site"
    result = build(store, site)
    outside = [w for w in result.warnings if "outside the store" in w]
    assert any("leak.txt" in w for w in outside) and any("dir/token.txt" in w for w in outside)

    assert "TOPSECRET" not in all_text(site)
    assert not any(p.is_symlink() for p in site.rglob("*"))
    published = {
        p.relative_to(site / "runs" / r.run_id).as_posix()
        for p in (site / "runs" / r.run_id).rglob("*")
        if p.is_file()
    }
    assert published == {"artifacts/fine.txt"}
    doc = parse(site / "runs" / f"{r.run_id}.html")
    for li in doc.select("li.artifact"):
        name = text_of(li.select_one(".artifact-head .mono"))
        if name in ("leak.txt", "dir/token.txt"):
            assert li.find("a") is None and li.select_one(".preview") is None
            assert "(not published)" in text_of(li)
    assert link_problems(site) == []
