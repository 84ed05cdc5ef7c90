"""OpenAI function specs of a toolkit's methods (Open WebUI 0.12.4 utils/tools.py), written out by
hand."""

from __future__ import annotations

import json

import pytest

from pipehouse.plugin.tool_specs import method_spec, public_methods, runtime_spec, tool_specs

# What Open WebUI stores for tests/plugins/toolkit_specs.py. Rules applied by hand (Open WebUI
# 0.12.4 utils/tools.py):
# alphabetical order; description = docstring lines before `:param`/`:return`, each stripped,
# joined by "\n" (Pydantic drops the trailing blank line); Optional[X] -> X; `default: null`
# removed; an unannotated parameter becomes "string"; `__dunder__` parameters are absent;
# `required` lists the parameters without defaults and is absent when there are none.
EXPECTED = [
    {
        "name": "convert_units",
        "description": "Convert a value between units.",
        "parameters": {
            "type": "object",
            "properties": {
                "value": {"type": "number", "description": "The number to convert."},
                "unit": {"type": "string"},
                "to_unit": {"type": "string", "default": "m"},
            },
            "required": ["value", "unit"],
        },
    },
    {
        "name": "create_note",
        "description": "Create a note.",
        "parameters": {
            "type": "object",
            "properties": {
                # A parameter named "title" survives the removal of schema titles.
                "title": {"type": "string", "description": "The note's title."},
                "body": {"type": "string", "default": ""},
            },
            "required": ["title"],
        },
    },
    {
        "name": "get_time",
        "description": "",
        "parameters": {"type": "object", "properties": {}},
    },
    {
        "name": "search_web",
        "description": "Search the web for a query.\nReturns the top results as text.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to search for."},
                "max_results": {
                    "type": "integer",
                    "default": 5,
                    "description": "How many results\nto return at most.",
                },
                "site": {"type": "string", "description": "Restrict to one site."},
            },
            "required": ["query"],
        },
    },
    {
        "name": "tag_items",
        "description": "Tag items.",
        "parameters": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"type": "string"}},
                "flags": {"type": "array", "items": {"type": "integer"}},
            },
            "required": ["items"],
        },
    },
]


@pytest.fixture
def toolkit(load):
    return load("toolkit_specs").instance


def test_public_methods_in_dir_order(toolkit):
    # No `_helper`, no nested `Helper`/`Valves` classes, no non-callable attributes.
    names = [m.__name__ for m in public_methods(toolkit)]
    assert names == ["convert_units", "create_note", "get_time", "search_web", "tag_items"]


def test_stored_specs(toolkit):
    assert tool_specs(toolkit) == EXPECTED


@pytest.mark.parametrize("expected", EXPECTED, ids=[spec["name"] for spec in EXPECTED])
def test_each_method_spec(toolkit, expected):
    assert method_spec(getattr(toolkit, expected["name"])) == expected


def test_specs_are_plain_json(toolkit):
    assert json.loads(json.dumps(tool_specs(toolkit))) == EXPECTED


def test_runtime_description_is_raw_docstring_before_param(toolkit):
    stored = method_spec(toolkit.search_web)
    sent = runtime_spec(stored, toolkit.search_web)
    # Not stripped (Open WebUI 0.12.4 utils/tools.py, "at runtime"): leading newline and indentation
    # stay.
    # As written in the file on every Python (3.13 strips docstrings' indentation on compiling).
    assert sent["description"] == (
        "\n        Search the web for a query.\n"
        "          Returns the top results as text.\n\n        "
    )
    assert sent["description"].startswith("\n")
    assert "Search the web for a query.\n" in sent["description"]
    assert sent["description"] != sent["description"].strip()
    assert sent["parameters"] == stored["parameters"]


def test_runtime_description_without_docstring_is_the_name(toolkit):
    sent = runtime_spec(method_spec(toolkit.get_time), toolkit.get_time)
    assert sent["description"] == "get_time"


def test_runtime_spec_does_not_change_the_stored_spec(toolkit):
    stored = method_spec(toolkit.create_note)
    runtime_spec(stored, toolkit.create_note)
    assert stored == EXPECTED[1]


def test_runtime_spec_repairs_specs_stored_elsewhere(toolkit):
    # Specs saved by older versions may say "str" or list injected parameters (Open WebUI 0.12.4
    # utils/tools.py).
    stored = {
        "name": "create_note",
        "description": "old",
        "parameters": {
            "type": "object",
            "properties": {"title": {"type": "str"}, "__user__": {"type": "object"}},
            "required": ["title"],
        },
    }
    sent = runtime_spec(stored, toolkit.create_note)
    assert sent["parameters"]["properties"] == {"title": {"type": "string"}}
    assert sent["description"] == "Create a note.\n\n        "
    assert sent["description"].startswith("Create a note.\n\n")


def test_var_keyword_and_var_positional_are_required_string_parameters(load):
    # Open WebUI 0.12.4 makes every parameter but the dunder ones a field, `**kwargs` included.
    tools = load("tools_kwargs").instance
    assert method_spec(tools.scrape_page)["parameters"] == {
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "The address of the page."},
            "kwargs": {"type": "string"},
        },
        "required": ["url", "kwargs"],
    }
    assert method_spec(tools.join_words)["parameters"] == {
        "type": "object",
        "properties": {
            "words": {"type": "string"},
            "separator": {"type": "string", "default": " "},
        },
        "required": ["words"],
    }
