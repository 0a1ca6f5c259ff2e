"""The static site (``runsite build``): site.yaml's publishing controls.

HTML is checked by parsing it (BeautifulSoup with the stdlib ``html.parser``), never by
looking for substrings.
"""

from __future__ import annotations

from pathlib import Path

import runsite
from runsite.site import build
from site_helpers import (
    kv_table,
    link_problems,
    parse,
    section,
    text_of,
)
from site_store import (
    all_text,
)

# --------------------------------------------------------------------------- 6. publishing


def test_site_yaml_publishing_controls(store: Path, tmp_path: Path) -> None:
    data = tmp_path / "hidden-data.csv"
    data.write_text("HIDDENCOLUMN\n1\n")
    runsite.set_experiment("Hidden Lab")
    with runsite.start_run(run_name="HIDDENEXPRUN") as hidden:
        runsite.log_param("HIDDENEXPPARAM", 1)
        runsite.log_input(data, name="HIDDENDATA")
        runsite.log_text("HIDDENEXPARTIFACT\n", "x.txt")
    hidden_hash = runsite.Store(store).run(hidden.run_id).inputs[0]["hash"]
    runsite.set_experiment("public")
    with runsite.start_run(run_name="private-PRIVRUN") as private:
        runsite.log_param("PRIVPARAM", 1)
        runsite.log_metric("loss", 0.1)
        runsite.log_text("PRIVARTIFACT\n", "p.txt")
    with runsite.start_run(run_name="shown") as shown:
        runsite.log_params({"alpha": 0.5, "api_token": "PARAMVALUESECRET", "api_url": "U"})
        runsite.set_tag("owner", "team-a")
        runsite.set_tag("internal.note", "TAGVALUESECRET")
        runsite.log_metric("loss", 0.5)
        runsite.log_text("kept\n", "kept.txt")
        runsite.log_text("PRIVATEARTIFACT\n", "private/creds.txt")
        runsite.log_text("KEYFILESECRET\n", "server.key")
        runsite.log_text("BIGCONTENT" * 120 + "\n", "big.txt")  # 1.2 KB > 1KB
        runsite.log_text("S" * 1000 + "\n", "small-enough.txt")
    (store / "site.yaml").write_text(
        "title: Public site\n"
        "exclude:\n"
        "  experiments: ['Hidden *']\n"
        "  runs: ['private-*']\n"
        "  params: ['api_*']\n"
        "  tags: ['internal.*']\n"
        "  artifacts: ['private/*', '*.key']\n"
        "max_artifact_size: 1KB\n"
    )
    site = tmp_path / "site"
    result = build(store, site)
    assert result.runs == 1

    text = all_text(site)
    for secret in (
        "Hidden Lab",
        "hidden-lab",
        "HIDDENEXP",
        hidden.run_id,
        "HIDDENDATA",
        "hidden-data",
        "HIDDENCOLUMN",
        hidden_hash.split(":")[-1][:16],
        "PRIVRUN",
        "PRIVPARAM",
        "PRIVARTIFACT",
        private.run_id,
        "api_token",
        "api_url",
        "PARAMVALUESECRET",
        "internal.note",
        "TAGVALUESECRET",
        "private/creds",
        "creds.txt",
        "PRIVATEARTIFACT",
        "server.key",
        "KEYFILESECRET",
        "BIGCONTENT",
    ):
        assert secret not in text, f"{secret!r} was published"

    doc = parse(site / "runs" / f"{shown.run_id}.html")
    assert text_of(doc.find("title")) == "shown · Public site"
    assert kv_table(section(doc, "Params").find("table")) == {"alpha": "0.5"}
    assert kv_table(section(doc, "Tags").find("table")) == {"owner": "team-a"}
    items = {text_of(li.select_one(".artifact-head .mono")): li for li in doc.select("li.artifact")}
    assert set(items) == {"kept.txt", "big.txt", "small-enough.txt"}
    big = items["big.txt"]
    assert big.find("a") is None and big.select_one(".preview") is None
    assert "(not published)" in text_of(big.select_one(".artifact-head"))
    assert items["small-enough.txt"].find("a") is not None
    published = sorted(p.name for p in (site / "runs" / shown.run_id / "artifacts").rglob("*"))
    assert published == ["kept.txt", "small-enough.txt"]
    assert {p.stem for p in (site / "experiments").iterdir()} == {"public"}
    assert link_problems(site) == []
