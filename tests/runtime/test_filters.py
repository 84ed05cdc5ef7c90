"""Filters around a pipe: inlet -> pipe -> stream -> outlet, their order, toggles, files,
errors and user valves (Open WebUI 0.12.4 utils/filter.py, functions.py)."""

from __future__ import annotations

import logging

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.errors import RoutedModelNotFound
from pipehouse.runtime.events import RecordingHost
from tests.conftest import USER, content_of
from tests.runtime.helpers import answer_json, assert_well_formed, errors, events, message


async def add_trail_filters(harness) -> None:
    # Same code under three ids; "zz" has a default priority of -1, the others 0.
    await harness.add("filter_trail", plugin_id="f_b")
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("filter_trail_first_by_default", plugin_id="zz")
    await harness.add("filter_answers_trail")


async def test_every_hook_runs_in_priority_then_id_order(harness):
    await add_trail_filters(harness)
    result = await harness.complete(harness.body("filter_answers_trail"))
    # inlets (priority -1 first, then by id), then the same order for the outlets
    assert message(result)["content"] == "trail=zz,f_a,f_b<zz><f_a><f_b>"


async def test_stream_hooks_run_per_chunk_in_order_and_outlets_after(harness):
    await add_trail_filters(harness)
    host = RecordingHost()
    payloads = await harness.stream(harness.body("filter_answers_trail"), host=host)
    assert_well_formed(payloads)
    # pipehouse choice: what outlets appended to a streamed answer follows as more text, for
    # every client; the whole edited answer also comes as a `replace` event before [DONE].
    final = "trail=zz,f_a,f_b[zz][f_a][f_b]<zz><f_a><f_b>"
    assert content_of(payloads) == final
    replace = {"type": "replace", "data": {"content": final}}
    assert payloads[-2] == {"event": replace}
    assert host.events[-1] == replace


async def test_stored_priority_overrides_the_default(harness):
    await add_trail_filters(harness)
    harness.store.by_plugin["zz"] = {"priority": 5}
    harness.store.by_plugin["f_b"] = {"priority": -3}
    result = await harness.complete(harness.body("filter_answers_trail"))
    assert message(result)["content"] == "trail=f_b,f_a,zz<f_b><f_a><zz>"


async def test_filters_not_global_are_not_applied(harness):
    await harness.add("filter_trail", plugin_id="f_a", is_global=False)
    await harness.add("filter_answers_trail")
    result = await harness.complete(harness.body("filter_answers_trail"))
    assert message(result)["content"] == "trail="


async def test_toggle_filter_runs_only_when_named_in_filter_ids(harness):
    await harness.add("filter_toggle", plugin_id="tog")
    await harness.add("filter_answers_trail")
    off = await harness.complete(harness.body("filter_answers_trail"))
    assert message(off)["content"] == "trail="
    on = await harness.complete(harness.body("filter_answers_trail", filter_ids=["tog"]))
    assert message(on)["content"] == "trail=tog"
    on_in_metadata = await harness.complete(
        harness.body("filter_answers_trail", metadata={"filter_ids": ["tog"]})
    )
    assert message(on_in_metadata)["content"] == "trail=tog"


async def test_toggle_filters_are_offered_on_every_model(harness):
    # Open WebUI 0.12.4 utils/models.py (`get_all_models`): model["filters"] lists the toggle
    # filters, sorted by id.
    await harness.add("filter_toggle", plugin_id="tog")
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("filter_answers_trail")
    [model] = await harness.runtime.models()
    assert [f["id"] for f in model["filters"]] == ["tog"]


async def test_file_handler_removes_files_after_the_inlets(harness):
    # Open WebUI 0.12.4 utils/filter.py: with a file_handler filter in the chain, `files` is deleted
    # from the body and the metadata after *all* inlets ran, so later inlets still see them.
    # `__files__` keeps them (docs/files.md; 0.12.4 itself empties it too: docs/compatibility.md).
    await harness.add("filter_file_handler")  # priority 0
    await harness.add("filter_sees_files")  # priority 1: runs after the handler
    await harness.add("args_all_injected")
    files = [{"type": "file", "id": "f1"}]
    report = answer_json(await harness.complete(harness.body("args_all_injected", files=files)))
    assert report["body"]["handler_saw_files"] == 1
    assert report["body"]["later_filter_saw_files"] == 1
    assert report["files"] == files
    assert report["metadata"]["files"] is None
    assert "files" not in report["body"]


async def test_files_stay_without_a_file_handler(harness):
    await harness.add("filter_sees_files")
    await harness.add("args_all_injected")
    files = [{"type": "file", "id": "f1"}]
    report = answer_json(await harness.complete(harness.body("args_all_injected", files=files)))
    assert report["files"] == files


@pytest.mark.parametrize("stream", [False, True])
async def test_inlet_that_raises_stops_the_request_naming_the_filter(harness, stream):
    await harness.add("filter_inlet_raises")
    await harness.add("returns_str")
    body = harness.body("returns_str", stream=stream)
    with pytest.raises(PluginError) as caught:
        await harness.runtime.start(body, USER, host=RecordingHost())
    assert caught.value.plugin_id == "filter_inlet_raises"
    assert caught.value.stage == "inlet"
    assert "blocked by policy" in caught.value.message


async def test_inlet_returning_none_is_an_error_naming_the_filter(harness):
    # utils/filter.py (`process_filter_functions`, 0.12.4): the next step reads the returned body;
    # None cannot be one.
    await harness.add("filter_inlet_returns_none")
    await harness.add("returns_str")
    with pytest.raises(PluginError) as caught:
        await harness.runtime.start(harness.body("returns_str"), USER, host=RecordingHost())
    assert caught.value.plugin_id == "filter_inlet_returns_none"
    assert caught.value.stage == "inlet"


async def test_stream_filter_that_raises_ends_the_stream_with_an_error_frame(harness):
    # utils/middleware.py (`streaming_chat_response_handler`, 0.12.4): a stream-filter exception
    # aborts the stream with an error frame.
    await harness.add("filter_stream_raises")
    await harness.add("returns_sync_generator")
    payloads = await harness.stream(harness.body("returns_sync_generator"))
    assert payloads[-1] == "[DONE]"
    [error] = errors(payloads)
    assert error["plugin"] == "filter_stream_raises"
    assert error["stage"] == "stream"
    assert "stream filter exploded" in error["message"]
    assert content_of(payloads) == ""


async def test_stream_filter_returning_a_falsy_value_drops_the_chunk(harness):
    await harness.add("filter_stream_drops")
    await harness.add("returns_generator_with_secret")
    payloads = await harness.stream(harness.body("returns_generator_with_secret"))
    assert_well_formed(payloads)
    assert content_of(payloads) == "public more"


async def test_stream_filters_do_not_run_on_a_non_streamed_answer(harness):
    await harness.add("filter_stream_drops")
    await harness.add("returns_generator_with_secret")
    result = await harness.complete(harness.body("returns_generator_with_secret"))
    assert message(result)["content"] == "public secret stuff more"


@pytest.mark.parametrize("stream", [False, True])
async def test_outlet_that_raises_is_logged_and_the_answer_kept(harness, caplog, stream):
    # Open WebUI swallows outlet errors (utils/middleware.py `outlet_filter_handler`, 0.12.4).
    await harness.add("filter_outlet_raises")
    await harness.add("returns_str")
    caplog.set_level(logging.ERROR)
    if stream:
        payloads = await harness.stream(harness.body("returns_str"))
        assert_well_formed(payloads)
        assert content_of(payloads) == "plain answer"
        assert errors(payloads) == [] and events(payloads) == []
    else:
        result = await harness.complete(harness.body("returns_str"))
        assert message(result)["content"] == "plain answer"
    assert "filter_outlet_raises" in caplog.text
    assert "outlet exploded" in caplog.text


async def test_outlet_edit_changes_the_non_streamed_answer(harness):
    await harness.add("filter_outlet_edits")
    await harness.add("returns_str")
    result = await harness.complete(harness.body("returns_str"))
    assert message(result)["content"] == "edited: plain answer"


async def test_outlet_edit_of_a_streamed_answer_is_a_replace_event_before_done(harness):
    # pipehouse choice (no socket to update the stored message): the edit arrives as a
    # `replace` event, the last frame before [DONE], and reaches the host too.
    await harness.add("filter_outlet_edits")
    await harness.add("returns_str")
    host = RecordingHost()
    payloads = await harness.stream(harness.body("returns_str"), host=host)
    assert_well_formed(payloads)
    assert content_of(payloads) == "plain answer"
    replace = {"type": "replace", "data": {"content": "edited: plain answer"}}
    assert payloads[-2] == {"event": replace}
    assert host.events == [replace]


async def test_outlet_that_keeps_the_answer_sends_no_replace_event(harness):
    await harness.add("filter_outlet_raises")
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("returns_str")
    harness.store.by_plugin["f_a"] = {"priority": 0}
    payloads = await harness.stream(harness.body("returns_str"))
    assert [e["type"] for e in events(payloads)] == ["replace"]  # only f_a edited it


async def test_user_valves_do_not_leak_to_the_next_filter(harness):
    # Fixes Open WebUI's leak (utils/filter.py `apply_user_valves`, 0.12.4): it shares one __user__
    # dict down the chain, so a later filter without UserValves would see the previous filter's user
    # valves.
    await harness.add("filter_user_valves")  # priority 0, has UserValves
    await harness.add("filter_no_user_valves")  # priority 1, has none
    await harness.add("args_all_injected")
    harness.store.by_user[("filter_user_valves", USER["id"])] = {"flavour": "spicy"}
    report = answer_json(await harness.complete(harness.body("args_all_injected")))
    assert report["body"]["seen_valves"] == [
        {
            "id": "filter_user_valves",
            "has_valves": True,
            "valves": {"flavour": "spicy"},
            "type": "UserValves",
        },
        {"id": "filter_no_user_valves", "has_valves": False},
    ]
    assert report["user_has_valves"] is False  # nor to the pipe


async def test_filter_with_invalid_stored_user_valves_runs_without_them(harness):
    # utils/filter.py (0.12.4): a filter's user valves that fail validation are logged; __user__ has
    # no `valves`.
    await harness.add("filter_user_valves")
    await harness.add("args_all_injected")
    harness.store.by_user[("filter_user_valves", USER["id"])] = {"flavour": ["not", "a", "str"]}
    report = answer_json(await harness.complete(harness.body("args_all_injected")))
    assert report["body"]["seen_valves"] == [
        {"id": "filter_user_valves", "has_valves": False, "valves": None, "type": "NoneType"}
    ]


# -- routers: an inlet that changes body["model"] ----------------------------------------------
PHOTO = [
    {"type": "text", "text": "What is in this photo?"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
]


async def add_vision_router(harness) -> None:
    await harness.add("filter_vision_router", plugin_id="vision_router")
    await harness.add("pipe_says_who_answers", plugin_id="text_pipe")
    await harness.add("pipe_says_who_answers", plugin_id="vision_pipe")
    await harness.add("filter_trail", plugin_id="f_a")
    harness.store.by_plugin["vision_router"] = {"vision_model_id": "vision_pipe"}


def photo_for(model: str) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": PHOTO}]}


async def test_the_model_an_inlet_routes_to_answers(harness):
    # Open WebUI looks the model up after the inlets (utils/chat.py, 0.12.4): the router's
    # choice answers, and is handed a body that names it. The filters chosen for the requested
    # model run once each (f_a: one inlet mark, one outlet mark); `__model__` is the answering
    # model's for the pipe.
    await add_vision_router(harness)
    result = await harness.complete(photo_for("text_pipe"))
    assert message(result)["content"] == (
        "vision_pipe answers: model=vision_pipe __model__=vision_pipe trail=f_a<f_a>"
    )
    assert result["model"] == "vision_pipe"
    # a message without a photo stays with the model asked for
    plain = await harness.complete(harness.body("text_pipe"))
    assert message(plain)["content"].startswith("text_pipe answers: model=text_pipe")


async def test_a_routed_stream_comes_from_the_new_model_with_each_filter_once(harness):
    await add_vision_router(harness)
    host = RecordingHost()
    payloads = await harness.stream(photo_for("text_pipe"), host=host)
    assert_well_formed(payloads)
    assert content_of(payloads) == (
        "vision_pipe answers: [f_a]model=vision_pipe __model__=vision_pipe trail=f_a[f_a]<f_a>"
    )
    assert {c["model"] for c in payloads if isinstance(c, dict) and "choices" in c} == {
        "vision_pipe"
    }
    assert {
        "type": "status",
        "data": {"description": "Request routed to vision_pipe", "done": True},
    } in host.events


async def test_after_a_router_the_requested_models_pipelines_filters_apply(harness):
    # Open WebUI picks every filter for the requested model, before the inlets and again for
    # the stream and the outlet (utils/middleware.py), so a Pipelines filter aimed only at the
    # model routed to never runs, and one aimed at the requested model runs inlet and outlet.
    await add_vision_router(harness)
    await harness.add("pipeline_filter", plugin_id="for_text")
    await harness.add("pipeline_filter", plugin_id="for_vision")
    harness.store.by_plugin["for_text"] = {"pipelines": ["text_pipe"]}
    harness.store.by_plugin["for_vision"] = {"pipelines": ["vision_pipe"]}
    result = await harness.complete(photo_for("text_pipe"))
    assert message(result)["content"] == (
        "vision_pipe answers: model=vision_pipe __model__=vision_pipe "
        "trail=for_text:Ada,f_a<for_text><f_a>"
    )


@pytest.mark.parametrize("stream", [False, True])
async def test_a_router_naming_an_unknown_model_is_refused_naming_the_filter(harness, stream):
    await add_vision_router(harness)
    harness.store.by_plugin["vision_router"] = {"vision_model_id": "llava-gone"}
    with pytest.raises(RoutedModelNotFound) as caught:
        await harness.runtime.start(
            {**photo_for("text_pipe"), "stream": stream}, USER, host=RecordingHost()
        )
    assert caught.value.status == 400  # as Open WebUI; the client's own model exists
    assert caught.value.filter_id == "vision_router"
    assert "llava-gone" in str(caught.value) and "vision_router" in str(caught.value)
