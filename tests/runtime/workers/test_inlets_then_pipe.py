"""A non-streamed request whose inlet filters and pipe share a worker crosses to it once
(`ProcessExecutor.call_inlets_then_pipe`): the worker runs the inlets, then the pipe, with the
turn's rules between them. What a user sees must not change: the pipe gets what the inlets
made of the body and the metadata, events come in order, errors name the plugin that failed,
metrics count every plugin's call, and a crash is still pinned on its plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.events import RecordingHost
from pipehouse.runtime.workers.connection import Connection
from pipehouse.runtime.workers.executor import ProcessExecutor
from tests.conftest import USER, Harness
from tests.runtime.helpers import message

Observed = tuple[str, str, bool]


@pytest.fixture
def observed() -> list[Observed]:
    return []


@pytest.fixture
async def harness(observed: list[Observed]) -> AsyncIterator[Harness]:
    h = Harness(ProcessExecutor(observer=lambda p, stage, _, ok: observed.append((p, stage, ok))))
    yield h
    await h.executor.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plugin calls that cross to a worker, by method, in order (loads left out)."""
    methods: list[str] = []
    start = Connection.start

    def recording(self: Connection, frame: dict[str, Any], call: Any) -> int:
        if frame.get("k") == "call" and frame.get("m") != "secret_values":
            methods.append(frame["m"])
        return start(self, frame, call)

    monkeypatch.setattr(Connection, "start", recording)
    return methods


async def test_the_inlets_and_the_pipe_cross_once(harness, sent):
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("filter_trail", plugin_id="f_b")
    await harness.add("filter_answers_trail")
    sent.clear()
    result = await harness.complete(harness.body("filter_answers_trail"))
    assert message(result)["content"] == "trail=f_a,f_b<f_a><f_b>"
    assert sent == ["inlets_then_pipe", "call_filter", "call_filter"]  # the outlets after it


async def test_a_stream_calls_each_hook_on_its_own(harness, sent):
    # Its answer would be open in the worker before the client takes it (turn.py `_fusable`).
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("filter_answers_trail")
    sent.clear()
    await harness.stream(harness.body("filter_answers_trail"))
    assert sent[:2] == ["call_filter", "call_pipe"]


async def test_plugins_in_different_workers_are_called_one_by_one(sent):
    harness = Harness(ProcessExecutor(sharing="plugin"))
    try:
        await harness.add("filter_trail", plugin_id="f_a")
        await harness.add("filter_answers_trail")
        sent.clear()
        result = await harness.complete(harness.body("filter_answers_trail"))
        assert message(result)["content"] == "trail=f_a<f_a>"
        assert sent[:2] == ["call_filter", "call_pipe"]
    finally:
        await harness.executor.close()


async def test_the_pipe_gets_the_metadata_the_inlets_made_and_events_keep_their_order(harness):
    await harness.add("fused_language_filter")
    await harness.add("fused_greets_in_language")
    host = RecordingHost()
    body = harness.body("fused_greets_in_language", "Bonjour, ça va ?")
    result = await harness.complete(body, host=host)
    assert message(result)["content"] == "Bonjour !"
    assert [e["data"]["description"] for e in host.events] == ["language: fr", "greeting"]


async def test_every_plugins_call_is_observed(harness, observed):
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("filter_answers_trail")
    observed.clear()
    await harness.complete(harness.body("filter_answers_trail"))
    assert observed == [
        ("f_a", "inlet", True),
        ("filter_answers_trail", "pipe", True),
        ("f_a", "outlet", True),
    ]


async def test_an_inlets_error_stops_the_request_before_the_pipe(harness, observed):
    await harness.add("filter_inlet_raises")
    await harness.add("returns_str")
    observed.clear()
    with pytest.raises(PluginError) as caught:
        await harness.runtime.start(harness.body("returns_str"), USER, host=RecordingHost())
    assert (caught.value.plugin_id, caught.value.stage) == ("filter_inlet_raises", "inlet")
    assert observed == [("filter_inlet_raises", "inlet", False)]


async def test_the_pipes_error_comes_when_its_answer_is_taken(harness, observed):
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("returns_raises")
    observed.clear()
    turn = await harness.runtime.start(harness.body("returns_raises"), USER, host=RecordingHost())
    with pytest.raises(PluginError) as caught:
        await turn.complete()
    assert (caught.value.plugin_id, caught.value.stage) == ("returns_raises", "pipe")
    assert observed == [("f_a", "inlet", True), ("returns_raises", "pipe", False)]


async def test_a_generator_answer_is_taken_whole(harness, sent):
    await harness.add("filter_trail", plugin_id="f_a")
    await harness.add("returns_sync_generator")
    sent.clear()
    result = await harness.complete(harness.body("returns_sync_generator"))
    assert message(result)["content"] == "Hello, world<f_a>"
    assert sent[0] == "inlets_then_pipe"


async def test_a_crash_in_one_call_names_its_plugins_and_the_next_one_its_culprit(
    harness, sent, caplog
):
    await harness.add("fused_crashing_inlet")
    await harness.add("returns_str")
    with pytest.raises(PluginError) as first:
        await harness.complete(harness.body("returns_str"))
    assert first.value.error_type == "WorkerExited"
    assert "exited with code 3" in first.value.message
    assert "fused_crashing_inlet' and then this pipe in one call" in first.value.message
    assert "ended its worker" not in caplog.text  # nobody is blamed for what is not known

    sent.clear()
    with pytest.raises(PluginError) as second:
        await harness.complete(harness.body("returns_str"))
    assert sent == ["call_filter"]  # hook by hook now: the inlet ended its worker again
    assert (second.value.plugin_id, second.value.stage) == ("fused_crashing_inlet", "inlet")
    assert "in one call" not in second.value.message
    assert "plugin 'fused_crashing_inlet' ended its worker" in caplog.text
