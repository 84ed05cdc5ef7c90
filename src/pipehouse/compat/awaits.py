"""Which calls in a plugin's source are awaited, read from its syntax tree when it loads.

A table method serves the call style its caller wrote (`compat.bridge`): a coroutine for
`await Users.get_user_by_id(id)`, the value for `Users.get_user_by_id(id)`. What counts as
awaited is decided from the source, not from the bytecode around the call, so every way of
awaiting holds: `await X.m()`, `await asyncio.wait_for(X.m(), 5)`, `await asyncio.gather(X.m(),
X.n())`, `await (X.m() if a else X.n())`, `task = X.m(); ...; await task`, and a call handed to
`asyncio.create_task`/`ensure_future`/`run`. A call is found again at run time by where it ends
(line and column of its closing parenthesis), which the interpreter records for every call
instruction on every supported Python.
"""

from __future__ import annotations

import ast
import functools
import linecache
import threading
from types import CodeType, FrameType

End = tuple[int, int]

# Functions that take a coroutine (not a value) as their argument.
_TAKE_COROUTINES = frozenset(
    {
        "create_task",
        "ensure_future",
        "gather",
        "wait_for",
        "shield",
        "run",
        "run_until_complete",
        "run_coroutine_threadsafe",
        "wait",
        "as_completed",
    }
)

_known: dict[str, frozenset[End]] = {}
_lock = threading.Lock()


def _end(node: ast.AST) -> End | None:
    line, column = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    return (line, column) if line is not None and column is not None else None


def _calls_in(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _produced_calls(value: ast.AST) -> list[ast.Call]:
    """The calls whose results `value` holds as they are: `X.m()`, `[X.m(), X.n()]`,
    `[X.m(i) for i in ids]`."""
    if isinstance(value, ast.Call):
        return [value]
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return [e for e in value.elts if isinstance(e, ast.Call)]
    if isinstance(value, ast.ListComp | ast.GeneratorExp | ast.SetComp):
        return [value.elt] if isinstance(value.elt, ast.Call) else []
    return []


def _names_held(value: ast.expr) -> set[str]:
    """Names whose objects `value` is: `t`, `*tasks`, `a if c else b`, `[a, b]` (never the
    names used to compute something else, such as an argument)."""
    if isinstance(value, ast.Name):
        return {value.id}
    if isinstance(value, ast.Starred):
        return _names_held(value.value)
    if isinstance(value, ast.IfExp):
        return _names_held(value.body) | _names_held(value.orelse)
    if isinstance(value, ast.List | ast.Tuple):
        return set().union(*(_names_held(e) for e in value.elts))
    return set()


def _name_of(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def awaited_calls(tree: ast.AST) -> frozenset[End]:
    """Where every awaited call of a module ends (see the module doc)."""
    ends: set[End] = set()

    def add(calls: list[ast.Call]) -> None:
        ends.update(end for call in calls if (end := _end(call)) is not None)

    for node in ast.walk(tree):
        if isinstance(node, ast.Await):
            add(_calls_in(node.value))
        elif isinstance(node, ast.Call) and _name_of(node.func) in _TAKE_COROUTINES:
            for arg in node.args:
                add(_produced_calls(arg.value if isinstance(arg, ast.Starred) else arg))
        elif isinstance(node, ast.AsyncFunctionDef):
            # `pending = X.m()` ... `await pending` (or `gather(*pending)`) in the same function
            awaited_names: set[str] = set()
            for inner in ast.walk(node):
                if isinstance(inner, ast.Await):
                    awaited_names |= _names_held(inner.value)
                elif isinstance(inner, ast.Call) and _name_of(inner.func) in _TAKE_COROUTINES:
                    for arg in inner.args:
                        awaited_names |= _names_held(arg)
            for inner in ast.walk(node):
                if isinstance(inner, ast.Assign | ast.AnnAssign) and inner.value is not None:
                    targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                    if any(isinstance(t, ast.Name) and t.id in awaited_names for t in targets):
                        add(_produced_calls(inner.value))
    return frozenset(ends)


def learn(filename: str, tree: ast.AST) -> None:
    """Record a module's awaited calls when it loads (the plugin loader calls this; a reload
    replaces what was known)."""
    ends = awaited_calls(tree)
    with _lock:
        _known[filename] = ends


def _of_file(filename: str) -> frozenset[End] | None:
    """The awaited calls of a file not loaded as a plugin (a helper module, a test), read once;
    None when its source cannot be read."""
    with _lock:
        known = _known.get(filename)
    if known is not None:
        return known
    lines = linecache.getlines(filename)
    if not lines:
        return None
    try:
        ends = awaited_calls(ast.parse("".join(lines)))
    except (SyntaxError, ValueError):
        return None
    with _lock:
        _known.setdefault(filename, ends)
    return ends


@functools.lru_cache(maxsize=4096)
def _positions(code: CodeType) -> tuple[tuple[int | None, ...], ...]:
    return tuple(code.co_positions())


def awaited(frame: FrameType | None) -> bool | None:
    """True when the call `frame` is making right now is awaited by its source (module doc);
    None when the frame's source cannot be read (code made by `exec` of a string)."""
    if frame is None:
        return False
    code = frame.f_code
    ends = _of_file(code.co_filename)
    if ends is None:
        return None
    positions = _positions(code)
    index = frame.f_lasti // 2
    if not 0 <= index < len(positions):
        return False
    _, end_line, _, end_column = positions[index]
    return (end_line, end_column) in ends
