"""The kinds of plugin file pipehouse runs, and how a file's kind is recognised."""

from __future__ import annotations

from enum import StrEnum


class PluginKind(StrEnum):
    PIPE = "pipe"
    FILTER = "filter"
    ACTION = "action"
    EVENT = "event"
    TOOLS = "tools"
    PIPELINE = "pipeline"  # a Pipelines-server file (`class Pipeline`)

    @property
    def is_function(self) -> bool:
        """Open WebUI stores these as Functions (as opposed to Tools or Pipelines files)."""
        return self in (PluginKind.PIPE, PluginKind.FILTER, PluginKind.ACTION, PluginKind.EVENT)

    @property
    def module_prefix(self) -> str:
        return "tool_" if self is PluginKind.TOOLS else "function_"


class PluginTable(StrEnum):
    """Which of Open WebUI's two tables keeps a plugin: Functions (pipes, filters, actions and
    Pipelines files) or Tools. They share one id space; user valves live in the user's settings
    under "functions" or "tools"."""

    FUNCTION = "function"
    TOOL = "tool"

    @property
    def settings_branch(self) -> str:
        return "tools" if self is PluginTable.TOOL else "functions"

    @property
    def other(self) -> PluginTable:
        return PluginTable.FUNCTION if self is PluginTable.TOOL else PluginTable.TOOL


# Open WebUI checks the Functions classes in this order; the first one present wins.
FUNCTION_CLASSES: tuple[tuple[str, PluginKind], ...] = (
    ("Pipe", PluginKind.PIPE),
    ("Filter", PluginKind.FILTER),
    ("Action", PluginKind.ACTION),
    ("Event", PluginKind.EVENT),
)
CLASS_OF_KIND = {kind: name for name, kind in FUNCTION_CLASSES} | {
    PluginKind.TOOLS: "Tools",
    PluginKind.PIPELINE: "Pipeline",
}


def kind_from_class_names(names: set[str]) -> PluginKind | None:
    """Pick the kind Open WebUI (then the Pipelines server) would load a module as."""
    for class_name, kind in FUNCTION_CLASSES:
        if class_name in names:
            return kind
    if "Tools" in names:
        return PluginKind.TOOLS
    if "Pipeline" in names:
        return PluginKind.PIPELINE
    return None
