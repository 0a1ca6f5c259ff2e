"""Reading a built site back: parsed pages, link and script checks (tests/test_site_*.py)."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, Tag

GITHUB = "https://github.com/"
URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "poster", "data", "background")
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "file:")


def tiny_png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (a browser's JSON.parse refuses it)")


_PUSH = re.compile(
    r"^\(window\.RUNSITE_DATA=window\.RUNSITE_DATA\|\|\[\]\)\.push\((.*)\);\n$", re.S
)


def data_file(path: Path) -> Any:
    """The object a site data file (``data/*.js``) pushes onto ``RUNSITE_DATA``."""
    found = _PUSH.match(path.read_text("utf-8"))
    assert found, f"{path} is not a data file"
    return json.loads(found.group(1))


def table_column(site: Path, manifest: dict[str, Any], file: str) -> list[Any]:
    """A column of an experiment's runs table (``manifest``: its data file), decoded from
    its chunks (docs/site.md), oldest run first."""
    out: list[Any] = []
    inline = {p["file"]: p for p in manifest.get("inline", [])}  # one chunk: in the manifest
    for k in range(manifest["chunks"]):
        p = inline[file] if inline else data_file(site / manifest["folder"] / f"{file}-{k}.js")
        n = p["rows"]
        if p["enc"] == "f64":
            nums = struct.unpack(f"<{n}d", base64.b64decode(p["data"]))
            bits = base64.b64decode(p["missing"]) if "missing" in p else bytes((n + 7) // 8)
            out += [None if bits[i >> 3] >> (i & 7) & 1 else nums[i] for i in range(n)]
        elif p["enc"] == "dict":
            fmt = {1: "B", 2: "H", 4: "I"}[p["width"]]
            codes = struct.unpack(f"<{n}{fmt}", base64.b64decode(p["codes"]))
            out += [p["values"][c] for c in codes]
        else:
            out += p["values"]
    return out


def loads(text: str | None) -> Any:
    """``json.loads`` as strict as a browser's ``JSON.parse`` (no NaN, no Infinity)."""
    return json.loads(text or "", parse_constant=_no_constant)


@cache
def _parse_cached(path: str, mtime_ns: int, size: int) -> BeautifulSoup:
    return BeautifulSoup(Path(path).read_text("utf-8"), "html.parser")


def parse(path: Path) -> BeautifulSoup:
    """The page at ``path``, parsed with the stdlib parser (cached while unchanged)."""
    st = path.stat()
    return _parse_cached(str(path), st.st_mtime_ns, st.st_size)


def pages(site: Path) -> list[Path]:
    """Every page the builder rendered (not the copied artifacts, which are run data)."""
    return sorted(
        p
        for p in site.rglob("*.html")
        if not (p.relative_to(site).parts[0] == "runs" and "artifacts" in p.relative_to(site).parts)
    )


def files(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def mtimes(site: Path) -> dict[str, int]:
    return {
        p.relative_to(site).as_posix(): p.stat().st_mtime_ns
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def text_of(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def section(doc: BeautifulSoup, heading: str) -> Tag:
    """The <section> whose <h2> reads ``heading``."""
    for h2 in doc.find_all("h2"):
        if text_of(h2) == heading and h2.parent is not None and h2.parent.name == "section":
            return h2.parent
    raise AssertionError(f"no section {heading!r}")


def kv_table(table: Tag) -> dict[str, str]:
    """A two-column key/value table (th, td) as a dict."""
    out = {}
    for tr in table.find_all("tr"):
        th, td = tr.find("th"), tr.find("td")
        if th is not None and td is not None:
            out[text_of(th)] = text_of(td)
    return out


def facts(dl: Tag) -> dict[str, Tag]:
    """<dl class="facts">: dt text → its dd."""
    out = {}
    for dt in dl.find_all("dt"):
        dd = dt.find_next_sibling("dd")
        if dd is not None:
            out[text_of(dt)] = dd
    return out


def charts(doc: BeautifulSoup) -> list[tuple[Tag, dict[str, Any]]]:
    """Each chart block: the figure and the JSON payload it points to."""
    out = []
    for fig in doc.select("figure.rs-chart"):
        script = doc.find("script", id=fig["data-spec"])
        assert script is not None, f"chart {fig['data-spec']} has no data block"
        assert script.get("type") == "application/json"
        out.append((fig, loads(script.string)))
    return out


def check_frame(doc: BeautifulSoup, where: str) -> None:
    """What every page has: a title, the header nav, the CSP."""
    title = doc.find("title")
    assert title is not None and text_of(title), f"{where}: no <title>"
    header = doc.find("header", class_="topbar")
    assert header is not None, f"{where}: no header"
    nav_links = [a["href"].rsplit("/", 1)[-1] for a in header.select("nav a")]
    assert nav_links == ["index.html", "registry.html", "datasets.html"], where
    assert doc.find("main") is not None, where
    csp = doc.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp is not None, f"{where}: no Content-Security-Policy meta tag"
    directives = {d.split()[0]: d.split()[1:] for d in str(csp["content"]).split(";") if d.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, f"{where}: the CSP does not restrict scripts"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, where
    assert directives.get("object-src") == ["'none'"], where


def _target(site: Path, page: Path, url: str) -> tuple[Path | None, str, str | None]:
    """(file the URL points to, fragment, problem)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("/", "\\")):
        return None, "", f"not relative: {url!r}"
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
    try:
        target.relative_to(site.resolve())
    except ValueError:
        return None, "", f"leaves the site: {url!r}"
    if not target.is_file():
        return None, "", f"points to a missing file: {url!r}"
    return target, unquote(parts.fragment), None


def link_problems(site: Path, check_fragments: bool = True) -> list[str]:
    """Every href/src (and every run link in chart data) that is not relative or does
    not resolve to a file of the site; ``#fragment`` links must hit an id."""
    problems: list[str] = []
    for page in pages(site):
        rel = page.relative_to(site).as_posix()
        doc = parse(page)
        urls: list[str] = []
        for tag in doc.find_all(True):
            for attr in URL_ATTRS:
                value = tag.get(attr)
                if tag.name == "img" and attr == "src" and str(value).startswith("data:image/"):
                    continue  # an inline image (an SVG artifact's preview): not a link
                if value is not None:
                    urls.append(str(value))
        for script in doc.find_all("script", type="application/json"):
            try:
                payload = loads(script.string)
            except ValueError:
                problems.append(f"{rel}: a JSON block does not parse")
                continue
            datasets = payload.get("data") if isinstance(payload, dict) else None
            for column in (datasets or {}).values():
                if isinstance(column, dict):
                    urls.extend(str(u) for u in column.get("url", []))
        for url in urls:
            if url.startswith(GITHUB):
                continue
            target, fragment, problem = _target(site, page, url)
            if problem:
                problems.append(f"{rel}: {problem}")
            elif (
                fragment
                and check_fragments
                and target is not None
                and target.suffix == ".html"
                and parse(target).find(id=fragment) is None
            ):
                problems.append(f"{rel}: {url!r}: no element with id {fragment!r}")
    return problems


def script_problems(site: Path) -> list[str]:
    """Scripts other than the theme's static files and JSON data blocks, inline
    handlers, dangerous URLs, elements that run code, unsandboxed frames."""
    problems: list[str] = []
    for page in pages(site):
        rel = page.relative_to(site).as_posix()
        doc = parse(page)
        for tag in doc.find_all(True):
            for attr, value in tag.attrs.items():
                if attr.lower().startswith("on"):
                    problems.append(f"{rel}: <{tag.name} {attr}=...>")
                if attr.lower() in URL_ATTRS:
                    clean = "".join(str(value).split()).lower()
                    if clean.startswith(BAD_SCHEMES):
                        problems.append(f"{rel}: <{tag.name} {attr}={value!r}>")
            if tag.name in ("svg", "object", "embed", "base", "form", "math"):
                problems.append(f"{rel}: <{tag.name}> element")
            if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
                problems.append(f"{rel}: meta refresh")
            if tag.name == "iframe":
                sandbox = tag.get("sandbox")
                if sandbox is None or "allow-scripts" in str(sandbox):
                    problems.append(f"{rel}: iframe without a script-free sandbox: {tag}")
            if tag.name == "script":
                if tag.get("type") == "application/json":
                    if tag.get("src") is not None:
                        problems.append(f"{rel}: data block with src")
                    try:
                        loads(tag.string)
                    except ValueError as exc:
                        problems.append(f"{rel}: JSON block does not parse: {exc}")
                    continue
                src = str(tag.get("src") or "")
                target, _, problem = _target(site, page, src) if src else (None, "", "inline")
                ours = (site.resolve() / "static", site.resolve() / "data")
                if problem or target is None or not any(d in target.parents for d in ours):
                    problems.append(f"{rel}: script not from static/ or data/: {tag}")
                elif (tag.string or "").strip():
                    problems.append(f"{rel}: script with src and inline code")
    return problems


def json_blocks(doc: BeautifulSoup) -> list[Any]:
    return [loads(s.string) for s in doc.find_all("script", type="application/json")]
