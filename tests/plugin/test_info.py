"""`describe()`: what a loaded plugin offers, as the plain data the rest of pipehouse sees."""

from __future__ import annotations

import json

import pytest

from pipehouse.plugin.info import describe
from pipehouse.plugin.kinds import PluginKind


@pytest.fixture
def info(load):
    return lambda name: describe(load(name))


def test_pipe(info):
    described = info("kind_pipe")
    assert (described.kind, described.name, described.hooks) == (
        PluginKind.PIPE,
        "Plain pipe",
        ["pipe"],
    )
    assert described.is_manifold is False
    assert (described.has_valves, described.has_user_valves) == (False, False)
    assert described.valves_defaults is None
    assert described.default_priority == 0


@pytest.mark.parametrize("name", ["kind_manifold_list", "kind_manifold_method"])
def test_pipes_list_or_method_makes_a_manifold(info, name):
    described = info(name)
    assert described.is_manifold is True
    assert described.hooks == ["pipe", "pipes"]


def test_filter_hooks_flags_and_priority(info):
    described = info("kind_filter_toggle")
    assert described.kind is PluginKind.FILTER
    assert described.hooks == ["inlet", "stream", "outlet"]  # no `request` hook defined
    assert (described.toggle, described.file_handler) == (True, True)
    assert described.valves_defaults == {"priority": 5, "prefix": ">> "}
    assert described.default_priority == 5
    assert described.icon == "data:image/svg+xml;base64,PHN2Zy8+"


def test_plain_filter_has_no_flags(info):
    described = info("kind_filter")
    assert described.hooks == ["inlet", "outlet"]
    assert (described.toggle, described.file_handler) == (False, False)


def test_action_lists_its_sub_actions(info):
    described = info("kind_action")
    assert described.hooks == ["action"]
    assert described.actions == [
        {"id": "summarize", "name": "Summarize"},
        {"id": "translate", "name": "Translate"},
    ]


def test_event_function(info):
    described = info("kind_event")
    assert (described.kind, described.hooks) == (PluginKind.EVENT, ["event"])


def test_toolkit_carries_specs_and_citation(info):
    described = info("toolkit_specs")
    assert described.kind is PluginKind.TOOLS
    assert [spec["name"] for spec in described.tool_specs] == [
        "convert_units",
        "create_note",
        "get_time",
        "search_web",
        "tag_items",
    ]
    assert described.citation is True
    assert described.secret_valves == ["api_key"]


def test_valves_schemas_and_secrets(info):
    described = info("valves_secrets")
    assert described.has_valves is True
    assert described.valves_schema["title"] == "Valves"
    assert "OPENAI_API_KEY" in described.secret_valves
    assert "model" not in described.secret_valves


def test_requirements_and_missing_requirements(info):
    described = info("load_declares_requirements")
    assert described.requirements == ["pydantic>=2", "pipehouse-fixture-absent-pkg>=1.0"]
    assert described.missing_requirements == ["pipehouse-fixture-absent-pkg>=1.0"]


@pytest.mark.parametrize(
    ("name", "pipeline_type", "is_manifold", "hooks"),
    [
        ("kind_pipeline", "pipe", False, ["pipe", "on_startup"]),
        ("kind_pipeline_typed_pipe", "pipe", False, ["pipe"]),
        ("kind_pipeline_manifold", "manifold", True, ["pipe", "pipelines"]),
        ("kind_pipeline_filter", "filter", False, ["inlet", "outlet"]),
    ],
)
def test_pipelines_file_type(info, name, pipeline_type, is_manifold, hooks):
    # `type` absent or "pipe" is served as a pipe (A.5; the Pipelines server would drop "pipe").
    described = info(name)
    assert described.kind is PluginKind.PIPELINE
    assert (described.pipeline_type, described.is_manifold) == (pipeline_type, is_manifold)
    assert described.hooks == hooks


def test_description_is_json_able(info):
    data = info("valves_select_options").to_dict()
    assert json.loads(json.dumps(data))["id"] == "valves_select_options"
