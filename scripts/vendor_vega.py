#!/usr/bin/env python3
"""Vendor Vega, Vega-Lite, vega-embed and vega-interpreter into the default theme.

The static site must work offline from ``file://``, so the browser builds are copied
into ``themes/default/static/vendor/``.  Everything comes from the npm registry via
``npm pack`` (no CDN):

* ``vega@6``          newest 6.x  (Altair's display code pins Vega major 6)
* ``vega-lite@X``     exactly ``altair.SCHEMA_VERSION`` (the specs Altair emits)
* ``vega-embed@7``    newest 7.x; its peer dependencies are checked against the above
* ``vega-interpreter`` the range vega-embed depends on (so it is the same interpreter that
  vega-embed bundles), checked to use the same vega-util major as Vega.

vega-interpreter 2.x ships only an ES module (``import ... from 'vega-util'``), which
cannot be loaded with a plain ``<script src>`` under ``file://``.  This script turns it
into a classic script that takes vega-util's functions from the global ``vega`` object
and sets ``vega.expressionInterpreter`` -- exactly what vega-interpreter 1.x's UMD build
did.  The rewrite is a check-or-fail text substitution, not a bundler.

Usage:  python scripts/vendor_vega.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "themes" / "default" / "static" / "vendor"

# package -> (file inside the tarball, file name in the vendor folder)
BUILDS = {
    "vega": ("package/build/vega.min.js", "vega.min.js"),
    "vega-lite": ("package/build/vega-lite.min.js", "vega-lite.min.js"),
    "vega-embed": ("package/build/vega-embed.min.js", "vega-embed.min.js"),
    "vega-interpreter": ("package/build/vega-interpreter.js", "vega-interpreter.js"),
}


# --------------------------------------------------------------------------- semver
def _version(text: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not m:
        raise ValueError(f"not a plain x.y.z version: {text!r}")
    return int(m[1]), int(m[2]), int(m[3])


def satisfies(version: str, spec: str) -> bool:
    """Enough of npm's semver ranges for peer/dependency checks: *, x.y.z, ^, ~, >=, ||."""
    v = _version(version)
    for alt in spec.split("||"):
        alt = alt.strip()
        if alt in ("*", "", "x"):
            return True
        ok = True
        for part in alt.split():
            m = re.fullmatch(r"(\^|~|>=|>|<=|<|=)?(v?\d+\.\d+\.\d+)", part)
            if not m:
                raise ValueError(f"unsupported semver range {spec!r}; check it by hand")
            op, base = m[1] or "=", _version(m[2])
            if op == "^":
                cap = (base[0] + 1, 0, 0) if base[0] else (0, base[1] + 1, 0)
                ok &= base <= v < cap
            elif op == "~":
                ok &= base <= v < (base[0], base[1] + 1, 0)
            else:
                ok &= {
                    "=": v == base,
                    ">=": v >= base,
                    ">": v > base,
                    "<=": v <= base,
                    "<": v < base,
                }[op]
        if ok:
            return True
    return False


def _range_base(spec: str) -> str:
    """The lowest version named by a simple range such as '~2.1.3' or '^2.1.0'."""
    m = re.fullmatch(r"[\^~]?(\d+\.\d+\.\d+)", spec.strip())
    if not m:
        raise ValueError(f"unsupported dependency range {spec!r}")
    return m[1]


# --------------------------------------------------------------------------- npm
class Package:
    def __init__(self, tgz: Path, name: str, version: str, integrity: str) -> None:
        self.tgz, self.name, self.version, self.integrity = tgz, name, version, integrity
        self.manifest = json.loads(self.read("package/package.json"))

    def read(self, member: str) -> bytes:
        with tarfile.open(self.tgz, "r:gz") as tar:
            f = tar.extractfile(member)
            if f is None:
                raise FileNotFoundError(f"{member} missing in {self.tgz.name}")
            return f.read()

    def names(self) -> list[str]:
        with tarfile.open(self.tgz, "r:gz") as tar:
            return tar.getnames()

    def license_text(self) -> bytes:
        for name in ("package/LICENSE", "package/LICENSE.md", "package/LICENSE.txt"):
            if name in self.names():
                return self.read(name)
        raise FileNotFoundError(f"no LICENSE in {self.name}@{self.version}")


def npm_pack(spec: str, dest: Path) -> Package:
    """``npm pack <spec>``: npm resolves the newest version that satisfies the range."""
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (info,) = json.loads(out)
    print(f"  {spec:24} -> {info['name']}@{info['version']}  {info['integrity'][:22]}...")
    return Package(dest / info["filename"], info["name"], info["version"], info["integrity"])


# --------------------------------------------------------------------------- interpreter
_IMPORT = re.compile(r"^import \{ ([\w, ]+) \} from 'vega-util';\n", re.M)
_EXPORT = re.compile(r"^export \{ (\w+) as expressionInterpreter \};\n", re.M)


def interpreter_script(esm: str, version: str) -> str:
    """Turn vega-interpreter's ES module into a classic script that extends ``vega``."""
    imports, exports = _IMPORT.findall(esm), _EXPORT.findall(esm)
    if (
        len(imports) != 1
        or len(exports) != 1
        or re.search(r"^(import|export)\b", _EXPORT.sub("", _IMPORT.sub("", esm)), re.M)
    ):
        raise SystemExit(
            f"vega-interpreter@{version}: its module no longer has exactly one vega-util import "
            "and one expressionInterpreter export; update interpreter_script()"
        )
    body = _EXPORT.sub("", _IMPORT.sub("", esm))
    body = re.sub(r"^//# sourceMappingURL=.*\n?", "", body, flags=re.M)
    names = imports[0]
    return (
        f"/* vega-interpreter@{version} (BSD-3-Clause, see vega-interpreter.LICENSE.txt).\n"
        " * Generated by scripts/vendor_vega.py from the package's ES module build: the\n"
        " * vega-util import is read from the global `vega` (load vega.min.js first) and the\n"
        " * interpreter is exposed as `vega.expressionInterpreter`, as the 1.x UMD build did. */\n"
        "(function (vega) {\n"
        "'use strict';\n"
        "if (!vega) throw new Error('vega-interpreter: load vega.min.js first');\n"
        f"const {{ {names} }} = vega;\n"
        f"{body.rstrip()}\n"
        f"vega.expressionInterpreter = {exports[0]};\n"
        "})(globalThis.vega);\n"
    )


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    args = ap.parse_args(argv)

    import altair

    vl_version = altair.SCHEMA_VERSION.lstrip("v")
    print(f"altair {altair.__version__} emits Vega-Lite {vl_version}")
    if shutil.which("npm") is None:
        raise SystemExit("npm is not on PATH")

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        vega = npm_pack("vega@6", tmpdir)
        vl = npm_pack(f"vega-lite@{vl_version}", tmpdir)
        embed = npm_pack("vega-embed@7", tmpdir)
        interp = npm_pack(
            f"vega-interpreter@{embed.manifest['dependencies']['vega-interpreter']}", tmpdir
        )
        pkgs = [vega, vl, embed, interp]

        # compatibility checks (fail loudly rather than ship a mismatched set)
        problems = []
        peers = {"vega": vega.version, "vega-lite": vl.version}
        for pkg in (vl, embed):
            for peer, rng in pkg.manifest.get("peerDependencies", {}).items():
                if peer in peers and not satisfies(peers[peer], rng):
                    problems.append(f"{pkg.name}@{pkg.version} wants {peer} {rng}")
        vega_util = _range_base(vega.manifest["dependencies"]["vega-util"])
        interp_util = interp.manifest["dependencies"]["vega-util"]
        if not satisfies(vega_util, interp_util):
            problems.append(f"vega-interpreter wants vega-util {interp_util}, vega has {vega_util}")
        if problems:
            raise SystemExit("incompatible versions:\n  " + "\n  ".join(problems))

        args.dest.mkdir(parents=True, exist_ok=True)
        for pkg in pkgs:
            member, out_name = BUILDS[pkg.name]
            data = pkg.read(member)
            if pkg.name == "vega-interpreter":
                data = interpreter_script(data.decode(), pkg.version).encode()
            (args.dest / out_name).write_bytes(data)
            (args.dest / f"{pkg.name}.LICENSE.txt").write_bytes(pkg.license_text())
        versions = {p.name: p.version for p in pkgs}
        (args.dest / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")

    print(f"wrote {args.dest.relative_to(ROOT) if args.dest.is_relative_to(ROOT) else args.dest}:")
    for path in sorted(args.dest.iterdir()):
        print(f"  {path.name:32} {path.stat().st_size:>9,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
