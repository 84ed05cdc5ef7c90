"""Manifold pipes: sub-models from `pipes`, their ids and names, and how they are called
(Open WebUI 0.12.4 functions.py item 4)."""

from __future__ import annotations

import threading

import pytest

from pipehouse.runtime.errors import ModelNotFound
from tests.runtime.helpers import message


async def listed(harness) -> dict[str, str]:
    return {m["id"]: m["name"] for m in await harness.runtime.models()}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # a list attribute; names get `self.name` by plain concatenation (no separator added)
        (
            "manifold_list",
            {"manifold_list.alpha": "List/Alpha", "manifold_list.beta": "List/Beta"},
        ),
        # a sync method
        (
            "manifold_sync_method",
            {"manifold_sync_method.one": "Sync: One", "manifold_sync_method.two": "Sync: Two"},
        ),
        # an async method, and no `name` attribute: names are left as they are
        ("manifold_async_method", {"manifold_async_method.gpt-x": "GPT X"}),
    ],
)
async def test_sub_models_are_listed_as_pipe_id_dot_sub_id(harness, name, expected):
    await harness.add(name)
    assert await listed(harness) == expected


async def test_listed_models_have_open_webui_model_shape(harness):
    await harness.add("manifold_list")
    model = (await harness.runtime.models())[0]
    assert model["object"] == "model"
    assert model["owned_by"] == "openai"
    # Open WebUI sends a model marked `pipe` to a Function of its own: pipehouse's models must
    # not carry the mark, or Open WebUI attached to pipehouse answers "Function not found"
    assert "pipe" not in model
    assert model["has_user_valves"] is False


@pytest.mark.parametrize(
    "model_id", ["manifold_list.alpha", "manifold_sync_method.two", "manifold_async_method.gpt-x"]
)
async def test_pipe_receives_the_full_prefixed_model_id(harness, model_id):
    # functions.py (0.12.4): body["model"] is not rewritten; the pipe gets "pipe_id.sub_id".
    await harness.add(model_id.split(".")[0])
    result = await harness.complete(harness.body(model_id))
    assert message(result)["content"] == model_id
    assert result["model"] == model_id


@pytest.mark.inline_only("reads what the plugin instance recorded")
async def test_sync_pipes_method_runs_on_a_worker_thread(harness):
    await harness.add("manifold_sync_method")
    await harness.runtime.models()
    instance = harness.executor.loaded("manifold_sync_method").instance
    assert instance.pipes_threads
    assert threading.get_ident() not in instance.pipes_threads


async def test_entry_without_id_or_name_is_skipped_and_the_rest_kept(harness):
    # Deviates from Open WebUI, which stops listing the manifold at the first bad entry
    # (functions.py `get_function_models`, 0.12.4):
    # one malformed entry should not hide the good models after it.
    await harness.add("manifold_bad_entry")
    assert await listed(harness) == {
        "manifold_bad_entry.good1": "Good 1",
        "manifold_bad_entry.good2": "Good 2",
    }


async def test_pipes_raising_gives_no_sub_models_and_other_pipes_stay(harness):
    await harness.add("manifold_pipes_raises")
    await harness.add("manifold_list")
    await harness.add("returns_str")
    models = await listed(harness)
    assert not any(m.startswith("manifold_pipes_raises") for m in models)
    assert set(models) == {"manifold_list.alpha", "manifold_list.beta", "returns_str"}


async def test_unknown_sub_id_is_model_not_found(harness):
    await harness.add("manifold_list")
    with pytest.raises(ModelNotFound):
        await harness.runtime.resolve("manifold_list.gamma")
    with pytest.raises(ModelNotFound):
        await harness.complete(harness.body("manifold_list.gamma"))
    with pytest.raises(ModelNotFound):  # the bare manifold id is not a model either
        await harness.complete(harness.body("manifold_list"))


async def test_valves_are_applied_before_pipes_is_called(harness):
    # functions.py `get_function_models` (0.12.4): the manifold is loaded with its valves applied
    # before `pipes` runs.
    await harness.add("manifold_from_valves")
    harness.store.by_plugin["manifold_from_valves"] = {"MODELS": "small,large"}
    assert await listed(harness) == {
        "manifold_from_valves.small": "SMALL",
        "manifold_from_valves.large": "LARGE",
    }
    result = await harness.complete(harness.body("manifold_from_valves.large"))
    assert message(result)["content"] == "manifold_from_valves.large"


async def test_default_valves_list_the_default_models(harness):
    await harness.add("manifold_from_valves")
    assert await listed(harness) == {"manifold_from_valves.default-model": "DEFAULT-MODEL"}
