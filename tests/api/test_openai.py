"""The OpenAI API as clients use it: the `openai` SDK and httpx against a real server."""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest

from tests.conftest import content_of, parse_sse
from tests.support.polling import eventually

HELLO = [{"role": "user", "content": "hello world"}]


@pytest.fixture
def server_plugins():
    return [
        "cli_status_pipe",
        "cli_manifold",
        "cli_raises_pipe",
        "args_all_injected",
        "filter_toggle",
        "returns_async_generator",
        "returns_generator_of_chunks",
    ]


def sdk(server, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.admin_key, **kwargs)


def async_sdk(server, **kwargs) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{server.base_url}/v1", api_key=server.admin_key, **kwargs)


def streamed(client, path: str = "/v1/chat/completions", **body) -> list:
    """The parsed SSE payloads of a streamed answer, read as httpx streams it."""
    with client.stream("POST", path, json={"stream": True, **body}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes())
    return parse_sse(raw)


def report(server, **extra) -> dict:
    """What args_all_injected saw, as it reports it in its answer."""
    reply = server.client().post(
        "/v1/chat/completions",
        json={"model": "args_all_injected", "messages": HELLO, **extra},
    )
    assert reply.status_code == 200, reply.text
    return json.loads(reply.json()["choices"][0]["message"]["content"])


# -- models -------------------------------------------------------------------------------------
def test_models_list_shows_pipes_and_manifold_sub_models(server):
    models = {m.id: m for m in sdk(server).models.list()}
    assert set(models) == {
        "cli_status_pipe",
        "cli_manifold.up",
        "cli_manifold.down",
        "cli_raises_pipe",
        "args_all_injected",
        "returns_async_generator",
        "returns_generator_of_chunks",
    }
    assert models["cli_manifold.up"].model_extra["name"] == "Case: Upper"
    assert models["cli_manifold.down"].model_extra["name"] == "Case: Lower"
    assert models["cli_status_pipe"].model_extra["name"] == "CLI status pipe"
    assert all(m.object == "model" for m in models.values())
    # toggle filters are offered on every model, for clients that show a switch for them
    toggles = models["cli_status_pipe"].model_extra["filters"]
    assert [f["id"] for f in toggles] == ["filter_toggle"]


def test_open_webui_model_aliases_list_the_same_models(server):
    client = server.client()
    expected = {m["id"] for m in client.get("/v1/models").json()["data"]}
    for path in ("/api/models", "/api/v1/models"):
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert {m["id"] for m in reply.json()["data"]} == expected, path


# -- completions through the SDK ----------------------------------------------------------------
def test_sdk_completion(server):
    completion = sdk(server).chat.completions.create(model="cli_status_pipe", messages=HELLO)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "cli_status_pipe"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "echo: hello world [user]"
    assert choice.finish_reason == "stop"
    assert completion.usage is None  # the pipe reported none, and none is made up


def test_sdk_stream_assembles_the_answer_under_one_id(server):
    stream = sdk(server).chat.completions.create(
        model="returns_async_generator", messages=HELLO, stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello, world"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert [c.choices[0].finish_reason for c in chunks].count("stop") == 1
    assert len({c.id for c in chunks}) == 1
    assert all(c.usage is None for c in chunks)


def test_chunks_a_pipe_built_get_the_completion_id(server):
    chunks = list(
        sdk(server).chat.completions.create(
            model="returns_generator_of_chunks", messages=HELLO, stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "chunk by chunk"
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].id.startswith("chatcmpl-")
    assert [c.choices[0].finish_reason for c in chunks].count("stop") == 1


@pytest.mark.parametrize("server_plugins", [["returns_usage", "returns_async_generator"]])
def test_sdk_stream_reports_usage_when_asked(server):
    def ask(model: str) -> list:
        return list(
            sdk(server).chat.completions.create(
                model=model, messages=HELLO, stream=True, stream_options={"include_usage": True}
            )
        )

    chunks = ask("returns_usage")  # the pipe reports cumulative usage twice: the last counts
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (10, 2)
    assert last.usage.total_tokens == 12
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1
    # a pipe that reports no usage gets none made up
    chunks = ask("returns_async_generator")
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_sdk_manifold_sub_model_answers(server):
    client = sdk(server)
    up = client.chat.completions.create(model="cli_manifold.up", messages=HELLO)
    down = client.chat.completions.create(
        model="cli_manifold.down", messages=[{"role": "user", "content": "Quiet PLEASE"}]
    )
    assert up.choices[0].message.content == "HELLO WORLD"
    assert up.model == "cli_manifold.up"
    assert down.choices[0].message.content == "quiet please"


async def test_async_sdk_streams_and_completes_concurrently(server):
    async with async_sdk(server) as client:

        async def ask(n: int) -> str:
            stream = await client.chat.completions.create(
                model="cli_manifold.up",
                messages=[{"role": "user", "content": f"request {n}"}],
                stream=True,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        answers = await asyncio.gather(*(ask(n) for n in range(8)))
        assert answers == [f"REQUEST {n}" for n in range(8)]
        completion = await client.chat.completions.create(model="cli_status_pipe", messages=HELLO)
        assert completion.choices[0].message.content == "echo: hello world [user]"


@pytest.mark.parametrize("server_plugins", [["server_returns_dict_of_python_values"]])
def test_a_pipes_own_dict_is_answered_as_json(server):
    # as Open WebUI answers a non-OpenAI dict: as it is, with sets as lists and models dumped
    reply = server.client().post(
        "/v1/chat/completions",
        json={"model": "server_returns_dict_of_python_values", "messages": HELLO},
    )
    assert reply.status_code == 200
    assert reply.json() == {"answer": "ok", "tags": ["checked"], "verdict": {"verdict": "fine"}}


# -- events in-band -----------------------------------------------------------------------------
def _sequence(payloads: list) -> list[tuple[str, str]]:
    return [
        ("event", p["event"]["data"]["description"])
        if "event" in p
        else ("text", p["choices"][0]["delta"].get("content"))
        for p in payloads[:-1]
        if "event" in p or p["choices"][0]["delta"].get("content")
    ]


def test_events_arrive_in_band_in_order_when_the_client_asks(server):
    client = server.client(headers={"X-Pipehouse-Events": "inline"})
    payloads = streamed(client, model="cli_status_pipe", messages=HELLO)
    assert payloads[-1] == "[DONE]"
    assert _sequence(payloads) == [
        ("event", "thinking hard"),
        ("text", "echo: hello world [user]"),
        ("event", "all done"),
    ]
    assert all(p["event"]["type"] == "status" for p in payloads[:-1] if "event" in p)
    chunk_ids = {p["id"] for p in payloads[:-1] if "choices" in p}
    assert len(chunk_ids) == 1
    by_metadata = streamed(
        server.client(), model="cli_status_pipe", messages=HELLO, metadata={"events": "inline"}
    )
    assert _sequence(by_metadata) == _sequence(payloads)


def test_a_plain_openai_client_gets_only_chunks(server):
    # Frames without `choices` break the usual SDK loop (`chunk.choices[0]`), so events stay out
    # of the stream unless the client asks for them.
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.admin_key)
    text = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="cli_status_pipe", messages=HELLO, stream=True
        )
    )
    assert text == "echo: hello world [user]"


# -- request keys pipehouse reads ---------------------------------------------------------------
def test_filter_ids_switch_toggle_filters_on(server):
    assert "trail" not in report(server)["body"]
    assert report(server, filter_ids=["filter_toggle"])["body"]["trail"] == ["filter_toggle"]


def test_metadata_and_files_reach_the_plugin(server):
    files = [{"type": "file", "id": "file-1", "name": "notes.txt"}]
    seen = report(
        server,
        files=files,
        metadata={"chat_id": "chat-1", "message_id": "msg-1", "session_id": "sess-1"},
    )
    assert seen["chat_id"] == "chat-1"
    assert seen["message_id"] == "msg-1"
    assert seen["session_id"] == "sess-1"
    assert seen["files"] == files
    assert seen["metadata"]["chat_id"] == "chat-1"
    assert seen["metadata"]["message_id"] == "msg-1"
    assert seen["metadata"]["session_id"] == "sess-1"
    assert seen["metadata"]["files"] == files
    assert seen["metadata"]["user_id"] == seen["user"]["id"]
    assert seen["user"]["email"] == "admin@localhost"
    # as in Open WebUI, the pipe's body no longer carries the request-only keys
    assert set(seen["body"]) == {"model", "messages"}


def test_top_level_chat_ids_are_read_as_open_webui_sends_them(server):
    seen = report(server, chat_id="chat-2", id="msg-2", session_id="sess-2")
    assert (seen["chat_id"], seen["message_id"], seen["session_id"]) == (
        "chat-2",
        "msg-2",
        "sess-2",
    )


def test_sdk_clients_send_the_extra_keys_in_extra_body(server):
    completion = sdk(server).chat.completions.create(
        model="args_all_injected",
        messages=HELLO,
        metadata={"chat_id": "chat-3", "session_id": "sess-3"},
        extra_body={"filter_ids": ["filter_toggle"], "files": [{"id": "file-3"}]},
    )
    seen = json.loads(completion.choices[0].message.content)
    assert seen["chat_id"] == "chat-3"
    assert seen["session_id"] == "sess-3"
    assert seen["files"] == [{"id": "file-3"}]
    assert seen["body"]["trail"] == ["filter_toggle"]


def test_the_user_of_the_key_is_the_plugins_user(server):
    key = server.user_key("ada@example.com")
    reply = server.client(key=key).post(
        "/v1/chat/completions", json={"model": "args_all_injected", "messages": HELLO}
    )
    seen = json.loads(reply.json()["choices"][0]["message"]["content"])
    assert seen["user"]["email"] == "ada@example.com"
    assert seen["user"]["role"] == "user"


# -- aliases ------------------------------------------------------------------------------------
def test_open_webui_completion_aliases(server):
    client = server.client()
    for path in ("/api/chat/completions", "/api/v1/chat/completions"):
        reply = client.post(path, json={"model": "cli_status_pipe", "messages": HELLO})
        assert reply.status_code == 200, path
        assert reply.json()["choices"][0]["message"]["content"] == "echo: hello world [user]"
        payloads = streamed(client, path, model="cli_manifold.up", messages=HELLO)
        assert content_of(payloads) == "HELLO WORLD", path
        assert payloads[-1] == "[DONE]", path


# -- bad requests -------------------------------------------------------------------------------
def test_unknown_model_is_not_found(server):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk(server).chat.completions.create(model="no_such_model", messages=HELLO)
    assert "no_such_model" in raised.value.message
    reply = server.client().post(
        "/v1/chat/completions", json={"model": "cli_manifold.sideways", "messages": HELLO}
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found_error"
    assert "cli_manifold.sideways" in reply.json()["error"]["message"]


MALFORMED = {
    "truncated JSON": (b'{"model": "cli_status_pipe", "messages": [', "JSON"),
    "empty body": (b"", "JSON"),
    "no messages": (b'{"model": "cli_status_pipe"}', "messages"),
    "messages not a list": (b'{"model": "cli_status_pipe", "messages": "hello"}', "messages"),
    "no model": (b'{"messages": [{"role": "user", "content": "hi"}]}', "model"),
    "not an object": (b'["model", "messages"]', "object"),
}


def test_a_malformed_request_is_a_400_that_says_why(server):
    client = server.client()
    for case, (content, words) in MALFORMED.items():
        reply = client.post(
            "/v1/chat/completions", content=content, headers={"Content-Type": "application/json"}
        )
        assert reply.status_code == 400, case
        error = reply.json()["error"]
        assert error["type"] == "invalid_request_error", case
        assert words in error["message"], case


def test_request_keys_of_the_wrong_type_are_a_400(server):
    client = server.client()
    for extra in ({"filter_ids": 5}, {"metadata": {"params": 5}}):
        body = {"model": "cli_status_pipe", "messages": HELLO, **extra}
        reply = client.post("/v1/chat/completions", json=body)
        assert reply.status_code == 400, (extra, reply.text)
        assert next(iter(extra)) in reply.json()["error"]["message"]


# -- plugin errors ------------------------------------------------------------------------------
def plugin_calls(server, plugin: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = server.client().get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "pipehouse_plugin_calls"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["plugin"] == plugin
        if sample.labels["stage"] == "pipe"
    )


def test_a_failing_pipe_is_a_502_that_names_the_plugin(server):
    # the SDK's default client, with its retries: a plugin error is not retried
    with pytest.raises(openai.InternalServerError) as raised:
        sdk(server).chat.completions.create(model="cli_raises_pipe", messages=HELLO)
    assert raised.value.status_code == 502
    assert "cli_raises_pipe" in raised.value.message
    assert "api_key_missing" in raised.value.message
    assert plugin_calls(server, "cli_raises_pipe") == 1
    body = server.client().post(
        "/v1/chat/completions", json={"model": "cli_raises_pipe", "messages": HELLO}
    )
    assert body.status_code == 502
    error = body.json()["error"]
    assert error["type"] == "plugin_error"
    assert error["plugin"] == "cli_raises_pipe"
    assert error["code"] == "KeyError"


def test_a_stream_that_fails_ends_with_an_error_frame_then_done(server):
    payloads = streamed(server.client(), model="cli_raises_pipe", messages=HELLO)
    assert content_of(payloads) == "partial "
    assert payloads[-1] == "[DONE]"
    error = payloads[-2]["error"]
    assert error["plugin"] == "cli_raises_pipe"
    assert "api_key_missing" in error["message"]


def test_the_sdk_raises_the_stream_error_after_the_partial_answer(server):
    stream = sdk(server).chat.completions.create(
        model="cli_raises_pipe", messages=HELLO, stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as raised:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "partial "
    assert "api_key_missing" in raised.value.message


@pytest.mark.parametrize("server_plugins", [["cli_status_pipe", "filter_inlet_raises"]])
def test_an_inlet_filter_refusing_is_a_400_that_names_the_filter(server):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk(server).chat.completions.create(model="cli_status_pipe", messages=HELLO)
    assert "filter_inlet_raises" in raised.value.message
    assert "blocked by policy" in raised.value.message
    # the same for a client asking for a stream: refused before the stream starts
    reply = server.client().post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO, "stream": True},
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["plugin"] == "filter_inlet_raises"
    assert reply.json()["error"]["stage"] == "inlet"


@pytest.mark.parametrize("server_plugins", [["cli_status_pipe", "filter_inlet_raises"]])
@pytest.mark.parametrize("stream", [False, True])
def test_an_inlet_refusal_has_open_webuis_detail_and_the_plugin_beside_it(server, stream):
    # Open WebUI answers 400 {"detail": str(e)} (main.py chat_completion, 0.12.4), and its UI
    # and clients show `detail` as the chat's error: exactly the filter's words. Which plugin,
    # hook and line refused it is in `error`.
    reply = server.client().post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO, "stream": stream},
    )
    assert reply.status_code == 400
    answer = reply.json()
    assert answer["detail"] == "blocked by policy"
    error = answer["error"]
    assert (error["plugin"], error["stage"], error["line"]) == ("filter_inlet_raises", "inlet", 8)
    assert error["code"] == "ValueError"
    assert error["message"] == "plugin 'filter_inlet_raises' (inlet): blocked by policy"


@pytest.mark.parametrize("server_plugins", [["cli_status_pipe", "filter_vision_router"]])
def test_a_router_filter_naming_an_unknown_model_is_a_400_naming_both(server):
    admin = server.client()
    saved = admin.post(
        "/api/v1/functions/id/filter_vision_router/valves/update",
        json={"vision_model_id": "llava-retired"},
    )
    assert saved.status_code == 200, saved.text
    photo = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    for stream in (False, True):
        reply = admin.post(
            "/v1/chat/completions",
            json={
                "model": "cli_status_pipe",
                "messages": [{"role": "user", "content": photo}],
                "stream": stream,
            },
        )
        # 400 as Open WebUI ("Model not found"): the model the client named exists
        assert reply.status_code == 400, reply.text
        error = reply.json()["error"]
        assert error["code"] == "model_not_found"
        assert "llava-retired" in error["message"]
        assert "filter_vision_router" in error["message"]
        assert reply.json()["detail"] == error["message"]
    # without a photo the router leaves the request alone
    plain = admin.post("/v1/chat/completions", json={"model": "cli_status_pipe", "messages": HELLO})
    assert plain.status_code == 200, plain.text


# -- the filter chain runs for every client -----------------------------------------------------
@pytest.mark.parametrize(
    "server_plugins", [["cli_status_pipe", "cli_shout_filter", "filter_outlet_edits"]]
)
def test_filters_run_server_side_for_an_sdk_client(server):
    client = sdk(server)
    completion = client.chat.completions.create(model="cli_status_pipe", messages=HELLO)
    # inlet upper-cased the question; the outlet edited the answer
    assert completion.choices[0].message.content == "edited: echo: HELLO WORLD [user]"

    chunks = list(
        client.chat.completions.create(model="cli_status_pipe", messages=HELLO, stream=True)
    )
    # inlet upper-cased the question; the stream filter replaced spaces in each chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo:!HELLO!WORLD![user]"
    # the outlet rewrote the start of a streamed answer: that edit comes as a `replace` event,
    # which a client that asks for events in-band receives
    inline = sdk(server, default_headers={"X-Pipehouse-Events": "inline"})
    chunks = list(
        inline.chat.completions.create(model="cli_status_pipe", messages=HELLO, stream=True)
    )
    events = [c.model_extra["event"] for c in chunks if "event" in (c.model_extra or {})]
    assert {"type": "replace", "data": {"content": "edited: echo:!HELLO!WORLD![user]"}} in events


# -- clients that go away -----------------------------------------------------------------------
@pytest.mark.parametrize("server_plugins", [["sync_generator_endless"]])
@pytest.mark.parametrize("server_settings", [{"isolation": "inline"}])  # reads the instance
def test_a_client_that_goes_away_stops_the_pipe(server):
    pipe = server.app.state.executor.loaded("sync_generator_endless").instance
    body = {"model": "sync_generator_endless", "messages": HELLO, "stream": True}
    client = server.client()
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        received = b""
        for part in response.iter_bytes():
            received += part
            if b"tick3" in received:
                break
    client.close()  # the connection goes, mid-answer
    assert pipe.closed.wait(10)  # the endless generator was closed: its `finally` ran


# -- stopping the server ------------------------------------------------------------------------
@pytest.mark.parametrize("server_plugins", [["server_slow_stream"]])
def test_a_stream_in_progress_finishes_when_the_server_stops(server):
    body = {"model": "server_slow_stream", "messages": HELLO, "stream": True}
    with server.client().stream("POST", "/v1/chat/completions", json=body) as response:
        lines = response.iter_lines()
        received = []
        for line in lines:
            received.append(line)
            if '"one "' in line:
                break
        server.uvicorn.should_exit = True  # what SIGTERM does
        received += list(lines)
    payloads = parse_sse("".join(f"{line}\n" for line in received).encode())
    assert content_of(payloads) == "one two three four five"
    assert payloads[-1] == "[DONE]"

    def refused() -> bool:
        try:
            httpx.get(f"{server.base_url}/health", timeout=5)
        except httpx.ConnectError:
            return True
        return False

    eventually(refused, seconds=30, what="the server stopping")


@pytest.mark.parametrize("server_plugins", [["filter_answers_trail"]])
def test_filter_order_follows_valves_and_flags_changed_through_the_api(server):
    server.add_plugin("filter_trail", as_name="f_a")
    server.add_plugin("filter_trail", as_name="f_b")
    client = server.client()

    def trail() -> str:
        reply = client.post(
            "/v1/chat/completions", json={"model": "filter_answers_trail", "messages": HELLO}
        )
        return reply.json()["choices"][0]["message"]["content"].split("<")[0]

    # both files loaded, same priority: by id
    eventually(lambda: trail() == "trail=f_a,f_b", what="the filters loading")
    update = client.post("/api/v1/functions/id/f_b/valves/update", json={"priority": -1})
    assert update.status_code == 200, update.text
    assert trail() == "trail=f_b,f_a"  # the stored priority now puts f_b first
    assert client.post("/api/v1/functions/id/f_a/toggle").json()["is_active"] is False
    assert trail() == "trail=f_b"  # an inactive filter no longer runs


@pytest.mark.parametrize("server_plugins", [["server_leaks_key_in_error"]])
def test_a_secret_valve_never_appears_in_an_error(server):
    client = server.client()
    secret = "sk-live-0123456789abcdef"
    stored = client.post(
        "/api/v1/functions/id/server_leaks_key_in_error/valves/update", json={"api_key": secret}
    )
    assert stored.status_code == 200, stored.text
    reply = client.post(
        "/v1/chat/completions", json={"model": "server_leaks_key_in_error", "messages": HELLO}
    )
    assert reply.status_code == 502
    assert secret not in reply.text
    assert "key=********" in reply.json()["error"]["message"]
