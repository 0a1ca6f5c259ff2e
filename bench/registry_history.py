#!/usr/bin/env python
"""Registry history bench: ``runsite models history`` over a long git history.

Run from the project root::

    .venv/bin/python bench/registry_history.py            # 200 commits, 300 versions
    .venv/bin/python bench/registry_history.py --quick    # 50 commits, 100 versions

A git repository is made in a temp folder: its first commit registers N versions (three
models) in ``registry.yaml``, every later commit moves one version to another stage.
Then ``registry.history.history()`` reads the whole history, parsing every version of
the manifest with each of three parsers, interleaved round-robin, median of R:

- ``pieces``: runsite's parser (``registry/pieces.py``), each distinct piece of the file
  parsed once with the round-trip YAML parser;
- ``whole (ruamel)``: the whole file parsed at every commit, as ``manifest.parse`` does;
- ``C safe loader``: PyYAML's ``CSafeLoader`` (libyaml) on the whole file at every commit.

Each row says whether it found the same transitions as ``pieces``. The table goes to
stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import machine_header, progress, table

HASH = "sha256:" + "ab" * 32
STAGES = ("none", "staging", "production", "archived")


def manifest_text(stages: list[str]) -> str:
    """Three models sharing the versions round-robin, in runsite's own layout."""
    lines = ["format: 1", "models:"]
    for m in range(3):
        lines += [f"  model-{m}:", "    description: a bench model", "    versions:"]
        for i, stage in enumerate(stages):
            if i % 3 != m:
                continue
            lines += [
                f"      - version: {i // 3 + 1}",
                f"        run: 01jd{i:022d}",
                "        artifact: model",
                f"        hash: {HASH}",
                "        registered: 2026-11-27T20:00:00Z",
                f"        stage: {stage}",
            ]
    return "\n".join(lines) + "\n"


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def make_repo(repo: Path, commits: int, versions: int) -> None:
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    stages = ["none"] * versions
    path = repo / "registry.yaml"
    for n in range(commits):
        if n:
            i = (n * 7919) % versions
            stages[i] = STAGES[(STAGES.index(stages[i]) + 1) % len(STAGES)]
        path.write_text(manifest_text(stages))
        git(repo, "add", "registry.yaml")
        git(repo, "commit", "-q", "-m", f"change {n}")


def c_safe_load(text: str) -> Any:
    import yaml

    from runsite.registry import pieces

    try:
        doc = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return pieces.INVALID
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict | None):
        return pieces.INVALID
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="50 commits over 100 versions")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    commits, versions = (50, 100) if args.quick else (200, 300)

    from runsite.registry import history as hist
    from runsite.registry import pieces

    tmp = Path(tempfile.mkdtemp(prefix="runsite-bench-history-"))
    try:
        repo = tmp / "repo"
        progress(f"making a repository: {commits} commits over a {versions}-version manifest")
        make_repo(repo, commits, versions)
        size = (repo / "registry.yaml").stat().st_size

        original_load = pieces.ManifestParser.load

        def whole(self: Any, text: str) -> Any:
            self._pieces = _always_fallback  # every manifest parsed whole
            return original_load(self, text)

        def _always_fallback(text: str) -> Any:
            raise pieces._Fallback

        parsers = {
            "pieces": original_load,
            "whole (ruamel)": whole,
            "C safe loader": lambda self, text: c_safe_load(text),
        }
        times: dict[str, list[float]] = {k: [] for k in parsers}
        found: dict[str, list[Any]] = {}
        for r in range(args.repeats):
            for name, load in parsers.items():
                pieces.ManifestParser.load = load  # type: ignore[method-assign]
                t0 = time.perf_counter()
                ts = hist.history(repo, repo / "registry.yaml")
                times[name].append(time.perf_counter() - t0)
                found[name] = [t.to_dict() for t in ts]
                progress(f"  repeat {r + 1}: {name} {times[name][-1]:.3f} s ({len(ts)} changes)")
        pieces.ManifestParser.load = original_load  # type: ignore[method-assign]

        base = statistics.median(times["pieces"])
        rows = []
        for name in parsers:
            med = statistics.median(times[name])
            same = "yes" if found[name] == found["pieces"] else "NO"
            rows.append([name, f"{med:.3f} s", f"{med / base:.2f}", same])
        lines = [
            *machine_header("runsite registry history bench" + (" (quick)" if args.quick else "")),
            f"history: {commits} commits, {versions} versions ({size:,} bytes at HEAD); "
            f"median of {args.repeats}, parsers interleaved",
            "",
            *table(["parser", "history()", "ratio vs pieces", "same transitions"], rows),
        ]
        print("\n".join(lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
