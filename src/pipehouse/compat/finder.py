"""The import hook that serves `open_webui` (from `compat/open_webui/`) and the Pipelines
server's own modules `schemas`, `utils` and `blueprints` (from `compat/pipelines/`).

It sits at the END of `sys.meta_path`: Python asks it only after every other finder said no, so
an installed Open WebUI (or a real module named `schemas`, `utils` ...) always wins. It serves a
submodule only while the top-level package in `sys.modules` is its own, so it never adds
modules to a real package. A submodule it does not have fails at import with a
ModuleNotFoundError that names it and says what is supported, not Python's bare "No module
named".
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
import types
from importlib.machinery import ModuleSpec
from pathlib import Path

from pipehouse.compat.errors import unsupported_message

_HERE = Path(__file__).resolve().parent
# Top-level module name -> the directory holding it (as `name/` or `name.py`).
SURFACES = {
    "open_webui": _HERE,
    "schemas": _HERE / "pipelines",
    "utils": _HERE / "pipelines",
    "blueprints": _HERE / "pipelines",
}
MARKER = "__pipehouse_compat__"  # set on every module this hook serves

_lock = threading.Lock()


def is_alias(module: types.ModuleType | None) -> bool:
    """True for a module served by pipehouse (not a real Open WebUI one)."""
    return bool(getattr(module, MARKER, False))


def _source_of(fullname: str) -> tuple[Path, bool] | None:
    """The file behind `open_webui.a.b` (or `utils.pipelines.main` ...) and whether it is a
    package."""
    parts = fullname.split(".")
    if any(not part.isidentifier() for part in parts):
        return None
    base = SURFACES[parts[0]].joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    module = base.with_suffix(".py")
    if module.is_file():
        return module, False
    return None


class _Unsupported(importlib.abc.Loader):
    """Loads nothing: importing the module raises an error naming it."""

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        raise ModuleNotFoundError(unsupported_message(module.__name__), name=module.__name__)


class _Marked(importlib.abc.Loader):
    """The file's own loader, plus the marker that says pipehouse served the module."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        setattr(module, MARKER, True)
        self.inner.exec_module(module)


class OpenWebUIAlias(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: object = None,
        target: types.ModuleType | None = None,
    ) -> ModuleSpec | None:
        root = fullname.partition(".")[0]
        if root not in SURFACES:
            return None
        if fullname != root and not is_alias(sys.modules.get(root)):
            return None  # a real package of that name (or none at all): not ours to extend
        found = _source_of(fullname)
        if found is None:
            return ModuleSpec(fullname, _Unsupported())
        file, is_package = found
        # A package gets an empty `__path__`: its submodules come through this hook too (with
        # the marker), never straight from the directory through the path finder.
        spec = importlib.util.spec_from_file_location(
            fullname, file, submodule_search_locations=[] if is_package else None
        )
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Marked(spec.loader)
        return spec


def install() -> None:
    """Append the hook to `sys.meta_path` once (idempotent; safe from several threads)."""
    with _lock:
        if not any(isinstance(finder, OpenWebUIAlias) for finder in sys.meta_path):
            sys.meta_path.append(OpenWebUIAlias())
