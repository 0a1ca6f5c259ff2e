"""A static scan of a pickle: which globals it imports, checked against what its flavor
needs, without unpickling anything.

Unpickling calls whatever callables the pickle names (``GLOBAL``/``STACK_GLOBAL``/``INST``
opcodes, then ``REDUCE``/``NEWOBJ``/``BUILD``), so the names it imports are the whole
attack surface: a pickle that imports ``os.system``, ``subprocess.Popen`` or
``builtins.eval`` runs code when loaded. The scan walks the opcodes with ``pickletools``
(a stack simulation resolves the strings ``STACK_GLOBAL`` takes) and allows a global only
when it is

* in a short exact list (safe builtins such as ``builtins.set``, ``copyreg``'s
  reconstructor, ``collections.OrderedDict``, numpy's array reconstructors …), or
* a class (or a numpy ufunc, or a library's own ``_unpickle``/``_reconstruct``/``_ctor``
  helper) defined in a library the flavor needs (scikit-learn, numpy, scipy, pandas,
  xgboost), found by importing that installed library, or
* for the ``python`` flavor, a name from the model class's own top-level package.

Anything else, extension-registry opcodes, dotted names and pickles the walk cannot
follow, is refused. Why our own walk and not picklescan or fickling: docs/security.md.
"""

from __future__ import annotations

import importlib
import pickletools
import re
from dataclasses import dataclass, field
from typing import Any

# Globals every flavor may import: plain containers and the reconstructors pickle itself
# and numpy use. Nothing here can reach the file system, a process or eval.
SAFE_GLOBALS = frozenset(
    {
        *(
            f"builtins.{n}"
            for n in [
                "bool",
                "bytearray",
                "bytes",
                "complex",
                "dict",
                "float",
                "frozenset",
                "int",
                "list",
                "object",
                "range",
                "set",
                "slice",
                "str",
                "tuple",
                "NotImplemented",
                "Ellipsis",
            ]
        ),
        "copyreg._reconstructor",
        "copyreg.__newobj__",
        "copyreg.__newobj_ex__",
        "_codecs.encode",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.deque",
        "collections.Counter",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "numpy.ma.core._mareconstruct",
        "numpy.dtype",
        "numpy.ndarray",
        "pyarrow.lib.type_for_alias",  # pandas string columns backed by Arrow
        "pyarrow.lib.py_buffer",
    }
)

# Libraries whose own classes a flavor's pickles may name.
FLAVOR_PACKAGES: dict[str, tuple[str, ...]] = {
    "sklearn": ("sklearn", "numpy", "scipy", "pandas", "pyarrow"),
    "python": ("sklearn", "numpy", "scipy", "pandas", "pyarrow", "xgboost"),
    "xgboost": ("xgboost", "sklearn", "numpy", "scipy", "pandas", "pyarrow"),
}

# Modules never allowed, even as a model's "own package" (the python flavor).
DENIED_TOP = frozenset(
    [
        "os",
        "posix",
        "nt",
        "sys",
        "subprocess",
        "builtins",
        "shutil",
        "socket",
        "importlib",
        "runpy",
        "pickle",
        "marshal",
        "types",
        "ctypes",
        "code",
        "codeop",
        "pty",
        "webbrowser",
        "operator",
        "functools",
        "io",
        "pathlib",
        "tempfile",
        "multiprocessing",
        "asyncio",
        "pdb",
        "timeit",
        "site",
        "shelve",
        "dill",
        "cloudpickle",
        "joblib",
        "torch",
        "requests",
        "urllib",
        "http",
        "ftplib",
        "smtplib",
        "telnetlib",
        "glob",
        "signal",
        "threading",
        "_thread",
        "_posixsubprocess",
        "posixpath",
        "ntpath",
        "inspect",
        "gc",
        "ast",
        "zipimport",
        "pkgutil",
        "sysconfig",
        "platform",
        "commands",
        "popen2",
        "bdb",
        "trace",
        "cProfile",
        "profile",
    ]
)

# Parts of allowed libraries that open files, URLs or processes: never allowed.
DENIED_PREFIXES = (
    "numpy.memmap",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib._datasource",
    "numpy.lib.format",
    "numpy.DataSource",
    "numpy.testing",
    "numpy.distutils",
    "numpy.f2py",
    "numpy.ctypeslib",
    "pandas.io",
    "pandas.util",
    "pandas.testing",
    "scipy.io",
    "scipy._lib._testutils",
    "sklearn.datasets",
    "sklearn.utils._testing",
    "sklearn.externals",
    "xgboost.tracker",
    "xgboost.collective",
    "xgboost.spark",
    "xgboost.dask",
    "xgboost.testing",
)

_HELPER = re.compile(r"^_{0,2}(pyx_unpickle_|unpickle|reconstruct|new_|restore|\w*_ctor$)")
_STRING_OPS = frozenset(
    [
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "UNICODE",
        "BINUNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE8",
    ]
)
_MEMO_PUT = frozenset(("PUT", "BINPUT", "LONG_BINPUT"))
_MEMO_GET = frozenset(("GET", "BINGET", "LONG_BINGET"))


@dataclass
class ScanResult:
    """What a pickle imports, and which of those imports are not allowed."""

    globals: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.refused and self.error is None

    def describe(self) -> str:
        if self.error:
            return self.error
        return "imports " + ", ".join(self.refused)


class _Mark:
    pass


_MARK = _Mark()


def pickle_globals(data: bytes) -> list[str]:
    """Every ``module.name`` a pickle imports, in order (``ValueError`` if the pickle is
    malformed or names a global through something the walk cannot follow)."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    found: list[str] = []
    for op, arg, _pos in pickletools.genops(data):
        name = op.name
        if name in ("EXT1", "EXT2", "EXT4"):
            raise ValueError(f"uses the copyreg extension registry ({name})")
        if name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            found.append(f"{module}.{attr}" if "." not in attr else f"{module}:{attr}")
        if name == "STACK_GLOBAL":
            if len(stack) < 2:
                raise ValueError("STACK_GLOBAL with an empty stack")
            attr, module = stack.pop(), stack.pop()
            if not isinstance(module, str) or not isinstance(attr, str):
                raise ValueError("STACK_GLOBAL on values that are not known strings")
            found.append(f"{module}.{attr}" if "." not in attr else f"{module}:{attr}")
            stack.append(None)
            continue
        if name in _STRING_OPS:
            stack.append(arg if isinstance(arg, str) else str(arg))
            continue
        if name == "MEMOIZE":
            if not stack:
                raise ValueError("MEMOIZE with an empty stack")
            memo[len(memo)] = stack[-1]
            continue
        if name in _MEMO_PUT:
            if not stack:
                raise ValueError(f"{name} with an empty stack")
            memo[int(arg or 0)] = stack[-1]
            continue
        if name in _MEMO_GET:
            stack.append(memo.get(int(arg or 0)))
            continue
        # Generic stack effect from pickletools' own description of the opcode.
        before = op.stack_before
        if before and before[-1] is pickletools.stackslice:
            # markobject, stackslice: pop to the last MARK (and what precedes it).
            while stack and stack[-1] is not _MARK:
                stack.pop()
            if not stack:
                raise ValueError(f"{name} without a MARK")
            stack.pop()
            extra = len(before) - 2
        else:
            extra = len(before)
        for _ in range(extra):
            if not stack:
                raise ValueError(f"{name} with too few values on the stack")
            stack.pop()
        for item in op.stack_after:
            stack.append(_MARK if item is pickletools.markobject else None)
    return found


def _resolved_ok(module: str, attr: str, packages: tuple[str, ...]) -> bool:
    """Import the installed library and check what the name really is: a class defined
    in one of ``packages``, a numpy ufunc, or the library's own unpickling helper."""
    try:
        obj: Any = importlib.import_module(module)
        obj = getattr(obj, attr)
    except Exception:  # not installed / no such name: unpickling would fail anyway
        return False
    home_module = str(getattr(obj, "__module__", "") or "")
    home = f"{home_module}.{getattr(obj, '__qualname__', attr)}"
    if home_module.split(".")[0] not in packages or home.startswith(DENIED_PREFIXES):
        return False
    if home_module.split(".")[0] == "pyarrow":  # only its unpickling helpers
        return callable(obj) and bool(_HELPER.match(attr))
    if isinstance(obj, type):
        return True
    if type(obj).__name__ == "ufunc":
        return True
    return callable(obj) and bool(_HELPER.match(attr))


def allowed(qualified: str, flavor: str, own_package: str | None = None) -> bool:
    """Whether a global (``module.name``) may appear in a pickle of ``flavor``."""
    if qualified.startswith("__builtin__."):  # protocol 2 spells builtins the Python 2 way
        qualified = "builtins." + qualified[len("__builtin__.") :]
    if qualified in SAFE_GLOBALS:
        return True
    if ":" in qualified:  # a dotted attribute path: how gadgets reach os through a module
        return False
    module, _, attr = qualified.rpartition(".")
    top = module.split(".")[0]
    if not module or top in DENIED_TOP:
        return False
    packages = FLAVOR_PACKAGES.get(flavor, FLAVOR_PACKAGES["python"])
    if top in packages:
        if qualified.startswith(DENIED_PREFIXES):
            return False
        return _resolved_ok(module, attr, packages)
    python = flavor in ("python", "python_model")
    return python and top == own_package and not attr.startswith("__")


def scan(data: bytes, flavor: str, own_class: str | None = None) -> ScanResult:
    """Scan one pickle for ``flavor``; ``own_class`` (``pkg.module.Model``) is the
    model class the manifest names (the python flavor may import its package)."""
    result = ScanResult()
    try:
        result.globals = pickle_globals(data)
    except Exception as exc:  # pickletools raises ValueError and friends on bad input
        result.error = f"cannot be scanned ({exc}); not a pickle runsite can vouch for"
        return result
    own = own_class.split(".")[0] if own_class else None
    if own in DENIED_TOP or own == "__main__":
        own = None
    for g in dict.fromkeys(result.globals):
        if not allowed(g, flavor, own):
            result.refused.append(g)
    return result
