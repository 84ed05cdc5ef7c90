"""What a loaded plugin offers, as plain data: the description that crosses the executor line."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel

from pipehouse.plugin import valves
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.loader import LoadedPlugin
from pipehouse.plugin.requirements import missing_requirements
from pipehouse.plugin.tool_specs import public_methods, tool_specs, written_docstring

HOOKS = {
    PluginKind.PIPE: ("pipe", "pipes"),
    PluginKind.FILTER: ("inlet", "request", "stream", "outlet"),
    PluginKind.ACTION: ("action",),
    PluginKind.EVENT: ("event",),
    PluginKind.TOOLS: (),
    PluginKind.PIPELINE: (
        "pipe",
        "pipelines",
        "inlet",
        "outlet",
        "on_startup",
        "on_shutdown",
        "on_valves_updated",
    ),
}


@dataclass
class PluginInfo:
    id: str
    kind: PluginKind
    name: str
    description: str
    path: str
    content_hash: str
    frontmatter: dict[str, str]
    requirements: list[str]
    missing_requirements: list[str]
    hooks: list[str]
    valves_schema: dict[str, Any] | None = None
    user_valves_schema: dict[str, Any] | None = None
    valves_defaults: dict[str, Any] | None = None
    secret_valves: list[str] = field(default_factory=list)
    secret_user_valves: list[str] = field(default_factory=list)
    toggle: bool = False
    file_handler: bool = False
    icon: str | None = None
    is_manifold: bool = False
    pipeline_type: str | None = None
    actions: list[dict[str, Any]] | None = None
    tool_specs: list[dict[str, Any]] = field(default_factory=list)
    # each tool method's raw docstring: a chat sends it, unstripped, as the description (Open WebUI
    # 0.12.4 utils/tools.py, `get_tools`)
    tool_docstrings: dict[str, str | None] = field(default_factory=dict)
    citation: bool = False

    @cached_property  # asked once per plugin call: kept after the first time
    def has_valves(self) -> bool:
        return self.valves_schema is not None

    @cached_property
    def has_user_valves(self) -> bool:
        return self.user_valves_schema is not None

    @property
    def default_priority(self) -> int:
        value = (self.valves_defaults or {}).get("priority", 0)
        return value if isinstance(value, int) else 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _defaults(cls: type | None) -> dict[str, Any] | None:
    if cls is None:
        return None
    try:
        return cls().model_dump(mode="json")
    except Exception:  # required fields without defaults: there are no defaults to show
        return None


def _pipeline_valves(instance: Any) -> dict[str, Any] | None:
    """A Pipelines file's valves start from its instance (often set in `__init__`, e.g.
    `pipelines=["*"]`), not from the class defaults: the Pipelines server reads them there."""
    current = getattr(instance, "valves", None)
    return current.model_dump(mode="json") if isinstance(current, BaseModel) else None


def _has_hook(plugin: LoadedPlugin, hook: str) -> bool:
    if hook in ("pipes", "pipelines"):  # a list or a method: both make a manifold
        return hasattr(plugin.instance, hook)
    return plugin.handler(hook) is not None


def describe(plugin: LoadedPlugin) -> PluginInfo:
    instance = plugin.instance
    kind = plugin.kind
    pipeline_type = None
    if kind is PluginKind.PIPELINE:
        declared = getattr(instance, "type", None)
        pipeline_type = declared if declared in ("manifold", "filter") else "pipe"
    actions = getattr(instance, "actions", None) if kind is PluginKind.ACTION else None
    icon = (
        plugin.frontmatter.get("icon_url")
        or getattr(instance, "icon_url", None)
        or getattr(instance, "icon", None)
    )
    valves_class = plugin.valves_class
    return PluginInfo(
        id=plugin.id,
        kind=kind,
        name=plugin.name,
        description=plugin.description,
        path=plugin.path,
        content_hash=plugin.content_hash,
        frontmatter=plugin.frontmatter,
        requirements=[r.text for r in plugin.requirements],
        missing_requirements=[r.text for r in missing_requirements(plugin.requirements)],
        hooks=[hook for hook in HOOKS[kind] if _has_hook(plugin, hook)],
        valves_schema=valves.schema(valves_class),
        user_valves_schema=valves.schema(plugin.user_valves_class),
        valves_defaults=(
            (_pipeline_valves(instance) if kind is PluginKind.PIPELINE else None)
            or _defaults(valves_class)
        ),
        secret_valves=sorted(valves.secret_fields(valves_class)),
        secret_user_valves=sorted(valves.secret_fields(plugin.user_valves_class)),
        toggle=kind is PluginKind.FILTER and bool(getattr(instance, "toggle", False)),
        file_handler=bool(getattr(instance, "file_handler", False)),
        icon=icon if isinstance(icon, str) else None,
        is_manifold=(kind is PluginKind.PIPE and hasattr(instance, "pipes"))
        or pipeline_type == "manifold",
        pipeline_type=pipeline_type,
        actions=[dict(a) for a in actions] if isinstance(actions, list | tuple) else None,
        tool_specs=tool_specs(instance) if kind is PluginKind.TOOLS else [],
        tool_docstrings=(
            {m.__name__: written_docstring(m) for m in public_methods(instance)}
            if kind is PluginKind.TOOLS
            else {}
        ),
        citation=bool(getattr(instance, "citation", False)) if kind is PluginKind.TOOLS else False,
    )
