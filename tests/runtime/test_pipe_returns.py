"""What a pipe returns or yields, as the client sees it, streamed and not (Open WebUI 0.12.4
functions.py)."""

from __future__ import annotations

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.events import RecordingHost
from tests.conftest import content_of
from tests.runtime.helpers import assert_well_formed, errors, events, message, steps

ROLE = ({"role": "assistant", "content": ""}, None)
FINISH = ({}, "stop")


async def stream_of(harness, name: str, host: RecordingHost | None = None) -> list:
    await harness.add(name)
    return await harness.stream(harness.body(name), host=host)


async def completion_of(harness, name: str, host: RecordingHost | None = None) -> dict:
    await harness.add(name)
    return await harness.complete(harness.body(name), host=host)


# -- str ----------------------------------------------------------------------------------------
async def test_str_streams_as_one_content_chunk(harness):
    payloads = await stream_of(harness, "returns_str")
    assert_well_formed(payloads)
    assert steps(payloads) == [ROLE, ({"content": "plain answer"}, None), FINISH]


async def test_str_completes_as_the_message(harness):
    result = await completion_of(harness, "returns_str")
    assert message(result) == {"role": "assistant", "content": "plain answer"}
    assert result["choices"][0]["finish_reason"] == "stop"


# -- dict ---------------------------------------------------------------------------------------
async def test_completion_dict_streams_as_a_content_delta(harness):
    # Deviates from Open WebUI (one raw `data:` frame of the chat.completion, no [DONE]): an
    # OpenAI client cannot read a completion object mid-stream, so it becomes a content delta.
    payloads = await stream_of(harness, "returns_openai_completion_dict")
    assert_well_formed(payloads)
    assert content_of(payloads) == "from a completion dict"
    # its text first, then a bare finish chunk: no text rides on (or after) the finish
    assert steps(payloads)[-2:] == [
        ({"role": "assistant", "content": "from a completion dict"}, None),
        ({}, "stop"),
    ]


async def test_completion_dict_is_returned_as_is(harness):
    # Open WebUI 0.12.4 functions.py: a returned dict is the answer as-is, its own id and model
    # included.
    result = await completion_of(harness, "returns_openai_completion_dict")
    assert result["id"] == "chatcmpl-from-the-pipe"
    assert result["model"] == "upstream-model"
    assert result["object"] == "chat.completion"
    assert message(result)["content"] == "from a completion dict"
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"] == {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}


async def test_plain_dict_streams_as_one_frame(harness):
    # functions.py `process_line`: a dict is sent as one `data: {json}` frame, verbatim. pipehouse
    # then still ends the stream with its finish chunk and [DONE] (Open WebUI stops without them,
    # leaving clients waiting for the end of the stream).
    payloads = await stream_of(harness, "returns_plain_dict")
    assert {"answer": 42, "note": "not an OpenAI object"} in payloads
    assert_well_formed(payloads)
    assert content_of(payloads) == ""


async def test_plain_dict_is_returned_as_is(harness):
    result = await completion_of(harness, "returns_plain_dict")
    assert result == {"answer": 42, "note": "not an OpenAI object"}  # dict returned as-is


async def test_error_dict_streams_an_error_frame_naming_the_plugin(harness):
    # Deviates from Open WebUI (forwards the dict raw, no [DONE]): the error is reported in the
    # same shape as any plugin failure, with the plugin named, and the stream ends properly.
    payloads = await stream_of(harness, "returns_error_dict")
    assert payloads[-1] == "[DONE]"
    [error] = errors(payloads)
    assert error["plugin"] == "returns_error_dict"
    assert "upstream quota exceeded" in error["message"]


async def test_error_dict_raises_plugin_error(harness):
    with pytest.raises(PluginError) as caught:
        await completion_of(harness, "returns_error_dict")
    assert caught.value.plugin_id == "returns_error_dict"
    assert "upstream quota exceeded" in caught.value.message


# -- BaseModel ----------------------------------------------------------------------------------
async def test_basemodel_completes_like_its_dump(harness):
    # functions.py: BaseModel => model_dump(); an OpenAI-shaped one is read as the completion it is.
    result = await completion_of(harness, "returns_basemodel")
    assert message(result)["content"] == "from a model object"


async def test_plain_basemodel_completes_as_its_dump(harness):
    result = await completion_of(harness, "returns_plain_basemodel")
    assert result == {"verdict": "fine", "score": 7}


async def test_basemodel_streams_like_a_dict(harness):
    # Deviates from Open WebUI, which streams nothing for a BaseModel (no isinstance branch
    # matches, `process_line`): pipehouse treats it as its dump, as the non-streaming path already
    # does, so an SDK ChatCompletion object returned by a pipe is not silently lost.
    payloads = await stream_of(harness, "returns_basemodel")
    assert_well_formed(payloads)
    assert content_of(payloads) == "from a model object"


async def test_plain_basemodel_streams_as_one_frame(harness):
    payloads = await stream_of(harness, "returns_plain_basemodel")  # (same deviation)
    assert {"verdict": "fine", "score": 7} in payloads
    assert_well_formed(payloads)


# -- StreamingResponse --------------------------------------------------------------------------
async def test_streaming_response_items_reach_the_client_in_order(harness):
    # functions.py `process_line`: its `data:` lines are the answer. pipehouse re-splits them by
    # line, so two events in one item both arrive (Open WebUI's UI path drops such an item:
    # utils/middleware.py) and an event split across two items is joined; the pipe's own `data:
    # [DONE]` is not forwarded early.
    payloads = await stream_of(harness, "returns_streaming_response")
    assert_well_formed(payloads)
    assert [d.get("content") for d, _ in steps(payloads)[1:-1]] == [
        "one ",
        "two ",
        "three ",
        "four",
    ]
    # Deviates from Open WebUI (verbatim bytes): the upstream ids are replaced by one stable id.
    assert "upstream-chunk-id" not in {p["id"] for p in payloads if isinstance(p, dict)}


async def test_streaming_response_completes_as_the_joined_text(harness):
    # Open WebUI returns the StreamingResponse itself, later read as a stream (functions.py); the
    # text a client gets is the same joined answer.
    result = await completion_of(harness, "returns_streaming_response")
    assert message(result)["content"] == "one two three four"


# -- generators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["returns_sync_generator", "returns_async_generator"])
async def test_generator_streams_one_chunk_per_item(harness, name):
    payloads = await stream_of(harness, name)
    assert_well_formed(payloads)
    assert steps(payloads) == [
        ROLE,
        ({"content": "Hel"}, None),
        ({"content": "lo, "}, None),
        ({"content": "world"}, None),
        FINISH,
    ]


@pytest.mark.parametrize("name", ["returns_sync_generator", "returns_async_generator"])
async def test_generator_completes_as_the_joined_text(harness, name):
    result = await completion_of(harness, name)
    assert message(result)["content"] == "Hello, world"


async def test_generator_of_chunks_gets_one_stable_id_and_one_finish(harness):
    # Deviates from Open WebUI (forwards each chunk's own id): one id per completion, as OpenAI.
    payloads = await stream_of(harness, "returns_generator_of_chunks")
    assert_well_formed(payloads)
    assert not any(p["id"].startswith("upstream-") for p in payloads if isinstance(p, dict))
    assert content_of(payloads) == "chunk by chunk"
    # The pipe's own finish chunk is the one finish chunk: none is added after it.
    assert steps(payloads)[-1] == FINISH


async def test_generator_of_chunks_completes_as_their_text(harness):
    result = await completion_of(harness, "returns_generator_of_chunks")
    assert message(result)["content"] == "chunk by chunk"
    assert result["choices"][0]["finish_reason"] == "stop"


async def test_generator_of_event_dicts_streams_them_in_band_in_order(harness):
    host = RecordingHost()
    payloads = await stream_of(harness, "returns_generator_of_events", host)
    assert_well_formed(payloads)
    kinds = [
        ("event", p["event"]["data"]["description"])
        if "event" in p
        else ("text", p["choices"][0]["delta"].get("content"))
        for p in payloads[1:-2]
    ]
    assert kinds == [
        ("event", "thinking"),
        ("text", "answer "),
        ("event", "done"),
        ("text", "text"),
    ]
    assert [e["data"]["description"] for e in host.events] == ["thinking", "done"]


async def test_generator_of_event_dicts_completes_without_their_repr(harness):
    # Deviates from Open WebUI, which ''.join(map(str, ...)) a generator (functions.py
    # `get_message_content`) and so puts the repr of every yielded dict into the answer: the events
    # go to the host, the text is kept.
    host = RecordingHost()
    result = await completion_of(harness, "returns_generator_of_events", host)
    assert message(result)["content"] == "answer text"
    assert [e["type"] for e in host.events] == ["status", "status"]


async def test_generator_of_bytes_is_decoded(harness):
    # functions.py `process_line`: bytes are decoded as UTF-8, then read like strings (a `data:`
    # line too).
    payloads = await stream_of(harness, "returns_generator_of_bytes")
    assert_well_formed(payloads)
    assert content_of(payloads) == "bytes \u00e9!"
    result = await harness.complete(harness.body("returns_generator_of_bytes"))
    assert message(result)["content"] == "bytes \u00e9!"


@pytest.mark.parametrize("as_sse", [False, True], ids=["bytes", "streaming-response"])
async def test_characters_split_across_byte_chunks_arrive_whole(harness, as_sse):
    # Two-byte chunks cut "é", "€" and "👋" in the middle; each chunk decoded alone gives U+FFFD.
    harness.store.by_plugin["returns_bytes_split_characters"] = {"as_sse": as_sse}
    payloads = await stream_of(harness, "returns_bytes_split_characters")
    assert_well_formed(payloads)
    assert content_of(payloads) == "héllo € 👋"
    result = await harness.complete(harness.body("returns_bytes_split_characters"))
    assert message(result)["content"] == "héllo € 👋"


async def test_generator_of_data_lines_is_passed_through_as_chunks(harness):
    payloads = await stream_of(harness, "returns_generator_of_data_lines")
    # One [DONE], at the very end: the pipe's own `data: [DONE]` is not forwarded, since it
    # would end the stream for the client before pipehouse's usage and outlet frames.
    assert_well_formed(payloads)
    assert content_of(payloads) == "upstream"
    assert steps(payloads)[-1] == FINISH
    result = await harness.complete(harness.body("returns_generator_of_data_lines"))
    assert message(result)["content"] == "upstream"


async def test_none_numbers_and_empty_strings_do_not_break_the_stream(harness):
    # Deviates from Open WebUI: None or a number crashes its process_line (AttributeError) and an
    # empty string becomes a `finish_reason: "stop"` chunk that ends the answer early for
    # clients; here None and "" are skipped and numbers are sent as their text.
    payloads = await stream_of(harness, "returns_generator_of_odd_items")
    assert_well_formed(payloads)
    assert steps(payloads) == [
        ROLE,
        ({"content": "a"}, None),
        ({"content": "3"}, None),
        ({"content": "2.5"}, None),
        ({"content": "b"}, None),
        FINISH,
    ]


async def test_none_numbers_and_empty_strings_complete_without_none(harness):
    # Deviates from Open WebUI, whose str()-join would answer "aNone32.5b".
    result = await completion_of(harness, "returns_generator_of_odd_items")
    assert message(result)["content"] == "a32.5b"


# -- str subclasses -----------------------------------------------------------------------------
@pytest.mark.parametrize("stream_lines", [False, True], ids=["returned", "yielded"])
async def test_str_subclass_is_text(harness, stream_lines):
    # pyfiglet's figlet_format() returns a FigletString; Open WebUI streams it as text.
    harness.store.by_plugin["returns_str_subclass"] = {"stream_lines": stream_lines}
    banner = "#######\n# hi! #\n#######"
    await harness.add("returns_str_subclass")
    payloads = await harness.stream(harness.body("returns_str_subclass", "hi!"))
    assert_well_formed(payloads)
    assert content_of(payloads).strip() == banner
    result = await harness.complete(harness.body("returns_str_subclass", "hi!"))
    assert message(result)["content"].strip() == banner


# -- None, list ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["returns_none", "returns_list"])
async def test_none_and_list_stream_an_empty_answer(harness, name):
    # functions.py `process_line`: nothing is emitted for them; the stream still finishes.
    payloads = await stream_of(harness, name)
    assert_well_formed(payloads)
    assert steps(payloads) == [ROLE, FINISH]


@pytest.mark.parametrize("name", ["returns_none", "returns_list"])
async def test_none_and_list_complete_with_no_content(harness, name):
    # functions.py: get_message_content gives None for them. (Open WebUI then leaves out the
    # `message` key; pipehouse keeps the OpenAI shape with `content: null`.)
    result = await completion_of(harness, name)
    assert result["object"] == "chat.completion"
    assert message(result)["content"] is None


# -- exceptions ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text", "partial"),
    [
        ("returns_raises", "the pipe broke before answering", ""),
        ("returns_generator_raises", "the stream broke halfway", "partial "),
        ("returns_async_generator_raises", "the async stream broke halfway", "partial "),
        ("returns_streaming_response_raises", "upstream connection reset", "partial "),
    ],
)
async def test_exception_streams_an_error_frame_then_done(harness, name, text, partial):
    # Deviates from Open WebUI (no [DONE] after a call error; a generator's error is not caught
    # at all, functions.py): every failure becomes an error frame naming the plugin, then [DONE].
    payloads = await stream_of(harness, name)
    assert content_of(payloads) == partial
    assert payloads[-1] == "[DONE]"
    assert isinstance(payloads[-2], dict) and "error" in payloads[-2]
    error = payloads[-2]["error"]
    assert error["plugin"] == name
    assert text in error["message"]
    assert [d for d, reason in steps(payloads) if reason] == []  # the answer did not "finish"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("returns_raises", "the pipe broke before answering"),
        ("returns_generator_raises", "the stream broke halfway"),
        ("returns_async_generator_raises", "the async stream broke halfway"),
        ("returns_streaming_response_raises", "upstream connection reset"),
    ],
)
async def test_exception_raises_plugin_error_naming_the_plugin(harness, name, text):
    with pytest.raises(PluginError) as caught:
        await completion_of(harness, name)
    assert caught.value.plugin_id == name
    assert caught.value.stage == "pipe"
    assert text in caught.value.message
    assert caught.value.path and caught.value.path.endswith(f"{name}.py")
    assert caught.value.line is not None  # points at the plugin's own line


async def test_events_are_not_mistaken_for_errors(harness):
    payloads = await stream_of(harness, "returns_generator_of_events")
    assert errors(payloads) == []
    assert len(events(payloads)) == 2


async def test_outlet_filters_still_edit_a_returned_completion_dict(harness):
    await harness.add("returns_openai_completion_dict")
    await harness.add("filter_trail")
    result = await harness.complete(harness.body("returns_openai_completion_dict"))
    assert result["id"] == "chatcmpl-from-the-pipe"
    assert message(result)["content"] == "from a completion dict<filter_trail>"
