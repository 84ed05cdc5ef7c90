"""The `tools` list a request sends to a model (ToolSet.specs), written out by hand from the
rules of Open WebUI 0.12.4 utils/tools.py (`get_tools`: stored spec, runtime changes, name
collisions)."""

from __future__ import annotations

import json

from pipehouse.runtime.events import RecordingHost
from pipehouse.runtime.tools import ToolSet
from tests.conftest import USER

# tools_with_valves, then tools_clash_a and tools_clash_b (Open WebUI 0.12.4 utils/tools.py), by
# hand: `Optional[X]` ->
# X with no `default: null`; `__dunder__` parameters absent; `required` lists the parameters
# without defaults; a later toolkit's clashing `lookup` becomes `tools_clash_b_lookup` (the
# spec's name changes, nothing else does); each function is wrapped as {"type": "function"}.
# Descriptions are the stored ones (docstring lines before `:param`, stripped): Open WebUI sends
# the raw docstring text instead, whitespace and all (see docs/compatibility.md, "Tools").
EXPECTED = [
    {
        "type": "function",
        "function": {
            "name": "report",
            # the raw docstring up to `:param`, not stripped (Open WebUI 0.12.4 utils/tools.py, "at
            # runtime")
            "description": "Report what this call received.\n\n        ",
            "parameters": {
                "type": "object",
                "properties": {
                    "topic": {"type": "string", "description": "Anything."},
                    "count": {"type": "integer", "default": 1, "description": "How many."},
                    "limit": {"type": "integer"},
                    "label": {"type": "string"},
                },
                "required": ["topic"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a key up in A.",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string"}},
                "required": ["key"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "only_a",
            "description": "Only in A.",
            "parameters": {"type": "object", "properties": {}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "tools_clash_b_lookup",
            "description": "Look a key up in B.",
            "parameters": {
                "type": "object",
                "properties": {"key": {"type": "string"}},
                "required": ["key"],
            },
        },
    },
]


async def build(harness, tool_ids) -> ToolSet:
    async def context_for(info):
        return await harness.runtime.call_context(info, USER, metadata={}, host=RecordingHost())

    return await ToolSet.build(tool_ids, harness.catalog, harness.executor, context_for)


async def specs_of(harness, *names: str) -> list[dict]:
    for name in names:
        await harness.add(name)
    return (await build(harness, names)).specs


async def test_sent_specs(harness):
    specs = await specs_of(harness, "tools_with_valves", "tools_clash_a", "tools_clash_b")
    assert specs == EXPECTED
    assert json.loads(json.dumps(specs)) == EXPECTED


async def test_a_function_without_docstring_is_described_by_its_name(harness):
    specs = await specs_of(harness, "tools_returns")
    described = {spec["function"]["name"]: spec["function"]["description"] for spec in specs}
    assert described["give_dict"] == "give_dict"


async def test_toolkit_order_decides_which_function_is_renamed(harness):
    specs = await specs_of(harness, "tools_clash_b", "tools_clash_a")
    names = [spec["function"]["name"] for spec in specs]
    assert names == ["lookup", "tools_clash_a_lookup", "only_a"]
    assert specs[0]["function"]["description"] == "Look a key up in B."


async def test_building_does_not_change_the_stored_specs(harness):
    await specs_of(harness, "tools_clash_a", "tools_clash_b")
    stored = harness.catalog.get("tools_clash_b").info.tool_specs
    assert stored[0]["name"] == "lookup"
    assert stored[0]["description"] == "Look a key up in B."
