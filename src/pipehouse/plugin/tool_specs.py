"""OpenAI function specs for the public methods of a `Tools` class, by Open WebUI's rules.

Open WebUI builds a Pydantic model per public method (alphabetical, as `dir()` lists them) from
its type hints, defaults and reST docstring (`:param name: text`), converts it to an OpenAI
function spec and cleans it (`Optional[X]` -> `X`, no `default: null`, a missing type becomes
"string"). Parameters whose names start with `__` are injected by the host and never reach the
spec. When a chat runs, the description is replaced by the raw docstring text before the first
`:param`/`:return` (Open WebUI 0.12.4 utils/tools.py); `runtime_spec` applies that step.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import Field, create_model

_PARAM = re.compile(r":param (\w+):\s*(.*)")
_SPLIT = re.compile(":(param|return)")


def public_methods(instance: object) -> list[Callable[..., Any]]:
    """The callables Open WebUI exposes as tools: public, not classes, in `dir()` order."""
    methods = []
    for name in dir(instance):
        if name.startswith("_"):
            continue
        value = getattr(instance, name)
        if callable(value) and not inspect.isclass(value):
            methods.append(value)
    return methods


def written_docstring(method: object) -> str | None:
    """A method's docstring as written in the file. Python 3.13 strips docstrings' indentation
    when it compiles them; Open WebUI (Python 3.11) sends the text with its indentation, so the
    model sees the same description whichever Python pipehouse runs on."""
    doc = method.__doc__
    if sys.version_info < (3, 13) or not doc:
        return doc
    fn = inspect.unwrap(getattr(method, "__func__", method))
    code = getattr(fn, "__code__", None)
    return (_docstring_in_source(code) if isinstance(code, types.CodeType) else None) or doc


@functools.lru_cache(maxsize=1024)
def _docstring_in_source(code: types.CodeType) -> str | None:
    try:
        source = inspect.getsource(code)
        # A method is indented: parse it inside a block, so its docstring keeps every space.
        indented = source[:1].isspace()
        node: ast.stmt = ast.parse(f"if 1:\n{source}" if indented else source).body[0]
        if indented and isinstance(node, ast.If):
            node = node.body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    return ast.get_docstring(node, clean=False)


def parse_description(docstring: str | None) -> str:
    if not docstring:
        return ""
    lines = [line.strip() for line in docstring.strip().split("\n")]
    kept = []
    for line in lines:
        if line.startswith((":param", ":return")):
            break
        kept.append(line)
    return "\n".join(kept)


def parse_param_descriptions(docstring: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    current = None
    for raw in (docstring or "").splitlines():
        line = raw.strip()
        match = _PARAM.match(line)
        if match:
            name, text = match.groups()
            current = None if name.startswith("__") else name
            if current:
                found[current] = text
            continue
        if line.startswith(":"):
            current = None
            continue
        if current and line:
            found[current] = "\n".join(filter(None, [found[current], line]))
    return found


def _deref(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.rsplit("/", 1)[-1], {})
            merged = {**_deref(target, defs), **{k: v for k, v in schema.items() if k != "$ref"}}
            return merged
        return {k: _deref(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_deref(item, defs) for item in schema]
    return schema


def _without_titles(schema: Any, *, in_properties: bool = False) -> Any:
    """Drop `title` annotations, but keep a property that happens to be named "title"."""
    if isinstance(schema, dict):
        return {
            k: _without_titles(v, in_properties=(k == "properties"))
            for k, v in schema.items()
            if in_properties or k != "title"
        }
    if isinstance(schema, list):
        return [_without_titles(item) for item in schema]
    return schema


def _clean(schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    if "anyOf" in schema:
        non_null = [t for t in schema["anyOf"] if t.get("type") != "null"]
        if len(non_null) == 1:
            schema.update(non_null[0])
            del schema["anyOf"]
        else:
            schema["anyOf"] = non_null
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    if "type" not in schema and "anyOf" not in schema and "properties" not in schema:
        schema["type"] = "string"
    for value in schema.get("properties", {}).values():
        _clean(value)
    if "items" in schema:
        _clean(schema["items"])


def method_spec(method: Callable[..., Any]) -> dict[str, Any]:
    """The stored spec of one tool method (what Open WebUI saves in `tool.specs`)."""
    hints = typing.get_type_hints(method)
    docstring = method.__doc__
    described = parse_param_descriptions(docstring)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(method).parameters.items():
        if name.startswith("_"):
            continue  # host-injected names never reach the model
        # `*args` / `**kwargs` are fields like any other, as Open WebUI 0.12.4 builds them
        # (`utils/tools.py`, convert_function_to_pydantic_model): a required `kwargs`.
        hint = hints.get(name, Any)
        default = param.default if param.default is not param.empty else ...
        text = described.get(name)
        fields[name] = (hint, Field(default, description=text)) if text else (hint, default)
    model = create_model(method.__name__, **fields)
    model.__doc__ = parse_description(docstring)
    raw = model.model_json_schema()
    raw = _deref(raw, raw.get("$defs", {}))
    raw.pop("title", None)
    description = raw.pop("description", "")
    spec = {
        "name": method.__name__,
        "description": description,
        "parameters": _without_titles(raw),
    }
    _clean(spec["parameters"])
    return spec


def tool_specs(instance: object) -> list[dict[str, Any]]:
    """Stored specs for every public method of a `Tools` instance."""
    return [method_spec(method) for method in public_methods(instance)]


def runtime_spec(spec: dict[str, Any], method: object) -> dict[str, Any]:
    """The spec as a chat sends it to the model (Open WebUI 0.12.4 utils/tools.py, "at runtime");
    `method` is the method, or anything carrying its `__doc__`."""
    spec = copy.deepcopy(spec)
    properties = spec.setdefault("parameters", {}).setdefault("properties", {})
    for value in properties.values():
        if value.get("type") == "str":
            value["type"] = "string"
    spec["parameters"]["properties"] = {
        k: v for k, v in properties.items() if not k.startswith("__")
    }
    doc = written_docstring(method)
    spec["description"] = _SPLIT.split(doc, maxsplit=1)[0] if doc and doc.strip() else spec["name"]
    return spec
