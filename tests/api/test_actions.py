"""Actions over a real server (Open WebUI 0.12.4 utils/actions.py): the buttons on every model, a
click on
`POST /api/chat/actions/{action_id}` with the body Open WebUI's UI sends, sub-actions, events on
the side channel, and errors."""

from __future__ import annotations

import pytest

from tests.api.test_events import answers, subscribed
from tests.support.polling import eventually

FUNCTIONS = "/api/v1/functions"


@pytest.fixture
def server_plugins():
    return ["kind_pipe", "action_buttons", "action_reports", "action_asks", "action_raises",
            "action_returns"]  # fmt: skip


def click_body(**extra) -> dict:
    return {
        "model": "kind_pipe",
        "messages": [
            {"id": "m1", "role": "user", "content": "count these"},
            {"id": "m2", "role": "assistant", "content": "one two three"},
        ],
        "model_item": {"id": "kind_pipe"},
        "chat_id": "chat-1",
        "session_id": "session-1",
        "id": "m2",
        **extra,
    }


def listed_actions(client) -> list[str]:
    models = client.get("/api/models").json()["data"]
    assert len({tuple(a["id"] for a in m["actions"]) for m in models}) == 1  # the same on all
    return [a["id"] for a in models[0]["actions"]]


def test_every_model_lists_the_actions_in_priority_then_id_order(server):
    admin = server.client()
    assert listed_actions(admin) == [
        "action_asks",
        "action_buttons.summarize",
        "action_buttons.translate",
        "action_buttons.v1.2",
        "action_raises",
        "action_reports",
        "action_returns",
    ]
    [model] = admin.get("/v1/models").json()["data"]
    assert model["actions"][1] == {
        "id": "action_buttons.summarize",
        "name": "Summarize",
        "description": "Several buttons from one action, ordered by a priority valve.",
        "icon": "data:image/svg+xml;base64,QUJD",
    }
    saved = admin.post(f"{FUNCTIONS}/id/action_buttons/valves/update", json={"priority": 9})
    assert saved.status_code == 200, saved.text
    assert listed_actions(admin)[-3:] == [
        "action_buttons.summarize",
        "action_buttons.translate",
        "action_buttons.v1.2",
    ]
    clicked = admin.post("/api/chat/actions/action_buttons.summarize", json=click_body())
    assert clicked.json() == {"clicked": "summarize", "priority": 9}


def test_a_sub_action_is_called_with_its_own_id(server):
    user = server.client(server.user_key())
    for sub_id in ("summarize", "translate", "v1.2"):
        reply = user.post(f"/api/chat/actions/action_buttons.{sub_id}", json=click_body())
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"clicked": sub_id, "priority": 0}


def test_the_return_value_is_the_answer_and_events_reach_the_side_channel(server):
    with subscribed(server, server.admin_key, chat_id="chat-1") as client:
        reply = server.client().post("/api/chat/actions/action_reports", json=click_body())
        assert reply.status_code == 200, reply.text
        assert reply.json() == {
            "count": 3,
            "id": "action_reports",
            "user": "admin@localhost",
            "model": "kind_pipe",
            "model_actions": listed_actions(server.client()),
            "chat_id": "chat-1",
            "message_id": "m2",
            "keys": ["chat_id", "id", "messages", "model", "session_id"],
        }
        eventually(lambda: len(client.events()) >= 4, what="the action's four events")
        assert [e["type"] for e in client.events()] == [
            "status",
            "message",
            "notification",
            "status",
        ]
        assert {f["message_id"] for f in client.frames if f["type"] == "event"} == {"m2"}


def test_an_event_call_is_answered_by_a_subscriber(server):
    with subscribed(server, server.admin_key, answers, chat_id="chat-1"):
        reply = server.client().post("/api/chat/actions/action_asks", json=click_body())
        assert reply.json() == {"hello": "Ada"}
    elsewhere = click_body(chat_id="chat-nobody-watches")
    nobody = server.client().post("/api/chat/actions/action_asks", json=elsewhere)
    assert nobody.json()["answer"] == {"error": "No client is listening for event calls."}


def test_return_values_none_a_page_and_an_embed(server):
    admin = server.client()
    none = admin.post("/api/chat/actions/action_returns", json=click_body(returns="none"))
    assert (none.status_code, none.content) == (200, b"null")
    page = admin.post("/api/chat/actions/action_returns", json=click_body(returns="page"))
    assert page.status_code == 201 and page.text == "<p>page</p>"
    assert page.headers["content-type"].startswith("text/html")
    with subscribed(server, server.admin_key, chat_id="chat-1") as client:
        embed = admin.post("/api/chat/actions/action_returns", json=click_body(returns="embed"))
        assert embed.json()["code"] == "ui_component"
        eventually(client.events, what="the embeds event")
        assert client.events() == [{"type": "embeds", "data": {"embeds": ["<b>hi</b>"]}}]
    rewritten = admin.post("/api/chat/actions/action_returns", json=click_body(returns="messages"))
    assert rewritten.json() == {
        "messages": [{"id": "m2", "role": "assistant", "content": "rewritten"}]
    }


def test_unknown_and_inactive_actions_are_not_found(server):
    admin = server.client()
    for action_id in ("nope", "kind_pipe", "action_buttons.nope", "action_reports.x"):
        reply = admin.post(f"/api/chat/actions/{action_id}", json=click_body())
        assert reply.status_code == 404, action_id
        message = f"Action not found: {action_id}"
        assert reply.json()["detail"] == message
        assert reply.json()["error"]["type"] == "not_found_error"
    assert admin.post(f"{FUNCTIONS}/id/action_reports/toggle").status_code == 200
    assert "action_reports" not in listed_actions(admin)
    off = admin.post("/api/chat/actions/action_reports", json=click_body())
    assert off.status_code == 404


def test_an_action_that_is_not_global_is_for_admins_only(server):
    admin, user = server.client(), server.client(server.user_key())
    assert admin.post(f"{FUNCTIONS}/id/action_reports/toggle/global").status_code == 200
    assert "action_reports" not in listed_actions(user)
    assert user.post("/api/chat/actions/action_reports", json=click_body()).status_code == 404
    assert admin.post("/api/chat/actions/action_reports", json=click_body()).status_code == 200


def test_a_failing_action_answers_like_a_failing_pipe(server):
    reply = server.client().post("/api/chat/actions/action_raises", json=click_body())
    assert reply.status_code == 502
    assert reply.headers["x-should-retry"] == "false"
    error = reply.json()["error"]
    assert error["message"] == "plugin 'action_raises' (action): nothing to act on"
    assert (error["type"], error["code"]) == ("plugin_error", "ValueError")
    assert (error["plugin"], error["stage"]) == ("action_raises", "action")
    assert reply.json()["detail"] == error["message"]


def test_bad_requests(server):
    admin = server.client()
    unknown_model = admin.post("/api/chat/actions/action_reports", json=click_body(model="x"))
    assert unknown_model.status_code == 404
    no_model = {k: v for k, v in click_body().items() if k != "model"}
    assert admin.post("/api/chat/actions/action_reports", json=no_model).status_code == 400
    not_json = admin.post("/api/chat/actions/action_reports", content=b"{")
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]
    assert server.client(key=None).post("/api/chat/actions/action_reports").status_code == 401
