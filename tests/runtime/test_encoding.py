"""OpenAI encoding of answers: chunks, finish, usage, [DONE], and the completion object
(encoding.py; Open WebUI 0.12.4's template in functions.py is where pipehouse deviates)."""

from __future__ import annotations

import orjson
import pytest

from pipehouse.runtime.encoding import ChunkEncoder
from tests.conftest import content_of, parse_sse
from tests.runtime.helpers import (
    assert_text_before_finish,
    assert_well_formed,
    chunks,
    raw_sse,
    steps,
)

INCLUDE_USAGE = {"stream_options": {"include_usage": True}}


@pytest.mark.parametrize(
    "name", ["returns_str", "returns_sync_generator", "returns_generator_of_chunks"]
)
async def test_every_chunk_shares_one_id_and_names_the_model(harness, name):
    # Deviates from Open WebUI (a new `<model>-<uuid>` id per chunk, functions.py): one id per
    # completion, as OpenAI streams have.
    await harness.add(name)
    payloads = await harness.stream(harness.body(name, **INCLUDE_USAGE))
    all_chunks = chunks(payloads)
    assert len({c["id"] for c in all_chunks}) == 1
    assert {c["object"] for c in all_chunks} == {"chat.completion.chunk"}
    assert all(isinstance(c["created"], int) for c in all_chunks)
    assert {c["model"] for c in all_chunks if c["id"]} >= {name}


@pytest.mark.parametrize(
    "name", ["returns_str", "returns_sync_generator", "returns_generator_of_chunks"]
)
async def test_role_delta_first_and_exactly_one_finish_chunk(harness, name):
    # Deviates from Open WebUI (no role delta; an extra finish chunk after a pipe's own).
    await harness.add(name)
    payloads = await harness.stream(harness.body(name))
    assert steps(payloads)[0] == ({"role": "assistant", "content": ""}, None)
    assert [reason for _, reason in steps(payloads) if reason] == ["stop"]
    assert steps(payloads)[-1] == ({}, "stop")


async def test_done_is_last_and_ends_with_a_blank_line(harness):
    # Deviates from Open WebUI, which sends `data: [DONE]` without the blank line that ends an
    # SSE event (functions.py), so strict SSE parsers never see it.
    await harness.add("returns_sync_generator")
    raw = await raw_sse(harness, harness.body("returns_sync_generator"))
    assert raw.endswith(b"data: [DONE]\n\n")
    assert raw.count(b"[DONE]") == 1
    assert parse_sse(raw)[-1] == "[DONE]"  # every event is `data: ...` + blank line


async def test_no_usage_chunk_unless_asked(harness):
    await harness.add("returns_str")
    payloads = await harness.stream(harness.body("returns_str"))
    assert not any("usage" in c for c in chunks(payloads))


@pytest.mark.parametrize("name", ["returns_str", "returns_sync_generator"])
async def test_no_usage_is_made_up_when_the_pipe_reports_none(harness, name):
    # As Open WebUI, which sends no usage for a pipe: a count nobody measured is not a usage.
    # A client asking for usage in a stream gets none rather than an estimate.
    await harness.add(name)
    payloads = await harness.stream(harness.body(name, **INCLUDE_USAGE))
    assert_well_formed(payloads)
    assert not any("usage" in c for c in chunks(payloads))
    assert steps(payloads)[-1] == ({}, "stop")  # the finish chunk is the last one
    result = await harness.complete(harness.body(name))
    assert "usage" not in result


def usage_reports(payloads: list) -> list[dict]:
    return [c["usage"] for c in chunks(payloads) if c.get("usage")]


async def test_pipe_reported_usage_is_passed_through_not_summed(harness):
    # The pipe reports cumulative totals twice (11, then 12): the answer's usage is the last
    # report, not their sum (Open WebUI sums them), sent once, in the usage chunk at the end.
    await harness.add("returns_usage")
    payloads = await harness.stream(harness.body("returns_usage", **INCLUDE_USAGE))
    assert_well_formed(payloads)
    assert content_of(payloads) == "counted"
    expected = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    assert usage_reports(payloads) == [expected]
    usage_chunk = payloads[-2]  # after the finish chunk, right before [DONE]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == expected
    assert usage_chunk["id"] == chunks(payloads)[0]["id"]
    result = await harness.complete(harness.body("returns_usage"))
    assert result["usage"] == expected


async def test_a_returned_completions_usage_is_the_answers_usage_in_both_modes(harness):
    # A proxy pipe returning the provider's chat.completion: its usage is real, and reported.
    await harness.add("returns_openai_completion_dict")
    body = harness.body("returns_openai_completion_dict")
    expected = {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}
    assert (await harness.complete(body))["usage"] == expected
    payloads = await harness.stream({**body, **INCLUDE_USAGE})
    assert_well_formed(payloads)
    assert content_of(payloads) == "from a completion dict"
    assert usage_reports(payloads) == [expected]
    assert payloads[-2] == {**payloads[-2], "choices": [], "usage": expected}


async def test_text_a_stream_filter_adds_to_the_finish_chunk_comes_before_it(harness):
    # A footer filter writes into the chunk that ends the answer: the client gets that text,
    # then a bare finish chunk, so a client that stops reading at the finish misses nothing.
    await harness.add("filter_stream_footer")
    await harness.add("returns_str")
    payloads = await harness.stream(harness.body("returns_str"))
    assert_well_formed(payloads)
    assert content_of(payloads) == "plain answer\n\n_AI-generated; check important facts._"
    assert steps(payloads)[-1] == ({}, "stop")


async def test_a_pipes_own_finish_chunk_waits_for_the_text_after_it(harness):
    # A pipe that passes on its provider's finish chunk, then the outlets' addition: the text
    # still comes first, and the pipe's own finish chunk ends the answer.
    await harness.add("returns_generator_of_chunks")
    await harness.add("filter_trail", plugin_id="f_a")
    payloads = await harness.stream(harness.body("returns_generator_of_chunks"))
    assert_text_before_finish(payloads)
    assert_well_formed(payloads)
    assert content_of(payloads) == "chunk [f_a]by chunk[f_a]<f_a>"


async def test_non_streamed_completion_shape(harness):
    await harness.add("returns_str")
    result = await harness.complete(harness.body("returns_str"))
    assert result["object"] == "chat.completion"
    assert result["model"] == "returns_str"
    assert isinstance(result["id"], str) and result["id"]
    assert isinstance(result["created"], int)
    [choice] = result["choices"]
    assert choice["index"] == 0
    assert choice["message"] == {"role": "assistant", "content": "plain answer"}
    assert choice["finish_reason"] == "stop"
    assert "usage" not in result  # a plain string reports none, and none is estimated


@pytest.mark.parametrize(
    "text", ["plain", 'quotes " and \\ backslash', "line\nbreak\ttab", "caf\u00e9 \U0001f600", ""]
)
def test_fast_text_frame_is_the_same_chunk_as_the_slow_one(text):
    encoder = ChunkEncoder("some-model")
    framed = encoder.text_frame(text)
    assert framed.startswith(b"data: ") and framed.endswith(b"\n\n")
    assert orjson.loads(framed[6:-2]) == encoder.text_chunk(text)
