"""A request's tools (runtime/tools.py) and `call_tool`, through a real executor and catalog
(Open WebUI 0.12.4 utils/tools.py: specs, `__tools__`, running tool calls, results, events)."""

from __future__ import annotations

import asyncio
import datetime
import json
import threading
from typing import Any

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.errors import RequestError
from pipehouse.runtime.events import RecordingHost
from pipehouse.runtime.executor import CallContext
from pipehouse.runtime.tools import ToolSet, is_error_result, parse_arguments, tool_result_text
from tests.conftest import USER

METADATA = {"chat_id": "chat-1", "features": {"web_search": True}}


def tool_call(name: str, arguments: Any = "{}", call_id: str | None = None) -> dict[str, Any]:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": call_id or f"call-{name}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


async def toolset(harness, *names: str, host=None, messages=None) -> ToolSet:
    """A ToolSet over fixture toolkits, loaded first when the catalog lacks them."""
    for name in names:
        if harness.catalog.get(name) is None:
            await harness.add(name)
    return await build(harness, names, host=host, messages=messages)


async def build(harness, tool_ids, *, host=None, messages=None) -> ToolSet:
    async def context_for(info):
        return await harness.runtime.call_context(
            info, USER, metadata=dict(METADATA), host=host or RecordingHost()
        )

    return await ToolSet.build(
        tool_ids, harness.catalog, harness.executor, context_for, messages=messages
    )


async def run(tools: ToolSet, *calls: dict[str, Any], host=None) -> list[str]:
    messages = await tools.execute(list(calls), host or RecordingHost())
    return [m["content"] for m in messages]


# -- specs and __tools__ ------------------------------------------------------------------------


async def test_specs_rename_a_later_clashing_function(harness):
    tools = await toolset(harness, "tools_clash_a", "tools_clash_b")
    names = [spec["function"]["name"] for spec in tools.specs]
    assert names == ["lookup", "only_a", "tools_clash_b_lookup"]
    assert all(spec["type"] == "function" for spec in tools.specs)


async def test_renamed_function_calls_the_later_toolkit(harness):
    tools = await toolset(harness, "tools_clash_a", "tools_clash_b")
    contents = await run(
        tools,
        tool_call("lookup", {"key": "k"}),
        tool_call("tools_clash_b_lookup", {"key": "k"}),
    )
    assert contents == ["a:k", "b:k"]


async def test_unknown_tool_ids_are_a_request_error_naming_them(harness):
    await harness.add("tools_math")
    await harness.add("kind_pipe")
    with pytest.raises(RequestError, match="'nope', 'kind_pipe'"):
        await build(harness, ["tools_math", "nope", "kind_pipe"])


async def test_tool_ids_must_be_strings(harness):
    with pytest.raises(RequestError, match="list of strings"):
        await build(harness, [{"id": "tools_math"}])


async def test_dunder_tools_shape(harness):
    tools = await toolset(harness, "tools_math", "tools_citation")
    dunder = tools.as_dunder_tools()
    assert list(dunder) == ["add", "fetch", "nothing"]
    add = dunder["add"]
    assert set(add) == {"tool_id", "callable", "spec", "metadata"}
    assert add["tool_id"] == "tools_math"
    assert add["spec"]["name"] == "add"
    assert add["metadata"] == {"file_handler": False, "citation": False}
    assert dunder["fetch"]["metadata"] == {"file_handler": False, "citation": True}
    assert asyncio.iscoroutinefunction(add["callable"])
    assert await add["callable"](a=2, b=3) == 5  # the raw value, not text


async def test_a_pipe_awaits_a_tool_through_dunder_tools(harness):
    tools = await toolset(harness, "tools_math")
    await harness.add("tools_pipe_calls_add")
    call = CallContext(user=USER, metadata={"tools": tools.as_dunder_tools()})
    result = await harness.executor.call_pipe("tools_pipe_calls_add", {"messages": []}, call)
    assert result.value == "1 + 2 = 3"


# -- running tool calls -------------------------------------------------------------------------


async def test_tool_messages_in_call_order(harness):
    tools = await toolset(harness, "tools_math")
    messages = await tools.execute(
        [tool_call("add", {"a": 1, "b": 2}, "c1"), tool_call("add", {"a": 5, "b": 5}, "c2")],
        RecordingHost(),
    )
    assert messages == [
        {"role": "tool", "tool_call_id": "c1", "content": "3"},
        {"role": "tool", "tool_call_id": "c2", "content": "10"},
    ]


async def test_several_calls_run_concurrently(harness):
    # ping waits (at most 1 s) for pong to start and vice versa: run one after the other, both
    # would time out and report an error.
    tools = await toolset(harness, "tools_rendezvous")
    contents = await asyncio.wait_for(run(tools, tool_call("ping"), tool_call("pong")), timeout=5)
    assert contents == ["ping", "pong"]


async def test_sync_tool_runs_off_the_event_loop_thread(harness):
    tools = await toolset(harness, "tools_sync")
    (content,) = await run(tools, tool_call("where"))
    report = json.loads(content)
    assert report["thread"] != threading.get_ident()
    assert report["main"] is False


async def test_arguments_are_filtered_to_the_spec_and_coerced(harness):
    tools = await toolset(harness, "tools_with_valves")
    arguments = {
        "topic": 7,  # number -> str
        "count": "3",  # str -> int
        "limit": "10",  # str -> Optional[int]
        "label": 2.5,  # number -> Optional[str]
        "extra": "dropped",  # not in the spec
        "__id__": "spoofed",  # injected names cannot be supplied by the model
    }
    (content,) = await run(tools, tool_call("report", arguments))
    report = json.loads(content)
    assert report["topic"] == "7"
    assert (report["count"], report["limit"], report["label"]) == (3, 10, "2.5")
    assert report["types"] == ["str", "int", "int", "str"]
    assert report["id"] == "tools_with_valves"


async def test_a_bool_is_not_coerced_to_str(harness):
    tools = await toolset(harness, "tools_with_valves")
    (content,) = await run(tools, tool_call("report", {"topic": True}))
    assert json.loads(content)["topic"] is True


async def test_valves_user_valves_and_injected_arguments_reach_the_tool(harness):
    harness.store.by_plugin["tools_with_valves"] = {"units": "imperial"}
    harness.store.by_user[("tools_with_valves", USER["id"])] = {"city": "Oslo"}
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    tools = await toolset(harness, "tools_with_valves", messages=history)
    (content,) = await run(tools, tool_call("report", {"topic": "t"}))
    report = json.loads(content)
    assert report["units"] == "imperial"
    assert report["city"] == "Oslo"
    assert report["user_id"] == USER["id"]
    assert report["id"] == "tools_with_valves"
    assert report["chat_id"] == "chat-1"
    assert report["messages"] == 2
    assert report["features"] == {"web_search": True}


async def test_messages_given_to_execute_replace_the_built_ones(harness):
    tools = await toolset(harness, "tools_with_valves", messages=[{"role": "user"}])
    messages = await tools.execute(
        [tool_call("report", {"topic": "t"})], RecordingHost(), messages=[]
    )
    assert json.loads(messages[0]["content"])["messages"] == 0


# -- errors become results ----------------------------------------------------------------------


async def test_errors_become_tool_results(harness):
    tools = await toolset(harness, "tools_math", "tools_raises")
    contents = await run(
        tools,
        tool_call("add", "[1, 2]"),
        tool_call("add", "{not json"),
        tool_call("missing", {"a": 1}),
        tool_call("explode", {"reason": "boom"}),
        tool_call("add", {"a": 1}),
        tool_call("add", {"a": "one", "b": 2}),
    )
    assert contents[0] == (
        "Error: Tool call arguments for `add` must be a JSON object. Please try again."
    )
    assert contents[1] == (
        "Error: Tool call arguments could not be parsed. The model generated malformed or "
        "incomplete JSON for `add`. Please try again."
    )
    assert contents[2] == 'Error: Tool "missing" not found.'
    assert json.loads(contents[3]) == {"error": "boom"}
    assert contents[3] == '{\n  "error": "boom"\n}'
    assert "missing 1 required positional argument: 'b'" in json.loads(contents[4])["error"]
    assert json.loads(contents[5]) == {"error": "invalid literal for int() with base 10: 'one'"}


async def test_invalid_stored_valves_fail_only_that_call(harness):
    harness.store.by_plugin["tools_with_valves"] = {"units": ["not", "text"]}
    tools = await toolset(harness, "tools_with_valves", "tools_math")
    report, total = await run(
        tools, tool_call("report", {"topic": "t"}), tool_call("add", {"a": 1, "b": 1})
    )
    assert json.loads(report)["error"].startswith("invalid Valves: units")
    assert total == "2"


async def test_malformed_tool_calls_become_results(harness):
    tools = await toolset(harness, "tools_math")
    messages = await tools.execute(["junk", {"id": "c", "function": None}], RecordingHost())
    assert [m["content"] for m in messages] == ['Error: Tool "" not found.'] * 2
    assert messages[1]["tool_call_id"] == "c"
    assert messages[0]["tool_call_id"].startswith("call_")


async def test_empty_or_python_literal_arguments_are_accepted(harness):
    tools = await toolset(harness, "tools_sync", "tools_math")
    contents = await run(tools, tool_call("where", ""), tool_call("add", "{'a': 1, 'b': 1}"))
    assert "thread" in json.loads(contents[0])
    assert contents[1] == "2"


async def test_call_tool_names_unknown_tools_and_non_toolkits(harness):
    await harness.add("tools_math")
    await harness.add("kind_pipe")
    with pytest.raises(PluginError, match="has no tool 'sub'") as caught:
        await harness.executor.call_tool("tools_math", "sub", {}, CallContext())
    assert caught.value.plugin_id == "tools_math"
    assert caught.value.stage == "tool"
    with pytest.raises(PluginError, match="has no tool 'pipe'"):
        await harness.executor.call_tool("kind_pipe", "pipe", {}, CallContext())
    with pytest.raises(PluginError, match="has no tool '_private'"):
        await harness.executor.call_tool("tools_math", "_private", {}, CallContext())


async def test_call_tool_errors_name_the_plugin(harness):
    await harness.add("tools_raises")
    with pytest.raises(PluginError) as caught:
        await harness.executor.call_tool(
            "tools_raises", "explode", {"reason": "boom"}, CallContext()
        )
    assert (caught.value.plugin_id, caught.value.stage) == ("tools_raises", "tool")
    assert caught.value.message == "boom"
    assert caught.value.error_type == "ValueError"


# -- events -------------------------------------------------------------------------------------


async def test_status_events_around_each_tool(harness):
    host = RecordingHost()
    tools = await toolset(harness, "tools_math", "tools_raises", host=host)
    await run(tools, tool_call("add", {"a": 1, "b": 1}), host=host)
    assert host.events == [
        {"type": "status", "data": {"description": "Executing add...", "done": False}},
        {"type": "status", "data": {"description": "View Result from add", "done": True}},
    ]
    host.events.clear()
    await run(tools, tool_call("explode", {"reason": "x"}), host=host)
    assert host.events[-1] == {
        "type": "status",
        "data": {"description": "View Result from explode", "done": True, "error": True},
    }


async def test_no_events_for_calls_that_never_reach_a_tool(harness):
    host = RecordingHost()
    tools = await toolset(harness, "tools_math", host=host)
    await run(tools, tool_call("missing"), tool_call("add", "[]"), host=host)
    assert host.events == []


async def test_a_tools_own_events_reach_the_host(harness):
    host = RecordingHost()
    tools = await toolset(harness, "tools_with_valves")
    await run(tools, tool_call("report", {"topic": "t"}), host=host)
    assert {"type": "status", "data": {"description": "reporting"}} in host.events


async def test_citation_toolkit_emits_a_source_with_the_result(harness):
    host = RecordingHost()
    tools = await toolset(harness, "tools_citation", "tools_math")
    await run(
        tools,
        tool_call("fetch", {"url": "https://example.com"}),
        tool_call("nothing"),
        tool_call("add", {"a": 1, "b": 1}),
        host=host,
    )
    sources = [e for e in host.events if e["type"] == "source"]
    assert sources == [
        {
            "type": "source",
            "data": {
                "source": {"name": "fetch", "type": "tool", "id": "tools_citation"},
                "document": ["content of https://example.com"],
                "metadata": [{"source": "fetch", "name": "fetch"}],
            },
        }
    ]


async def test_inline_html_is_sent_as_an_embed(harness):
    host = RecordingHost()
    tools = await toolset(harness, "tools_returns")
    contents = await run(tools, tool_call("give_html_with_context"), host=host)
    assert contents == ["A chart of the sales is shown."]
    assert {"type": "embeds", "data": {"embeds": ["<b>chart</b>"]}} in host.events


# -- result text --------------------------------------------------------------------------------


async def test_return_values_as_tool_text(harness):
    tools = await toolset(harness, "tools_returns")
    names = ["give_dict", "give_list", "give_tuple", "give_str", "give_none", "give_int"]
    contents = await run(tools, *(tool_call(name) for name in names))
    assert contents == [
        '{\n  "city": "Zürich",\n  "temp": 21\n}',
        '{\n  "results": [\n    1,\n    "two"\n  ]\n}',
        '{\n  "first": true\n}',
        "plain text",
        "",
        "42",
    ]


async def test_html_results(harness):
    tools = await toolset(harness, "tools_returns")
    inline, download = await run(tools, tool_call("give_html"), tool_call("give_html_download"))
    assert json.loads(inline) == {
        "status": "success",
        "code": "ui_component",
        "message": "give_html: Embedded UI result is active and visible to the user.",
    }
    assert download == "<p>report</p>"


@pytest.mark.parametrize(
    ("value", "failed"),
    [
        ("Error: down", True),
        ("  exception: x", True),
        ("Traceback (most recent call last):", True),
        ("HTTP Error! 500", True),
        ("all good", False),
        ({"error": "x"}, True),
        ({"error": ""}, False),
        ({"error": {"code": 1}}, True),
        ({"status": "Failed"}, True),
        ({"status": "ok"}, False),
        ({"success": False, "message": "nope"}, True),
        ({"ok": False}, False),
        ([{"error": "x"}], False),
        (json.dumps(json.dumps({"error": "twice encoded"})), True),
    ],
)
def test_failed_results(value, failed):
    text, is_failed = tool_result_text(value)
    assert is_failed is failed
    assert is_error_result(text) is failed


def test_parse_arguments():
    assert parse_arguments('{"a": 1}') == {"a": 1}
    assert parse_arguments("  ") == {}
    assert parse_arguments(None) == {}
    assert parse_arguments({"a": 1}) == {"a": 1}
    assert parse_arguments("{'a': 1}") == {"a": 1}
    assert parse_arguments("[1]") == [1]
    assert parse_arguments("{oops") is None


def test_values_json_cannot_encode_become_text():
    text, failed = tool_result_text({"when": datetime.date(2024, 1, 2)})
    assert (text, failed) == ('{\n  "when": "2024-01-02"\n}', False)


async def test_a_kwargs_argument_reaches_a_tool_taking_kwargs(harness):
    # The spec lists `kwargs` (as Open WebUI's does), so a model's `kwargs` is passed by that name.
    tools = await toolset(harness, "tools_kwargs")
    (content,) = await run(tools, tool_call("scrape_page", {"url": "a.example", "kwargs": "x"}))
    assert content == "a.example [('kwargs', 'x')]"
