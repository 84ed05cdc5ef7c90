"""Pipelines-server files (`class Pipeline`): pipes, manifolds, filters and lifecycle hooks
(the Pipelines server's main.py; docs/pipelines.md)."""

from __future__ import annotations

import json

import pytest

from pipehouse.runtime.errors import ModelNotFound
from tests.conftest import USER, content_of
from tests.runtime.helpers import assert_well_formed, message

PIPELINES_USER = {k: USER[k] for k in ("name", "id", "email", "role")}


async def test_plain_pipeline_is_a_model_called_with_its_four_arguments(harness):
    await harness.add("pipeline_pipe")
    assert [m["id"] for m in await harness.runtime.models()] == ["pipeline_pipe"]
    body = harness.body("pipeline_pipe", chat_id="chat-1")
    body["messages"] = [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": [{"type": "text", "text": "first part"}, {"type": "x"}]},
    ]
    got = json.loads(message(await harness.complete(body))["content"])
    # the Pipelines server: user_message is the last user message's (first) text part; model_id the
    # pipe id
    assert got["user_message"] == "first part"
    assert got["model_id"] == "pipeline_pipe"
    assert got["messages"] == body["messages"]
    # body["user"] = {name, id, email, role}, as Open WebUI adds for Pipelines models; no metadata
    assert got["user"] == PIPELINES_USER
    assert got["has_metadata"] is False


async def test_plain_pipeline_streams(harness):
    await harness.add("pipeline_pipe")
    payloads = await harness.stream(harness.body("pipeline_pipe", prompt="hi there"))
    assert_well_formed(payloads)
    assert json.loads(content_of(payloads))["user_message"] == "hi there"


async def test_pipeline_returning_a_sync_generator(harness):
    await harness.add("pipeline_generator")
    payloads = await harness.stream(harness.body("pipeline_generator", prompt="ping"))
    assert_well_formed(payloads)
    assert content_of(payloads) == "echo: ping"
    result = await harness.complete(harness.body("pipeline_generator", prompt="ping"))
    assert message(result)["content"] == "echo: ping"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "pipeline_manifold_list",
            {
                "pipeline_manifold_list.small": "PL: Small",
                "pipeline_manifold_list.large": "PL: Large",
            },
        ),
        ("pipeline_manifold_callable", {"pipeline_manifold_callable.m1": "Callable: Model One"}),
    ],
)
async def test_manifold_pipelines_are_listed_as_id_dot_sub_with_prefixed_names(
    harness, name, expected
):
    # the Pipelines server: "<module_id>.<sub_id>", named module.name + sub.name with no separator.
    await harness.add(name)
    assert {m["id"]: m["name"] for m in await harness.runtime.models()} == expected


async def test_manifold_pipe_gets_the_sub_id_as_model_id(harness):
    # the Pipelines server: model_id is the sub id; body["model"] keeps the full id as it was
    # requested.
    await harness.add("pipeline_manifold_list")
    await harness.add("pipeline_manifold_callable")
    result = await harness.complete(harness.body("pipeline_manifold_list.large"))
    assert message(result)["content"] == "model_id=large body.model=pipeline_manifold_list.large"
    result = await harness.complete(harness.body("pipeline_manifold_callable.m1"))
    assert message(result)["content"] == "model_id=m1"
    with pytest.raises(ModelNotFound):
        await harness.complete(harness.body("pipeline_manifold_list.huge"))


async def test_filter_pipeline_is_not_a_model(harness):
    await harness.add("pipeline_filter")
    await harness.add("returns_str")
    assert [m["id"] for m in await harness.runtime.models()] == ["returns_str"]


async def test_filter_targeting_every_model_runs_inlet_and_outlet(harness):
    # The canonical Pipelines filter sets `self.valves = Valves(pipelines=["*"])` in __init__;
    # the instance's valves are what the Pipelines server reports and schedules by (its main.py).
    await harness.add("pipeline_filter")
    await harness.add("filter_answers_trail")
    result = await harness.complete(harness.body("filter_answers_trail"))
    assert message(result)["content"] == "trail=pipeline_filter:Ada<pipeline_filter>"


async def test_filter_targeting_a_list_applies_only_to_those_models(harness):
    await harness.add("pipeline_filter")
    await harness.add("filter_answers_trail")
    await harness.add("pipeline_pipe")
    harness.store.by_plugin["pipeline_filter"] = {"pipelines": ["filter_answers_trail"]}
    targeted = await harness.complete(harness.body("filter_answers_trail"))
    assert message(targeted)["content"] == "trail=pipeline_filter:Ada<pipeline_filter>"
    other = json.loads(message(await harness.complete(harness.body("pipeline_pipe")))["content"])
    assert other["trail"] == []


async def test_filters_run_in_priority_order(harness):
    await harness.add("pipeline_filter", plugin_id="pf_1")
    await harness.add("pipeline_filter", plugin_id="pf_2")
    await harness.add("filter_answers_trail")
    result = await harness.complete(harness.body("filter_answers_trail"))
    assert message(result)["content"] == "trail=pf_1:Ada,pf_2:Ada<pf_1><pf_2>"  # ties: by id
    harness.store.by_plugin["pf_2"] = {"priority": -1}  # the Pipelines server: lower runs first
    result = await harness.complete(harness.body("filter_answers_trail"))
    assert message(result)["content"] == "trail=pf_2:Ada,pf_1:Ada<pf_2><pf_1>"


async def test_a_pipeline_pipes_own_inlet_runs_last_and_own_outlet_first(harness):
    # the Pipelines server: the model's own Pipelines file is appended to the inlet chain and leads
    # the outlets.
    await harness.add("pipeline_filter")
    await harness.add("pipeline_own_filters")
    result = await harness.complete(harness.body("pipeline_own_filters"))
    assert message(result)["content"] == "trail=pipeline_filter:Ada,own<own><pipeline_filter>"


@pytest.mark.inline_only("reads what the plugin instance recorded")
async def test_lifecycle_hooks(harness):
    # the Pipelines server: on_startup is awaited at load; on_valves_updated when stored valves
    # change
    # (the Pipelines server skips it after the initial load, pipelines#271); on_shutdown at
    # unload.
    await harness.add("pipeline_lifecycle")
    first = await harness.complete(harness.body("pipeline_lifecycle"))
    assert message(first)["content"] == "hello | startup"
    harness.store.by_plugin["pipeline_lifecycle"] = {"greeting": "hi"}
    changed = await harness.complete(harness.body("pipeline_lifecycle"))
    assert message(changed)["content"] == "hi | startup,valves_updated:hi"
    same = await harness.complete(harness.body("pipeline_lifecycle"))
    assert message(same)["content"] == "hi | startup,valves_updated:hi"  # unchanged: no call
    instance = harness.executor.loaded("pipeline_lifecycle").instance
    await harness.executor.unload("pipeline_lifecycle")
    assert instance.calls == ["startup", "valves_updated:hi", "shutdown"]


async def test_pipelines_filters_and_the_models_own_hooks_run_before_functions_filters(harness):
    # Open WebUI 0.12.4 (utils/middleware.py, `process_chat_payload` and `outlet_filter_handler`)
    # calls the Pipelines server's inlets (filters, then the model's own) before its Functions
    # inlets, and the Pipelines outlets (the model's own first) before the Functions outlets,
    # whatever the priorities.
    await harness.add("filter_trail_first_by_default")  # a Functions filter with priority -1
    await harness.add("pipeline_filter")
    await harness.add("pipeline_own_filters")
    result = await harness.complete(harness.body("pipeline_own_filters"))
    assert message(result)["content"] == (
        "trail=pipeline_filter:Ada,own,filter_trail_first_by_default"
        "<own><pipeline_filter><filter_trail_first_by_default>"
    )


async def test_a_stored_valve_taken_away_falls_back_to_what_init_set(harness):
    await harness.add("pipeline_reports_valves")
    body = harness.body("pipeline_reports_valves")
    harness.store.by_plugin["pipeline_reports_valves"] = {"greeting": "stored"}
    assert message(await harness.complete(body))["content"] == "stored"
    harness.store.by_plugin["pipeline_reports_valves"] = {}  # the admin cleared it
    assert message(await harness.complete(body))["content"] == "set in __init__"
