"""Source text -> a live plugin instance, the way Open WebUI 0.12.4 loads Functions and Tools.

The module runs under the stable name `function_<id>` / `tool_<id>` (a Pipelines file under its
own id, as the Pipelines server names it), stays registered in `sys.modules` so `dataclasses`,
`pickle` and `typing.get_type_hints` work, and keeps a real `__file__`: tracebacks point at the
plugin's own lines. What can go wrong (syntax, no plugin class, a missing module, an exception in
`__init__`) comes back as a `PluginLoadError` that says which file, which line and what to do.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import linecache
import re
import sys
import tempfile
import threading
import types
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from pipehouse.compat import install as install_open_webui_alias
from pipehouse.compat import is_alias
from pipehouse.compat.awaits import learn as learn_awaited_calls
from pipehouse.envs.distributions import package_for_module
from pipehouse.plugin.errors import PluginLoadError
from pipehouse.plugin.frontmatter import parse_docstring_frontmatter, parse_frontmatter
from pipehouse.plugin.handlers import Handler
from pipehouse.plugin.imports import rewrite_imports
from pipehouse.plugin.kinds import CLASS_OF_KIND, PluginKind, kind_from_class_names
from pipehouse.plugin.requirements import PluginRequirement, parse_requirements

_ID_CLEAN = re.compile(r"[^0-9a-zA-Z_]")
_NO_CLASS_HINT = (
    "define one of the classes Open WebUI loads: Pipe, Filter, Action or Event (a Function), "
    "Tools (a toolkit), or Pipeline (a Pipelines-server file)"
)


def plugin_id_from_path(path: str | Path) -> str:
    """The id Open WebUI would accept for a file: its stem as an identifier, lowercased."""
    stem = _ID_CLEAN.sub("_", Path(path).stem).lower()
    return stem if stem[:1].isalpha() or stem[:1] == "_" else f"p_{stem}"


@dataclass
class LoadedPlugin:
    """A plugin instance and what was learned while loading it."""

    id: str
    kind: PluginKind
    instance: Any
    module: types.ModuleType
    path: str
    source: str
    frontmatter: dict[str, str]
    requirements: list[PluginRequirement]
    content_hash: str
    _handlers: dict[str, Handler | None] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """Display name: a Pipelines file's `name` (the Pipelines server reads only that), else
        the frontmatter title, else the id."""
        own = getattr(self.instance, "name", None)
        if self.kind is PluginKind.PIPELINE and isinstance(own, str) and own:
            return own
        return self.frontmatter.get("title") or self.id

    @property
    def description(self) -> str:
        return self.frontmatter.get("description", "")

    def handler(self, method: str) -> Handler | None:
        """The instance's callable `method`, with its signature, or None when it has none."""
        if method not in self._handlers:
            fn = getattr(self.instance, method, None)
            self._handlers[method] = Handler.of(fn, method) if callable(fn) else None
        return self._handlers[method]

    @cached_property
    def valves_class(self) -> type | None:
        """`Valves`, applied only when the instance also has a `valves` attribute (Open WebUI)."""
        cls = getattr(self.instance, "Valves", None)
        return cls if isinstance(cls, type) and hasattr(self.instance, "valves") else None

    @cached_property
    def user_valves_class(self) -> type | None:
        cls = getattr(self.instance, "UserValves", None)
        return cls if isinstance(cls, type) else None


def _top_level_classes(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _missing_module_hint(missing: str, requirements: list[PluginRequirement]) -> str:
    top = missing.split(".", 1)[0]
    if top == "open_webui":
        return (
            f"the plugin imports {missing}, an Open WebUI internal that pipehouse does not "
            "provide yet; see docs/compatibility.md"
        )
    if top != "open_webui" and is_alias(sys.modules.get(top)):
        return (
            f"the plugin imports {missing}, a module of the Pipelines server that pipehouse "
            "does not provide; see docs/compatibility.md"
        )
    # The same words reach the admin API, `serve`, `inspect` and `run`: all of them install
    # what a plugin declares into its own environment (docs/isolation.md).
    package = package_for_module(missing)
    declared = [r.text for r in requirements if r.valid]
    if declared:
        return (
            f"the module '{top}' is not installed; the plugin declares requirements "
            f"{', '.join(declared)}, which do not provide it: add the package that does "
            f"(likely `{package}`) to its `requirements:` line"
        )
    return (
        f"the module '{top}' is not installed and Open WebUI does not ship it either: declare "
        f"the package that provides it in the plugin's frontmatter (likely `requirements: "
        f"{package}`); pipehouse installs it into the plugin's own environment"
    )


def _source_file(source: str, module_name: str, digest: str, cache_dir: Path | None) -> str:
    """A file holding exactly the executed source, so `__file__` and tracebacks keep working."""
    directory = cache_dir or Path(tempfile.gettempdir()) / "pipehouse-plugins"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{module_name}-{digest[:12]}.py"
    if not target.exists():
        target.write_text(source, encoding="utf-8")
    return str(target)


def load_plugin(
    source: str,
    plugin_id: str,
    *,
    path: str | Path | None = None,
    kind: PluginKind | None = None,
    cache_dir: Path | None = None,
) -> LoadedPlugin:
    """Execute a plugin's source and instantiate its class (raises `PluginLoadError`)."""
    install_open_webui_alias()  # `open_webui.*` imports, unless a real Open WebUI is installed
    source = source.removeprefix("\ufeff")  # a byte-order mark is not Python
    digest = hashlib.sha256(source.encode()).hexdigest()
    shown_path = str(path) if path else None

    def fail(exc: BaseException | None, message: str, hint: str | None, **kw: Any) -> NoReturn:
        if exc is None:
            raise PluginLoadError(
                plugin_id=plugin_id,
                message=message,
                path=shown_path,
                hint=hint,
                stage="load",
                **kw,
            )
        error = PluginLoadError.from_exception(
            exc, plugin_id=plugin_id, path=shown_path, stage="load", hint=hint
        )
        raise error from exc

    try:
        tree = ast.parse(source, filename=shown_path or f"<{plugin_id}>")
    except SyntaxError as exc:
        fail(
            exc,
            str(exc),
            "fix the syntax error at the line shown; pipehouse runs Python "
            f"{sys.version_info.major}.{sys.version_info.minor}",
        )
    declared = _top_level_classes(tree)
    # The kind decides the module name and the frontmatter rules, so it is read from the syntax
    # tree first; after execution the module's real classes have the last word.
    guessed = kind or kind_from_class_names(declared) or PluginKind.PIPE
    is_pipeline = guessed is PluginKind.PIPELINE
    frontmatter = parse_docstring_frontmatter(source) if is_pipeline else parse_frontmatter(source)
    requirements = parse_requirements(frontmatter.get("requirements"))
    executed = source if is_pipeline else rewrite_imports(source)
    module_name = plugin_id if is_pipeline else f"{guessed.module_prefix}{plugin_id}"
    if shown_path is None or executed != source:
        file_path = _source_file(executed, module_name, digest, cache_dir)
    else:
        file_path = shown_path
    shown_path = shown_path or file_path

    module = types.ModuleType(module_name)
    module.__file__ = file_path
    previous = sys.modules.get(module_name)
    if is_pipeline and not _free_module_name(module_name, previous):
        # A Pipelines file named like a real package (openai.py) must not replace it for
        # everyone; it keeps its name but stays out of sys.modules, as on the Pipelines server.
        previous, module_name = None, f"pipehouse_pipeline_{module_name}"
    sys.modules[module_name] = module
    linecache.cache[file_path] = (len(executed), None, executed.splitlines(True), file_path)
    try:
        # Rewriting keeps line numbers, so tracebacks can name the file the author edits.
        # `dont_inherit`: the plugin gets its own `__future__` flags only, not this module's
        # `annotations` (Open WebUI 0.12.4 `utils/plugin.py` runs `exec` on the plain text).
        code = compile(executed, shown_path, "exec", dont_inherit=True)
        # Which of its calls the plugin awaits: `open_webui` table methods serve that style.
        learn_awaited_calls(shown_path, tree)
        exec(code, module.__dict__)
    except ModuleNotFoundError as exc:
        _restore(module_name, previous)
        fail(exc, str(exc), _missing_module_hint(exc.name or str(exc), requirements))
    except BaseException as exc:  # `sys.exit()` at import too: one bad file stops nothing else
        _restore(module_name, previous)
        if _interrupted(exc):
            raise
        fail(exc, str(exc), "the module raised while it was being executed (at import time)")

    classes = {name for name, value in vars(module).items() if isinstance(value, type)}
    kind = kind or kind_from_class_names(classes)
    class_name = CLASS_OF_KIND[kind] if kind else None
    plugin_class = getattr(module, class_name, None) if class_name else None
    if kind is None or not isinstance(plugin_class, type):
        _restore(module_name, previous)
        hint = _NO_CLASS_HINT
        if "Function" in declared:
            hint += " (Open WebUI has no `class Function`; rename it to the kind it is)"
        message = "No plugin class found in the module"
        found = kind_from_class_names(classes)
        if class_name and found is not None:  # the caller asked for a kind the file is not
            message = (
                f"No {class_name} class found in the module (it defines {CLASS_OF_KIND[found]})"
            )
            hint = f"this place takes a {class_name} class; a {found.value} belongs elsewhere"
        fail(None, message, hint, error_type="NoPluginClass")

    try:
        instance = plugin_class()
    except BaseException as exc:
        _restore(module_name, previous)
        if _interrupted(exc):
            raise
        fail(
            exc,
            str(exc),
            f"{class_name}() raised in __init__; Open WebUI calls it with no arguments",
        )

    return LoadedPlugin(
        id=plugin_id,
        kind=kind,
        instance=instance,
        module=module,
        path=shown_path,
        source=executed,
        frontmatter=frontmatter,
        requirements=requirements,
        content_hash=digest,
    )


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C, which only the main thread receives; elsewhere (the server loads plugins on
    worker threads) a `KeyboardInterrupt`, like a `SystemExit`, is the plugin's own doing."""
    on_main = threading.current_thread() is threading.main_thread()
    return isinstance(exc, KeyboardInterrupt) and on_main


_OWN_MODULES: set[str] = set()


def _free_module_name(name: str, current: types.ModuleType | None) -> bool:
    """True when `name` is ours to register: unused, or held by an earlier load of a plugin."""
    if current is not None:
        return name in _OWN_MODULES
    try:
        taken = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        taken = True
    if not taken:
        _OWN_MODULES.add(name)
    return not taken


def _restore(module_name: str, previous: types.ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(module_name, None)
    else:
        sys.modules[module_name] = previous


def load_plugin_file(
    path: str | Path, *, plugin_id: str | None = None, kind: PluginKind | None = None
) -> LoadedPlugin:
    """Load a plugin from a file; its id defaults to the file name, as directory plugins get."""
    file = Path(path).resolve()
    try:
        source = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PluginLoadError(
            plugin_id=plugin_id or plugin_id_from_path(file),
            message=f"cannot read {file}: {exc.strerror}",
            path=str(file),
            error_type=type(exc).__name__,
            stage="load",
        ) from exc
    return load_plugin(source, plugin_id or plugin_id_from_path(file), path=file, kind=kind)
