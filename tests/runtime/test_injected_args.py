"""Injected arguments: what a pipe and a filter hook receive, and only when they declare it
(Open WebUI 0.12.4: functions.py for pipes, utils/filter.py for filters, socket/main.py for the
event callables)."""

from __future__ import annotations

import gc
import json
import warnings

import pytest

from pipehouse.runtime.events import RecordingHost
from tests.conftest import USER, content_of, parse_sse
from tests.runtime.helpers import answer_json, assert_well_formed, steps

FILES = [{"type": "file", "id": "file-1", "name": "notes.txt"}]


@pytest.fixture
async def report_pipe(harness):
    await harness.add("args_all_injected")
    return harness


async def test_body_is_always_passed_and_ids_come_from_top_level_keys(report_pipe):
    h = report_pipe
    body = h.body(
        "args_all_injected", chat_id="chat-1", id="msg-1", session_id="sess-1", files=FILES
    )
    report = answer_json(await h.complete(body))
    assert report["body"]["messages"] == [{"role": "user", "content": "hello"}]
    assert (report["chat_id"], report["message_id"], report["session_id"]) == (
        "chat-1",
        "msg-1",
        "sess-1",
    )
    assert report["metadata"]["chat_id"] == "chat-1"
    assert report["metadata"]["message_id"] == "msg-1"
    assert report["metadata"]["session_id"] == "sess-1"
    assert report["metadata"]["user_id"] == USER["id"]
    assert report["files"] == FILES  # __files__ = metadata["files"] (functions.py)
    assert report["metadata"]["files"] == FILES


async def test_ids_task_and_files_come_from_the_metadata_object(report_pipe):
    h = report_pipe
    metadata = {
        "chat_id": "chat-2",
        "message_id": "msg-2",
        "session_id": "sess-2",
        "files": FILES,
        "task": "title_generation",
        "task_body": {"messages": []},
    }
    report = answer_json(await h.complete(h.body("args_all_injected", metadata=metadata)))
    assert (report["chat_id"], report["message_id"], report["session_id"]) == (
        "chat-2",
        "msg-2",
        "sess-2",
    )
    assert report["files"] == FILES
    assert report["task"] == "title_generation"
    assert report["task_body"] == {"messages": []}


async def test_plain_api_call_still_gets_usable_arguments(report_pipe):
    report = answer_json(await report_pipe.complete(report_pipe.body("args_all_injected")))
    assert report["chat_id"] is None
    assert report["files"] == []  # `metadata["files"] or []`
    assert report["task"] is None and report["task_body"] is None
    assert isinstance(report["message_id"], str) and report["message_id"]
    # Open WebUI passes None for the emitter and caller when chat ids are missing (every plain
    # API call); pipehouse always hands working callables (events.py).
    assert report["emitter_callable"] and report["caller_callable"]


async def test_user_is_a_copy_and_the_rest_have_open_webui_values(report_pipe):
    h = report_pipe
    report = answer_json(await h.complete(h.body("args_all_injected")))
    assert report["user"] == USER
    # no UserValves class, so no `valves` key (functions.py)
    assert report["user_has_valves"] is False
    assert USER["name"] == "Ada"  # the pipe renamed its __user__; the caller's dict is intact
    assert report["request_is_starlette"] and report["request_method"] == "POST"
    assert report["tools"] == {}
    assert report["oauth_token"] is None


async def test_body_seen_by_the_pipe_is_prepared_like_open_webui(report_pipe):
    # Open WebUI 0.12.4 functions.py: `metadata` and request-only keys are removed; `params` is
    # flattened into top-level keys without the params only Open WebUI reads; unknown client keys
    # stay.
    h = report_pipe
    body = h.body(
        "args_all_injected",
        chat_id="c",
        id="m",
        session_id="s",
        files=FILES,
        filter_ids=[],
        features={"web_search": True},
        variables={"{{USER_NAME}}": "Ada"},
        metadata={"task": None},
        params={
            "temperature": 0.3,
            "top_p": 0.9,
            "function_calling": "native",
            "system": "be brief",
            "stream_response": True,
            "reasoning_tags": ["<t>", "</t>"],
        },
        custom_key="kept",
    )
    seen = answer_json(await h.complete(body))["body"]
    assert seen == {
        "model": "args_all_injected",
        "messages": [{"role": "user", "content": "hello"}],
        "stream": False,
        "temperature": 0.3,
        "top_p": 0.9,
        "custom_key": "kept",
    }


async def test_kwargs_pipe_receives_nothing_but_body(harness):
    # functions.py `get_function_params` (0.12.4): extra arguments go only to names in the
    # signature; **kwargs receives nothing extra.
    await harness.add("args_kwargs_only")
    body = harness.body("args_kwargs_only", chat_id="c", files=FILES)
    assert answer_json(await harness.complete(body)) == {"kwargs": [], "has_body": True}


async def test_pipe_user_valves_are_a_user_valves_instance_with_stored_values(harness):
    await harness.add("args_pipe_user_valves")
    harness.store.by_user[("args_pipe_user_valves", USER["id"])] = {"tone": "warm"}
    harness.store.by_user[("args_pipe_user_valves", "someone-else")] = {"tone": "cold"}
    report = answer_json(await harness.complete(harness.body("args_pipe_user_valves")))
    assert report["valves_type"] == "UserValves"
    assert report["valves"] == {"tone": "warm", "max_words": 50}
    assert report["user_id"] == USER["id"]


async def test_pipe_user_valves_default_when_nothing_is_stored(harness):
    await harness.add("args_pipe_user_valves")
    report = answer_json(await harness.complete(harness.body("args_pipe_user_valves")))
    assert report["valves"] == {"tone": "neutral", "max_words": 50}


async def test_pipe_user_valves_fall_back_to_defaults_when_stored_ones_are_invalid(harness):
    # functions.py (0.12.4): a pipe falls back to UserValves() when the stored values do not
    # validate.
    await harness.add("args_pipe_user_valves")
    harness.store.by_user[("args_pipe_user_valves", USER["id"])] = {"max_words": "many"}
    report = answer_json(await harness.complete(harness.body("args_pipe_user_valves")))
    assert report["valves"] == {"tone": "neutral", "max_words": 50}


async def test_pipe_valves_come_from_the_store(harness):
    await harness.add("args_pipe_user_valves")
    harness.store.by_plugin["args_pipe_user_valves"] = {"model_hint": "stored-hint"}
    report = answer_json(await harness.complete(harness.body("args_pipe_user_valves")))
    assert report["admin_valve"] == "stored-hint"


# -- events -------------------------------------------------------------------------------------
async def test_emitted_events_reach_the_host_and_stream_in_band_in_order(harness):
    await harness.add("args_event_emitter")
    host = RecordingHost()
    payloads = await harness.stream(harness.body("args_event_emitter"), host=host)
    assert_well_formed(payloads)
    order = [
        ("event", p["event"]["data"]["description"])
        if "event" in p
        else ("text", p["choices"][0]["delta"].get("content"))
        for p in payloads[1:-2]
    ]
    assert order == [
        ("event", "starting"),
        ("text", "first "),
        ("event", "halfway"),
        ("text", "second"),
        ("event", "finished"),
    ]
    assert [e["data"]["description"] for e in host.events] == ["starting", "halfway", "finished"]


async def test_a_stream_without_inline_events_still_delivers_them_to_the_host(harness):
    # Events (emitted or yielded as {"event": ...}) stay out of the stream when the client did
    # not ask for them, yet reach the host (the server's side channel, the CLI).
    await harness.add("args_event_emitter")
    await harness.add("returns_generator_of_events")
    for model in ("args_event_emitter", "returns_generator_of_events"):
        host = RecordingHost()
        turn = await harness.runtime.start(
            harness.body(model, stream=True), USER, host=host, inline_events=False
        )
        payloads = parse_sse(b"".join([part async for part in turn.sse()]))
        assert_well_formed(payloads)
        assert not [p for p in payloads if isinstance(p, dict) and "event" in p]
        assert host.events


async def test_emitted_events_reach_the_host_when_not_streaming(harness):
    await harness.add("args_event_emitter")
    host = RecordingHost()
    result = await harness.complete(harness.body("args_event_emitter"), host=host)
    assert result["choices"][0]["message"]["content"] == "first second"
    assert [e["type"] for e in host.events] == ["status", "status", "status"]


async def test_event_call_returns_the_hosts_answer(harness):
    await harness.add("args_event_call")
    host = RecordingHost(answers=["Grace"])
    report = answer_json(await harness.complete(harness.body("args_event_call"), host=host))
    assert report == {"reply": "Grace"}
    assert host.calls == [{"type": "input", "data": {"title": "Name?", "message": "Who are you?"}}]


async def test_event_call_with_nobody_answering_returns_an_error_dict_at_once(harness):
    # Open WebUI may wait forever (socket/main.py `get_event_call`, 0.12.4: no timeout by
    # default); here the call returns an error dict at once, as Open WebUI's own disconnect case
    # does.
    await harness.add("args_event_call")
    payloads = await harness.stream(harness.body("args_event_call"), host=RecordingHost())
    reply = json.loads(content_of(payloads))["reply"]
    assert isinstance(reply, dict) and isinstance(reply.get("error"), str)


async def test_sync_pipe_can_emit_from_its_worker_thread(harness):
    await harness.add("sync_pipe_emits")
    host = RecordingHost()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        payloads = await harness.stream(harness.body("sync_pipe_emits"), host=host)
        gc.collect()
    # a fire-and-forget call leaves no "coroutine ... was never awaited" warning behind
    assert not [w for w in caught if "never awaited" in str(w.message)]
    assert content_of(payloads) == "emitted"
    assert [e["data"]["description"] for e in host.events] == ["via run", "fire and forget"]
    assert [p["event"]["data"]["description"] for p in payloads if "event" in p] == [
        "via run",
        "fire and forget",
    ]


# -- filter hooks -------------------------------------------------------------------------------
async def test_filter_hooks_receive_their_injected_arguments(harness):
    await harness.add("filter_all_injected")
    await harness.add("returns_sync_generator")
    host = RecordingHost()
    body = harness.body("returns_sync_generator", chat_id="chat-9", id="msg-9")
    payloads = await harness.stream(body, host=host)
    assert content_of(payloads).startswith("Hello, world")
    reports = {e["data"]["hook"]: e["data"] for e in host.events if e["type"] == "report"}
    assert set(reports) == {"inlet", "stream", "outlet"}
    for data in reports.values():
        assert data["id"] == "filter_all_injected"  # __id__ = the filter id (utils/filter.py)
        assert data["model_id"] == "returns_sync_generator"  # __model__ = the model dict
        assert data["user_id"] == USER["id"]
        assert data["chat_id"] == "chat-9"
        assert data["request_is_starlette"]
        assert data["emitter_callable"] and data["caller_callable"]
    inlet = reports["inlet"]
    assert (inlet["chat_id_arg"], inlet["message_id_arg"]) == ("chat-9", "msg-9")
    assert inlet["oauth_token"] is None
    stream = reports["stream"]
    assert stream["body_model"] == "returns_sync_generator"  # __body__ = the request body
    assert stream["body_has_messages"] and stream["event_is_dict"]
    outlet = reports["outlet"]  # utils/middleware.py `outlet_filter_handler`
    keys = ["chat_id", "filter_ids", "id", "messages", "model", "session_id"]
    assert outlet["outlet_keys"] == keys
    assert outlet["last_role"] == "assistant"
    assert steps(payloads)[-1] == ({}, "stop")


async def test_a_valve_changed_in_place_does_not_leak_into_the_next_call(harness):
    # the same holds for a list valve appended to in place (the built object is reused only
    # while it holds exactly what it was built with)
    await harness.add("args_mutates_list_valve")
    for _ in range(3):
        answer = await harness.complete(harness.body("args_mutates_list_valve"))
        assert answer["choices"][0]["message"]["content"] == "seen=[]"


async def test_each_call_gets_its_own_valves_object(harness):
    # Open WebUI builds Valves afresh for every call: a plugin that changes self.valves during
    # one call does not change what the next call sees.
    await harness.add("args_mutates_valves")
    first = await harness.complete(harness.body("args_mutates_valves"))
    second = await harness.complete(harness.body("args_mutates_valves"))
    assert first["choices"][0]["message"]["content"] == "count=0"
    assert second["choices"][0]["message"]["content"] == "count=0"
    harness.store.by_plugin["args_mutates_valves"] = {"count": 5}
    third = await harness.complete(harness.body("args_mutates_valves"))
    assert third["choices"][0]["message"]["content"] == "count=5"
