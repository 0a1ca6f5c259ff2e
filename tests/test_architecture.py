"""The layers of docs/architecture.md, checked on the source (AST, no import is run).

Every module under src/runsite belongs to one layer (LAYERS below). A module imports
only from its own layer or a lower one, at any depth: top-level, inside a function or
under ``TYPE_CHECKING`` alike. Layers of the same rank are siblings (the façades and the
site): neither imports the other. There is no import cycle, and each third-party
library is imported only by the module(s) that own it (SEAMS).

Adding a module? Put it in LAYERS: the lowest layer that is at or above everything it
imports (the failure message suggests one). Adding a dependency? Give it one owner in
SEAMS and import it only there. docs/architecture.md says where new work goes.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "runsite"

# (layer, rank, modules). A name ending in ".*" is that package and everything in it;
# an exact name wins over a ".*" pattern. Same rank = siblings (may not import each other).
LAYERS: list[tuple[str, int, list[str]]] = [
    (
        "foundation",
        0,
        [
            "runsite.errors",
            "runsite.ids",
            "runsite.validate",
            "runsite.fmt",
            "runsite.version",
            "runsite.location",
            "runsite.hooks",
            "runsite.atomic",
            "runsite.redact",  # what never reaches a public page (site, check reports)
            "runsite.attributes",  # the run-row vocabulary (Python rows, data files, JS)
        ],
    ),
    (
        "format and seams",
        1,
        [
            "runsite.record",  # the bytes on disk of a run
            "runsite.entities",
            "runsite.artifact_files",  # copying files into a run's artifacts/
            "runsite.cache",
            "runsite.hashing",
            "runsite.tables",
            "runsite.images",  # log_image: arrays and PIL images as image files
            "runsite.yamlio",  # ruamel
            "runsite.arrowio",  # pyarrow
            "runsite.gitio",  # GitPython
            "runsite.objstore",  # fsspec (s3fs, gcsfs… are its plugins)
            "runsite.duckio",  # duckdb
            "runsite.site.charts",  # altair
            "runsite.site.theme",  # jinja2
            "runsite.site.markup",  # markdown + nh3
        ],
    ),
    (
        "runs",
        2,
        [
            "runsite.run",
            "runsite.store",
            "runsite.search",
            "runsite.runindex",
            "runsite.capture",
            "runsite.inputs",
            "runsite.frames",  # pandas
        ],
    ),
    ("models", 3, ["runsite.models.*"]),
    ("registry", 4, ["runsite.registry.*"]),
    ("serving", 5, ["runsite.serving.*"]),  # uvicorn; pyfunc.scoring_app and the CLI use it
    (
        "facades",
        6,
        [
            "runsite",  # the package itself: the public API, wires the hooks
            "runsite.fluent",
            "runsite._flavor_api",
            "runsite.sklearn",
            "runsite.xgboost",
            "runsite.pyfunc",
            "runsite.init",
            "runsite.client",  # MlflowClient
            "runsite.tracking",  # runsite.tracking.MlflowClient, as mlflow.tracking
            "runsite.mlflow",  # the MLflow façade: ``import runsite.mlflow as mlflow``
            "runsite.autologging.*",  # autolog: patches the user's sklearn/xgboost
            "runsite.system_metrics",  # psutil/pynvml sampler behind start_run
            "runsite.sql",  # the store as SQL views (runs, metrics, registry versions)
            "runsite.artifacts",  # mlflow.artifacts.download_artifacts
            "runsite.data",  # mlflow.data: from_pandas / from_numpy datasets for log_input
            "runsite.exceptions",  # mlflow.exceptions.MlflowException
            "runsite.types.*",  # mlflow.types.schema: Schema, ColSpec … (models.schema's)
            "runsite.mlflow_import",  # runsite import mlflow (reads a store with MLflow)
        ],
    ),
    ("site", 6, ["runsite.site.*"]),
    ("cli", 7, ["runsite.cli.*", "runsite.__main__"]),
]

# Third-party top-level names and the module(s) allowed to import them. A library
# runsite depends on has ONE owner. The libraries of a user's own objects (numpy,
# pandas, xgboost) are imported, inside functions, by the modules that inspect them.
SEAMS: dict[str, set[str]] = {
    "pyarrow": {"runsite.arrowio"},
    "git": {"runsite.gitio"},
    "ruamel": {"runsite.yamlio"},
    "altair": {"runsite.site.charts"},
    "jinja2": {"runsite.site.theme"},
    "markupsafe": {"runsite.site.theme"},  # jinja2's own
    "markdown": {"runsite.site.markup"},
    "nh3": {"runsite.site.markup"},
    "click": {"runsite.cli.*"},
    # models.spark: the pandas batches Spark hands a pandas UDF, and their dtypes
    "pandas": {
        "runsite.frames",
        "runsite.models.signature",
        "runsite.models.spark",
        "runsite.autologging.*",
        "runsite.data",  # MLflow's dataset digest hashes the frame with pandas
    },
    "numpy": {
        "runsite.models.signature",
        "runsite.models.metrics",
        "runsite.models.drift",
        "runsite.models.spark",
        "runsite.autologging.*",
        "runsite.data",
    },
    "sklearn": {"runsite.models.flavors", "runsite.autologging.*"},
    "xgboost": {"runsite.models.flavors", "runsite.autologging.*"},
    "fsspec": {"runsite.objstore"},
    "s3fs": {"runsite.objstore"},  # reached through fsspec, never imported by name
    "boto3": {"runsite.objstore"},  # idem (s3fs's own dependency)
    "duckdb": {"runsite.duckio"},
    "pyspark": {"runsite.models.spark"},
    "uvicorn": {"runsite.serving.server"},
    "httptools": {"runsite.serving.server"},  # uvicorn's HTTP parser, never imported
    "psutil": {"runsite.system_metrics"},
    "pynvml": {"runsite.system_metrics"},  # nvidia-ml-py, only where NVIDIA GPUs are
    # read only to import an MLflow store (runsite[mlflow-import]); tests use it as the oracle
    "mlflow": {"runsite.mlflow_import"},
    "skops": {"runsite.models.flavors"},  # sklearn models MLflow 3 saved (imported ones)
    "cloudpickle": {"runsite.models.pythonmodel"},  # a PythonModel, pickled as MLflow does
    "PIL": {"runsite.images"},  # log_image (Pillow)
}

# (importer, imported) -> why. At most one entry, and only with a reason.
EXCEPTIONS: dict[tuple[str, str], str] = {}

# Third-party imports outside their owner: (importer, library) -> why. Empty; together
# with EXCEPTIONS at most one entry, and only with a reason.
SEAM_EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a runsite module, or a third-party top-level name
    line: int
    internal: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return (SRC / name.replace(".", "/") / "__init__.py").exists()


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The longest runsite module that ``name`` starts with."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return "runsite"


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield _classify(name, alias.name, node.lineno, modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source == "runsite" or source.startswith("runsite."):
                for alias in node.names:  # ``from runsite import fmt`` names a module
                    sub = f"{source}.{alias.name}"
                    target = sub if sub in modules else source
                    yield _classify(name, target, node.lineno, modules)
            else:
                yield _classify(name, source, node.lineno, modules)


def _classify(importer: str, target: str, line: int, modules: dict[str, Path]) -> Import:
    if target == "runsite" or target.startswith("runsite."):
        return Import(importer, _resolve(target, modules), line, True)
    return Import(importer, target.split(".")[0], line, False)


def _matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return module == base or module.startswith(base + ".")
    return module == pattern


def layer_of(module: str) -> tuple[str, int] | None:
    exact = [(n, r) for n, r, mods in LAYERS if module in mods]
    if exact:
        return exact[0]
    # the longest matching package pattern
    best: tuple[int, str, int] | None = None
    for n, r, mods in LAYERS:
        for pattern in mods:
            longer = best is None or len(pattern) > best[0]
            if pattern.endswith(".*") and _matches(module, pattern) and longer:
                best = (len(pattern), n, r)
    return (best[1], best[2]) if best else None


def all_imports() -> list[Import]:
    modules = all_modules()
    found = []
    for name, path in modules.items():
        found.extend(i for i in imports_of(name, path, modules) if i.target != name)
    return found


def _where(i: Import) -> str:
    path = all_modules()[i.importer].relative_to(SRC.parent)
    return f"{i.importer} ({path}:{i.line})"


def _suggest(module: str, imports: list[Import]) -> str:
    ranks = [layer_of(i.target) for i in imports if i.importer == module and i.internal]
    lowest = max((r for _, r in filter(None, ranks)), default=0)
    names = sorted({n for n, r, _ in LAYERS if r == lowest})
    return " or ".join(repr(n) for n in names)


def test_every_module_has_a_layer() -> None:
    imports = all_imports()
    missing = [m for m in all_modules() if layer_of(m) is None]
    assert not missing, "\n".join(
        f"{m} ({all_modules()[m].relative_to(SRC.parent)}) is in no layer. Add "
        f'"{m}" to LAYERS in tests/test_architecture.py, in the list of layer '
        f"{_suggest(m, imports)} (the lowest layer at or above everything it imports); "
        "docs/architecture.md, 'Where new work goes', lists the homes."
        for m in missing
    )


def test_imports_go_down_the_layers() -> None:
    bad = []
    for i in all_imports():
        if not i.internal or (i.importer, i.target) in EXCEPTIONS:
            continue
        src, dst = layer_of(i.importer), layer_of(i.target)
        if src is None or dst is None:
            continue  # reported by test_every_module_has_a_layer
        if dst[1] < src[1] or dst[0] == src[0]:
            continue
        kind = "a sibling" if dst[1] == src[1] else "a higher"
        bad.append(
            f"{_where(i)} imports {i.target}: {kind} layer ({src[0]!r} → {dst[0]!r}). "
            "A module imports only its own layer or below. Move the shared piece down "
            "(e.g. a foundation module), or let the higher layer fill an extension point "
            "in runsite/hooks.py; see docs/architecture.md."
        )
    assert not bad, "\n".join(bad)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for i in all_imports():
        if i.internal and (i.importer, i.target) not in EXCEPTIONS:
            edges.setdefault(i.importer, set()).add(i.target)
    cycles = _cycles(edges)
    assert not cycles, "\n".join(
        "import cycle (function-level and TYPE_CHECKING imports count): "
        + " ↔ ".join(c)
        + ". Break it by moving the shared piece to a lower module."
        for c in cycles
    )


def test_each_library_has_its_owner() -> None:
    bad = []
    for i in all_imports():
        if i.internal or i.target in sys.stdlib_module_names or i.target == "":
            continue
        if (i.importer, i.target) in SEAM_EXCEPTIONS:
            continue
        owners = SEAMS.get(i.target)
        if owners is None:
            bad.append(
                f"{_where(i)} imports {i.target!r}, which has no owner. Add "
                f'"{i.target}": {{"{i.importer}"}} to SEAMS in tests/test_architecture.py '
                "(one owner per library; import it inside functions unless `import runsite` "
                "needs it, and put it in an optional extra of pyproject.toml if it is "
                "feature-specific); list it in docs/architecture.md, 'Seams'."
            )
        elif not owners:
            bad.append(
                f"{_where(i)} imports {i.target!r}, which src/runsite never imports "
                "(SEAMS gives it no owner: it is a test-only oracle)."
            )
        elif not any(_matches(i.importer, o) for o in owners):
            bad.append(
                f"{_where(i)} imports {i.target!r}; only {', '.join(sorted(owners))} may. "
                "Call a function of the owner instead (or add one there); see "
                "docs/architecture.md, 'Seams'."
            )
    assert not bad, "\n".join(bad)


def test_the_exception_lists_are_short_and_justified() -> None:
    assert len(EXCEPTIONS) + len(SEAM_EXCEPTIONS) <= 1, "at most one named exception"
    for key, why in EXCEPTIONS.items():
        assert why.strip(), f"exception {key} needs its reason"
    for key, why in SEAM_EXCEPTIONS.items():
        assert why.strip(), f"seam exception {key} needs its reason"


def test_the_exceptions_are_still_needed() -> None:
    found = {(i.importer, i.target) for i in all_imports()}
    stale = [k for k in [*EXCEPTIONS, *SEAM_EXCEPTIONS] if k not in found]
    assert not stale, f"no longer needed, delete them: {stale}"


@pytest.mark.parametrize(
    ("module", "layer"),
    [("runsite.site.charts", "format and seams"), ("runsite.site.pages", "site")],
)
def test_an_exact_entry_wins_over_a_package_pattern(module: str, layer: str) -> None:
    placed = layer_of(module)
    assert placed is not None and placed[0] == layer


def test_the_checker_sees_a_function_level_upward_import(tmp_path: Path) -> None:
    # The checker itself: an upward import hidden inside a function is still found.
    source = "def f():\n    from runsite.registry import Registry\n"
    path = tmp_path / "probe.py"
    path.write_text(source)
    found = list(imports_of("runsite.store", path, all_modules()))
    assert [(i.target, i.line) for i in found] == [("runsite.registry", 2)]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_definitions(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Private name -> the modules that define it (functions, classes, module variables,
    attributes assigned on ``self``)."""
    defined: dict[str, set[str]] = {}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.append(node.name)
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    found.append(t.id)
                elif isinstance(t, ast.Attribute):
                    found.append(t.attr)
            for n in found:
                if _private(n):
                    defined.setdefault(n, set()).add(name)
    return defined


def private_crossings() -> list[str]:
    """Uses of a private name (``_x``) outside the module that defines it:
    ``from runsite.m import _x`` and ``something._x`` (``self._x``/``cls._x`` aside).
    Private modules (``runsite._flavor_api``) may be imported; their names are public."""
    modules = all_modules()
    defined = _private_definitions(modules)
    bad = []
    for name, path in modules.items():
        rel = path.relative_to(SRC.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("runsite"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    if _private(alias.name) and sub not in modules:
                        bad.append(f"{rel}:{node.lineno}: from {node.module} import {alias.name}")
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                owners = defined.get(node.attr, set())
                if owners and name not in owners:
                    bad.append(
                        f"{rel}:{node.lineno}: {ast.unparse(node)} (private to "
                        f"{', '.join(sorted(owners))})"
                    )
    return bad


def test_no_private_name_crosses_a_module_boundary() -> None:
    bad = private_crossings()
    assert not bad, "\n".join(
        f"{b}. A name used by another module is public: rename it without the leading "
        "underscore (with a docstring), or add a public function that the other module "
        "calls; see docs/architecture.md, 'The rule'."
        for b in bad
    )


def test_the_private_name_check_sees_a_crossing(tmp_path: Path, monkeypatch: Any) -> None:
    # The checker itself: a module reaching into another's private helper is found.
    pkg = tmp_path / "runsite"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def _helper():\n    return 1\n")
    (pkg / "b.py").write_text("from runsite import a\n\nx = a._helper()\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    found = private_crossings()
    assert [f.rpartition("runsite/")[2] for f in found] == [
        "b.py:3: a._helper (private to runsite.a)"
    ]
