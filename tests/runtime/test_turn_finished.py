"""`ChatTurn.on_finished`: told the final answer, after outlet filters, once a turn ends well
(what the chat store appends); never for a turn that failed."""

from __future__ import annotations

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.events import RecordingHost
from tests.conftest import USER


class Finished:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, turn, content: str) -> None:
        self.calls.append((turn.metadata["message_id"], content))


async def run(harness, model: str, *, stream: bool, **extra) -> Finished:
    finished = Finished()
    body = harness.body(model, id="answer-1", stream=stream, **extra)
    turn = await harness.runtime.start(body, USER, host=RecordingHost())
    turn.on_finished = finished
    if stream:
        [part async for part in turn.sse()]
    else:
        await turn.complete()
    return finished


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
async def test_the_answer_after_outlets_is_told_once(harness, stream):
    await harness.add("returns_sync_generator")
    await harness.add("filter_outlet_edits", is_global=True)
    finished = await run(harness, "returns_sync_generator", stream=stream)
    assert finished.calls == [("answer-1", "edited: Hello, world")]


async def test_a_completion_dict_a_pipe_returned_is_told_too(harness):
    await harness.add("returns_openai_completion_dict")
    finished = await run(harness, "returns_openai_completion_dict", stream=False)
    assert len(finished.calls) == 1 and finished.calls[0][0] == "answer-1"


async def test_a_failed_turn_is_not_told(harness):
    await harness.add("returns_raises")
    await harness.add("returns_generator_raises")
    with pytest.raises(PluginError):
        await run(harness, "returns_raises", stream=False)
    finished = await run(harness, "returns_generator_raises", stream=True)  # an error frame
    assert finished.calls == []


async def test_without_a_hook_nothing_is_called(harness):
    await harness.add("returns_str")
    turn = await harness.runtime.start(harness.body("returns_str"), USER, host=RecordingHost())
    assert turn.on_finished is None
    assert (await turn.complete())["choices"][0]["message"]["content"] == "plain answer"
