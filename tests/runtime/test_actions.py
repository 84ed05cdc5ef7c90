"""Actions (Open WebUI 0.12.4 utils/actions.py): what every model lists, how a click reaches
`action()`, what it gets
injected and what its return value becomes."""

from __future__ import annotations

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.actions import ActionNotFound, run_action
from pipehouse.runtime.errors import ModelNotFound, RequestError
from pipehouse.runtime.events import NO_LISTENER, RecordingHost
from tests.conftest import USER

ADMIN = {**USER, "id": "admin-1", "role": "admin"}


def click_body(model: str = "kind_pipe", **extra) -> dict:
    """What Open WebUI's UI posts when a button under an answer is clicked."""
    return {
        "model": model,
        "messages": [
            {"id": "m1", "role": "user", "content": "count these words"},
            {"id": "m2", "role": "assistant", "content": "one two three"},
        ],
        "model_item": {"id": model},
        "chat_id": "chat-1",
        "session_id": "session-1",
        "id": "m2",
        **extra,
    }


async def click(harness, action_id: str, body=None, *, user=USER, host=None):
    return await run_action(
        harness.runtime,
        action_id,
        click_body() if body is None else body,
        user,
        host=host or RecordingHost(),
    )


async def test_every_model_lists_the_buttons_of_active_global_actions(harness):
    await harness.add("kind_pipe")
    await harness.add("action_buttons")
    await harness.add("action_reports")
    models = await harness.runtime.models()
    assert models and all(m["actions"] == models[0]["actions"] for m in models)
    icon = "data:image/svg+xml;base64,QUJD"  # from the frontmatter's icon_url
    described = "Several buttons from one action, ordered by a priority valve."
    sub = {"description": described, "icon": icon}
    assert models[0]["actions"] == [
        {"id": "action_buttons.summarize", "name": "Summarize", **sub},
        # no name: "<function name> (<sub id>)"; its own icon_url wins
        {"id": "action_buttons.translate", "name": "Buttons (translate)", **sub}
        | {"icon": "https://example.com/t.svg"},
        {"id": "action_buttons.v1.2", "name": "Dotted", **sub},
        # an action without an `actions` list is one button under its own id
        {"id": "action_reports", "name": "Word count", "description": "", "icon": None},
    ]


async def test_actions_are_ordered_by_priority_then_id(harness):
    await harness.add("kind_pipe")
    await harness.add("action_reports", plugin_id="b_action")
    await harness.add("action_reports", plugin_id="a_action")
    await harness.add("action_buttons", plugin_id="z_action")
    [model] = await harness.runtime.models()
    assert [a["id"] for a in model["actions"]][:2] == ["a_action", "b_action"]
    harness.store.by_plugin["z_action"] = {"priority": -1}
    harness.store.by_plugin["a_action"] = {"priority": 2}
    [model] = await harness.runtime.models()
    assert [a["id"].split(".")[0] for a in model["actions"]] == [
        "z_action",
        "z_action",
        "z_action",
        "b_action",
        "a_action",
    ]


async def test_inactive_and_non_global_actions_are_not_listed(harness):
    await harness.add("kind_pipe")
    await harness.add("action_reports", plugin_id="off", active=False)
    await harness.add("action_reports", plugin_id="attached_only", is_global=False)
    [model] = await harness.runtime.models()
    assert model["actions"] == []


async def test_the_listing_is_kept_until_the_catalog_or_valves_change(harness):
    class VersionedStore(type(harness.store)):
        version = 0

    store = VersionedStore()
    harness.runtime.actions.store = store
    await harness.add("kind_pipe")
    await harness.add("action_reports", plugin_id="a")
    await harness.add("action_reports", plugin_id="b")
    first = await harness.runtime.actions.items()
    assert await harness.runtime.actions.items() is first  # not rebuilt per request
    store.by_plugin["b"] = {"priority": -5}
    assert await harness.runtime.actions.items() is first  # the store has not said so yet
    store.version += 1
    assert [a["id"] for a in await harness.runtime.actions.items()] == ["b", "a"]
    harness.catalog.set_flags("b", active=False, is_global=True)
    assert [a["id"] for a in await harness.runtime.actions.items()] == ["a"]


async def test_a_sub_action_gets_its_own_id_as___id__(harness):
    await harness.add("kind_pipe")
    await harness.add("action_buttons")
    result = await click(harness, "action_buttons.translate")
    assert result.value == {"clicked": "translate", "priority": 0}
    # the first dot splits: a sub id may hold dots (Open WebUI's split fails on it)
    assert (await click(harness, "action_buttons.v1.2")).value["clicked"] == "v1.2"
    # the bare id of an action with sub-actions still runs, with the plugin id
    assert (await click(harness, "action_buttons")).value["clicked"] == "action_buttons"


async def test_valves_are_applied_for_each_click(harness):
    await harness.add("kind_pipe")
    await harness.add("action_buttons")
    harness.store.by_plugin["action_buttons"] = {"priority": 7}
    assert (await click(harness, "action_buttons.summarize")).value["priority"] == 7


async def test_body_injected_arguments_events_and_return_value(harness):
    await harness.add("kind_pipe")
    await harness.add("action_reports")
    harness.store.by_user[("action_reports", USER["id"])] = {"shout": True}
    host = RecordingHost()
    result = await click(harness, "action_reports", host=host)
    assert result.value == {
        "count": 3,
        "id": "action_reports",
        "user": USER["email"],
        "model": "kind_pipe",
        "model_actions": ["action_reports"],  # __model__ is the model as listed
        "chat_id": "chat-1",
        "message_id": "m2",
        # the whole body but `model_item`, which Open WebUI pops first
        "keys": ["chat_id", "id", "messages", "model", "session_id"],
    }
    assert result.embeds == [] and result.media_type is None
    assert [e["type"] for e in host.events] == ["status", "message", "notification", "status"]
    assert host.events[2]["data"]["content"] == "3 WORDS"


async def test_event_calls_are_answered_by_the_host(harness):
    await harness.add("kind_pipe")
    await harness.add("action_asks")
    host = RecordingHost(answers=[True, "Ada"])
    assert (await click(harness, "action_asks", host=host)).value == {"hello": "Ada"}
    assert [c["type"] for c in host.calls] == ["confirmation", "input"]
    nobody = await click(harness, "action_asks")
    assert nobody.value == {"cancelled": True, "answer": NO_LISTENER}


@pytest.mark.parametrize(
    "action_id",
    ["nope", "kind_pipe", "off", "action_buttons.nope", "action_reports.sub", "action_buttons."],
)
async def test_unknown_inactive_or_unlisted_actions_are_not_found(harness, action_id):
    await harness.add("kind_pipe")
    await harness.add("action_buttons")
    await harness.add("action_reports")
    await harness.add("action_reports", plugin_id="off", active=False)
    with pytest.raises(ActionNotFound) as caught:
        await click(harness, action_id)
    assert caught.value.status == 404
    assert str(caught.value) == f"Action not found: {action_id}"


async def test_a_non_global_action_is_for_admins_only(harness):
    # Open WebUI: non-admins reach only the actions the model lists; admins any active one.
    await harness.add("kind_pipe")
    await harness.add("action_reports", is_global=False)
    with pytest.raises(ActionNotFound):
        await click(harness, "action_reports")
    assert (await click(harness, "action_reports", user=ADMIN)).value["count"] == 3


async def test_the_model_must_exist(harness):
    await harness.add("kind_pipe")
    await harness.add("action_reports")
    with pytest.raises(ModelNotFound):
        await click(harness, "action_reports", click_body(model="missing"))
    body = click_body()
    del body["model"]
    with pytest.raises(RequestError, match="'model' must be a non-empty string"):
        await click(harness, "action_reports", body)
    with pytest.raises(RequestError, match="JSON object"):
        await click(harness, "action_reports", ["not", "a", "dict"])


async def test_chat_ids_are_optional(harness):
    await harness.add("kind_pipe")
    await harness.add("action_reports")
    body = {"model": "kind_pipe", "messages": [{"role": "assistant", "content": "a b"}]}
    result = await click(harness, "action_reports", body)
    assert result.value["count"] == 2 and result.value["chat_id"] is None


async def test_a_failing_action_is_a_plugin_error_naming_it(harness):
    await harness.add("kind_pipe")
    await harness.add("action_raises")
    with pytest.raises(PluginError) as caught:
        await click(harness, "action_raises")
    error = caught.value
    assert (error.plugin_id, error.stage, error.error_type) == (
        "action_raises",
        "action",
        "ValueError",
    )
    assert error.message == "nothing to act on" and error.line == 8


NOTICE = {
    "status": "success",
    "code": "ui_component",
    "message": "action_returns: Embedded UI result is active and visible to the user.",
}


@pytest.mark.parametrize(
    ("returns", "value", "embeds"),
    [
        ("none", None, []),
        ("text", "plain text", []),
        ("model", {"ok": True}, []),
        ("embed", NOTICE, ["<b>hi</b>"]),
        ("embed_with_context", {"shown": "a greeting"}, ["<b>hi</b>"]),
        ("headers", NOTICE, ["<i>page</i>"]),
        ("location", NOTICE, ["https://example.com/x"]),
    ],
)
async def test_return_values(harness, returns, value, embeds):
    await harness.add("kind_pipe")
    await harness.add("action_returns")
    host = RecordingHost()
    result = await click(harness, "action_returns", click_body(returns=returns), host=host)
    assert result.value == value
    assert result.embeds == embeds
    expected = [{"type": "embeds", "data": {"embeds": embeds}}] if embeds else []
    assert host.events == expected


async def test_a_returned_response_object_is_answered_as_it_is(harness):
    await harness.add("kind_pipe")
    await harness.add("action_returns")
    page = await click(harness, "action_returns", click_body(returns="page"))
    assert (page.value, page.media_type, page.status_code) == ("<p>page</p>", "text/html", 201)
    text = await click(harness, "action_returns", click_body(returns="plain_response"))
    assert (text.value, text.media_type) == ("just text", "text/plain")


async def test_a_plugin_that_is_not_an_action_is_refused_by_the_executor(harness):
    await harness.add("kind_pipe")
    call = await harness.runtime.call_context(
        harness.catalog.get("kind_pipe").info, USER, {}, RecordingHost()
    )
    with pytest.raises(PluginError, match="no action"):
        await harness.executor.call_action("kind_pipe", {}, call)
