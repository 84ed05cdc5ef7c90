"""The Pipelines-server protocol (docs/pipelines.md) driven as Open WebUI 0.12.4 drives
a Pipelines connection, against a real server: the model listing it reads, the filter hooks it
calls around a chat, the valves form of its admin page, and plugin management. The request
bodies below are the shapes Open WebUI sends (its routers/pipelines.py, the payload built in
utils/middleware.py and the outlet body of its chat-completed handler)."""

from __future__ import annotations

import functools
import http.server
import threading

import openai
import pytest
from starlette.routing import Match

from pipehouse.api.app import create_app
from pipehouse.api.pipeline_sources import MAX_PLUGIN_BYTES, raw_url
from pipehouse.config import Settings
from tests.conftest import content_of, parse_sse

MASK = "********"
OWUI_MODEL = "llama3.1:8b"  # a model Open WebUI gets from another connection (Ollama)

# -- what Open WebUI sends -------------------------------------------------------------------
# The user of every hook call: Open WebUI's user, four fields.
OWUI_USER = {
    "id": "0b6d9f0e-5a4c-4f0e-9a53-8d9c2b3a1e77",
    "email": "ada@example.com",
    "name": "Ada",
    "role": "user",
}


def inlet_payload(model: str) -> dict:
    """The chat payload at the point Open WebUI calls the Pipelines inlets: the client's body
    after its own preprocessing, with the `metadata` it built."""
    return {
        "stream": True,
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is 2 + 2?"},
        ],
        "params": {},
        "tool_ids": None,
        "files": None,
        "features": {"image_generation": False, "code_interpreter": False, "web_search": False},
        "metadata": {
            "user_id": OWUI_USER["id"],
            "chat_id": "c6a3b0b2-8d3f-4f6e-9f8e-2d1f0a9b7c55",
            "message_id": "a1f0c2d4-6e8b-4a0c-9e2f-4b6d8f0a2c4e",
            "session_id": "Xk3VbQ0sQ2fN8wAAAB",
            "filter_ids": [],
            "tool_ids": None,
            "files": None,
            "features": {"image_generation": False, "code_interpreter": False},
            "variables": {"{{USER_NAME}}": "Ada", "{{CURRENT_DATE}}": "2026-05-04"},
            "model_id": model,
            "direct": False,
        },
    }


def outlet_payload(model: str, answer: str) -> dict:
    """What Open WebUI posts to the outlets once the answer is complete."""
    return {
        "model": model,
        "messages": [
            {
                "id": "f0e1d2c3-b4a5-4968-8776-655443322110",
                "role": "user",
                "content": "What is 2 + 2?",
                "info": None,
                "timestamp": 1777886400,
            },
            {
                "id": "a1f0c2d4-6e8b-4a0c-9e2f-4b6d8f0a2c4e",
                "role": "assistant",
                "content": answer,
                "info": {"usage": {"prompt_tokens": 12, "completion_tokens": 1}},
                "timestamp": 1777886401,
                "finish_reason": "stop",
            },
        ],
        "filter_ids": [],
        "chat_id": "c6a3b0b2-8d3f-4f6e-9f8e-2d1f0a9b7c55",
        "session_id": "Xk3VbQ0sQ2fN8wAAAB",
        "id": "a1f0c2d4-6e8b-4a0c-9e2f-4b6d8f0a2c4e",
    }


def hook_form(body: dict) -> dict:
    """`{"user": ..., "body": ...}`, the form of every /filter/inlet and /filter/outlet call."""
    return {"user": OWUI_USER, "body": body}


def owui_filters(models: list[dict], model_id: str) -> list[dict]:
    """Which listed filters Open WebUI calls for a chat with `model_id`: type "filter", whose
    `pipelines` is ["*"] or names the model, lowest `priority` first."""
    chosen = [
        m
        for m in models
        if m.get("pipeline", {}).get("type") == "filter"
        and (m["pipeline"]["pipelines"] == ["*"] or model_id in m["pipeline"]["pipelines"])
    ]
    return sorted(chosen, key=lambda m: m["pipeline"]["priority"])


def upload(client, name: str, source: str | bytes, path: str = "/pipelines/upload"):
    """A file upload as Open WebUI forwards it: one `file` part, application/octet-stream."""
    data = source.encode() if isinstance(source, str) else source
    return client.post(path, files={"file": (name, data, "application/octet-stream")})


# -- plugins used only here ------------------------------------------------------------------
WHO_FILTER = '''"""
title: A Functions filter that records what its hooks see
"""


class Filter:
    async def inlet(self, body: dict, __user__: dict, __metadata__: dict, __model__: dict,
                    __id__: str) -> dict:
        body["seen"] = {
            "id": __id__,
            "user": __user__["name"],
            "user_id": __user__["id"],
            "role": __user__["role"],
            "chat_id": __metadata__.get("chat_id"),
            "model": (__model__ or {}).get("id"),
        }
        return body

    def outlet(self, body: dict, __user__: dict) -> dict:
        body["messages"][-1]["content"] += f" (for {__user__['name']})"
        return body
'''

FAILING_FILTER = '''"""
title: A Pipelines filter that refuses every request and breaks on the way out
"""


class Pipeline:
    def __init__(self):
        self.type = "filter"
        self.name = "Rate limit"

    async def inlet(self, body: dict, user: dict) -> dict:
        raise Exception("Rate limit exceeded. Please try again later.")

    async def outlet(self, body: dict, user: dict) -> dict:
        raise ValueError("outlet broke")
'''

NONE_FILTER = '''"""
title: A Pipelines filter whose inlet forgets to return the body
"""


class Pipeline:
    def __init__(self):
        self.type = "filter"

    async def inlet(self, body: dict, user: dict):
        body["lost"] = True
'''

SECRET_FILTER = '''"""
title: A Pipelines filter with settings, one of them secret
"""

from typing import List

from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        pipelines: List[str] = []
        priority: int = 0
        OPENAI_API_KEY: str = ""
        target_language: str = "fr"

    def __init__(self):
        self.type = "filter"
        self.name = "Translator"
        self.valves = self.Valves(**{"pipelines": ["*"]})

    async def inlet(self, body: dict, user: dict) -> dict:
        body["valves_seen"] = {
            "key_length": len(self.valves.OPENAI_API_KEY),
            "language": self.valves.target_language,
            "priority": self.valves.priority,
        }
        return body
'''


def pipe_source(answer: str) -> str:
    return f'''"""
title: An uploaded Pipelines pipe
"""


class Pipeline:
    def __init__(self):
        self.name = "Hello pipeline"

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return "{answer}"
'''


@pytest.fixture
def server_plugins():
    return [
        "pipeline_filter",  # a Pipelines filter targeting every model ("*")
        "pipeline_own_filters",  # a Pipelines pipe with its own inlet and outlet
        "pipeline_manifold_list",  # a Pipelines manifold: pipeline_manifold_list.small, .large
        "filter_trail",  # a Functions filter (global: it comes from the directory)
        "valves_secrets",  # a Functions pipe with secret valves
    ]


def chat(client, model: str, path: str = "/v1/chat/completions", **extra) -> str:
    reply = client.post(
        path, json={"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]["message"]["content"]


def listing(client) -> dict[str, dict]:
    reply = client.get("/models")
    assert reply.status_code == 200, reply.text
    return {m["id"]: m for m in reply.json()["data"]}


# -- the listing -----------------------------------------------------------------------------
def test_models_is_a_pipelines_listing_and_v1_models_stays_openai(server):
    client = server.client()
    reply = client.get("/models").json()
    assert reply["object"] == "list" and reply["pipelines"] is True
    models = {m["id"]: m for m in reply["data"]}

    assert models["pipeline_filter"]["pipeline"] == {
        "type": "filter",
        "valves": True,
        "pipelines": ["*"],
        "priority": 0,
    }
    assert models["pipeline_filter"]["object"] == "model"
    assert models["pipeline_own_filters"]["pipeline"] == {"type": "pipe", "valves": False}
    assert models["pipeline_manifold_list.small"]["pipeline"]["type"] == "manifold"
    assert "pipeline" not in models["valves_secrets"]  # a Functions pipe: not a Pipelines model
    assert "filter_trail" not in models  # Functions filters stay server-side

    # Open WebUI would call the listed filter for a chat with any model, its own included
    assert [f["id"] for f in owui_filters(reply["data"], OWUI_MODEL)] == ["pipeline_filter"]

    plain = client.get("/v1/models").json()
    assert "pipelines" not in plain
    assert {m["id"] for m in plain["data"]} == set(models) - {"pipeline_filter"}


# -- filter hooks ----------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["", "/v1"])
def test_a_pipelines_filter_runs_for_a_model_open_webui_serves(server, prefix):
    client = server.client()
    sent = inlet_payload(OWUI_MODEL)
    reply = client.post(f"{prefix}/pipeline_filter/filter/inlet", json=hook_form(sent))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["trail"] == ["pipeline_filter:Ada"]  # the user Open WebUI named
    assert {k: v for k, v in body.items() if k != "trail"} == sent

    answered = outlet_payload(OWUI_MODEL, "4")
    reply = client.post(f"{prefix}/pipeline_filter/filter/outlet", json=hook_form(answered))
    assert reply.status_code == 200, reply.text
    assert reply.json()["messages"][-1]["content"] == "4<pipeline_filter>"
    assert reply.json()["chat_id"] == answered["chat_id"]


def test_a_functions_filter_runs_through_the_protocol_with_open_webuis_user(server):
    admin = server.client()
    assert upload(admin, "who_filter.py", WHO_FILTER).status_code == 200
    body = inlet_payload(OWUI_MODEL)
    reply = admin.post("/who_filter/filter/inlet", json=hook_form(body))
    assert reply.status_code == 200, reply.text
    assert reply.json()["seen"] == {
        "id": "who_filter",
        "user": "Ada",
        "user_id": OWUI_USER["id"],
        "role": "user",
        "chat_id": body["metadata"]["chat_id"],
        "model": OWUI_MODEL,
    }
    reply = admin.post("/who_filter/filter/outlet", json=hook_form(outlet_payload(OWUI_MODEL, "4")))
    assert reply.json()["messages"][-1]["content"] == "4 (for Ada)"

    # a non-admin key acts for itself: it cannot make a filter believe it is someone else
    user = server.client(server.user_key("grace@example.com"))
    seen = user.post("/who_filter/filter/inlet", json=hook_form(body)).json()["seen"]
    assert seen["user"] == "grace" and seen["user_id"] != OWUI_USER["id"]


def test_a_chat_open_webui_sends_to_a_pipehouse_model_runs_each_filter_once(server):
    """Open WebUI's whole round for a Pipelines model pipehouse answers: the inlets of the
    listed filters and of the model itself, the chat, then the outlets (the model's first).
    The hook calls leave the body alone; the chat runs the chain once, server-side."""
    client = server.client()
    model = "pipeline_own_filters"
    models = client.get("/models").json()["data"]
    chain = [f["id"] for f in owui_filters(models, model)] + [model]  # the model has `pipeline`
    assert chain == ["pipeline_filter", model]

    payload = inlet_payload(model)
    for filter_id in chain:
        reply = client.post(f"/{filter_id}/filter/inlet", json=hook_form(payload))
        assert reply.status_code == 200 and reply.json() == payload

    request = {k: v for k, v in payload.items() if k != "metadata"}  # Open WebUI drops it
    request.update(stream=False, user=OWUI_USER)  # and names the user for Pipelines models
    reply = client.post("/chat/completions", json=request)
    assert reply.status_code == 200, reply.text
    answer = reply.json()["choices"][0]["message"]["content"]
    assert answer == (
        "trail=pipeline_filter:Admin,own,filter_trail<own><pipeline_filter><filter_trail>"
    )

    answered = outlet_payload(model, answer)
    for filter_id in [model, *chain[:-1]]:
        reply = client.post(f"/{filter_id}/filter/outlet", json=hook_form(answered))
        assert reply.status_code == 200 and reply.json() == answered


def test_a_connection_prefix_in_hook_paths_and_models_is_understood(server):
    """Open WebUI with a Prefix ID `ph` on the connection posts to `/ph.<filter>/filter/...`
    with `ph.<model>` in the body (it strips the prefix only from chat requests)."""
    client = server.client()
    served_here = inlet_payload("ph.pipeline_own_filters")
    reply = client.post("/ph.pipeline_filter/filter/inlet", json=hook_form(served_here))
    assert reply.status_code == 200 and reply.json() == served_here  # pipehouse runs it itself
    elsewhere = inlet_payload(f"ph.{OWUI_MODEL}")
    reply = client.post("/ph.pipeline_filter/filter/inlet", json=hook_form(elsewhere))
    assert reply.json()["trail"] == ["pipeline_filter:Ada"]
    assert client.post("/ph.nope/filter/inlet", json=hook_form(elsewhere)).status_code == 404


def test_hook_errors_answer_detail_as_the_pipelines_server_does(server):
    client = server.client()
    assert upload(client, "rate_limit.py", FAILING_FILTER).status_code == 200
    assert upload(client, "forgetful.py", NONE_FILTER).status_code == 200
    body = hook_form(inlet_payload(OWUI_MODEL))

    refused = client.post("/rate_limit/filter/inlet", json=body)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Rate limit exceeded. Please try again later."
    assert refused.json()["error"]["plugin"] == "rate_limit"
    broken = client.post(
        "/rate_limit/filter/outlet", json=hook_form(outlet_payload(OWUI_MODEL, "4"))
    )
    assert (broken.status_code, broken.json()["detail"]) == (502, "outlet broke")
    forgot = client.post("/forgetful/filter/inlet", json=body)
    assert forgot.status_code == 400 and "returned NoneType" in forgot.json()["detail"]

    missing = client.post("/nope/filter/inlet", json=body)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Filter nope not found"})
    assert client.post("/pipeline_filter/filter/inlet", json={"body": []}).status_code == 422
    # a plugin without the hook, and a manifold's sub-model, pass the body through
    for plugin_id in ("valves_secrets", "pipeline_manifold_list.small"):
        reply = client.post(f"/{plugin_id}/filter/inlet", json=body)
        assert (reply.status_code, reply.json()) == (200, body["body"])


# -- valves ----------------------------------------------------------------------------------
def test_valves_get_spec_and_update_as_open_webuis_pipelines_page_does(server):
    admin = server.client()
    assert upload(admin, "translator.py", SECRET_FILTER).status_code == 200

    assert admin.get("/translator/valves").json() == {
        "pipelines": ["*"],
        "priority": 0,
        "OPENAI_API_KEY": "",
        "target_language": "fr",
    }
    spec = admin.get("/translator/valves/spec").json()
    assert set(spec["properties"]) == {"pipelines", "priority", "OPENAI_API_KEY", "target_language"}
    assert admin.get("/v1/translator/valves/spec").json() == spec

    # the page posts every field; text inputs give strings, list fields come split at commas
    form = {
        "pipelines": [OWUI_MODEL],
        "priority": "5",
        "OPENAI_API_KEY": "sk-live-0123456789",
        "target_language": "de",
    }
    saved = admin.post("/translator/valves/update", json=form)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {**form, "priority": 5, "OPENAI_API_KEY": MASK}
    assert admin.get("/translator/valves").json()["OPENAI_API_KEY"] == MASK
    assert listing(admin)["translator"]["pipeline"]["pipelines"] == [OWUI_MODEL]
    assert listing(admin)["translator"]["pipeline"]["priority"] == 5

    def seen() -> dict:
        reply = admin.post("/translator/filter/inlet", json=hook_form(inlet_payload(OWUI_MODEL)))
        return reply.json()["valves_seen"]

    assert seen() == {"key_length": 18, "language": "de", "priority": 5}
    # posting back what was read (the mask) keeps the secret; null means the default
    round_trip = {**admin.get("/translator/valves").json(), "target_language": None}
    assert admin.post("/translator/valves/update", json=round_trip).status_code == 200
    assert seen() == {"key_length": 18, "language": "fr", "priority": 5}

    invalid = admin.post("/translator/valves/update", json={**form, "priority": "high"})
    assert invalid.status_code == 400
    assert isinstance(invalid.json()["detail"], str) and "priority" in invalid.json()["detail"]
    assert [e["field"] for e in invalid.json()["errors"]] == ["priority"]
    assert seen()["priority"] == 5  # nothing stored

    # a Functions plugin's valves through the same routes, secrets masked
    secrets = admin.post("/valves_secrets/valves/update", json={"OPENAI_API_KEY": "sk-abc-123"})
    assert secrets.status_code == 200 and secrets.json()["OPENAI_API_KEY"] == MASK
    assert admin.get("/valves_secrets/valves").json()["model"] == "gpt-4o-mini"

    assert admin.get("/nope/valves").status_code == 404
    no_valves = admin.get("/pipeline_own_filters/valves")
    assert (no_valves.status_code, no_valves.json()) == (
        404,
        {"detail": "'pipeline_own_filters' has no Valves class"},
    )


# -- management ------------------------------------------------------------------------------
def test_list_upload_delete_and_reload(server):
    admin = server.client()
    rows = {r["id"]: r for r in admin.get("/pipelines").json()["data"]}
    assert rows["pipeline_filter"] == {
        "id": "pipeline_filter",
        "name": "Pipeline filter",
        "type": "filter",
        "valves": True,
    }
    assert rows["pipeline_manifold_list"]["type"] == "manifold"
    assert (rows["filter_trail"]["type"], rows["valves_secrets"]["type"]) == ("filter", "pipe")
    assert admin.get("/v1/pipelines").json() == admin.get("/pipelines").json()

    added = upload(admin, "Hello_Pipeline.py", pipe_source("v1"))
    assert added.status_code == 200, added.text
    assert added.json() == {
        "status": True,
        "id": "hello_pipeline",
        "detail": "Pipeline hello_pipeline added",
    }
    assert "hello_pipeline" in {r["id"] for r in admin.get("/pipelines").json()["data"]}
    assert chat(admin, "hello_pipeline").startswith("v1")  # live at once
    function = admin.get("/api/v1/functions/id/hello_pipeline").json()
    assert function["type"] == "pipeline" and function["source"] == "api"
    assert function["is_active"] is True and function["is_global"] is True

    updated = upload(admin, "hello_pipeline.py", pipe_source("v2"), "/v1/pipelines/upload")
    assert updated.json()["detail"] == "Pipeline hello_pipeline updated"
    assert chat(admin, "hello_pipeline").startswith("v2")
    broken = upload(admin, "hello_pipeline.py", "class Pipeline:\n    def pipe(self)\n")
    assert broken.status_code == 400 and "line 2" in broken.json()["detail"]
    assert chat(admin, "hello_pipeline").startswith("v2")  # the last good code keeps serving

    assert upload(admin, "notes.txt", "hello").status_code == 400
    assert upload(admin, "big.py", b"#" * (MAX_PLUGIN_BYTES + 1)).status_code == 413
    toolkit = upload(
        admin, "kit.py", "class Tools:\n    def add(self, a: int) -> int:\n        return a\n"
    )
    assert toolkit.status_code == 400 and "No Function class" in toolkit.json()["detail"]
    no_file = admin.post("/pipelines/upload", data={"other": "x"}, files={"x": ("a", b"")})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["detail"]

    deleted = admin.request("DELETE", "/pipelines/delete", json={"id": "hello_pipeline"})
    assert deleted.status_code == 200 and deleted.json()["status"] is True
    assert "hello_pipeline" not in listing(admin)
    assert "hello_pipeline" not in {r["id"] for r in admin.get("/pipelines").json()["data"]}
    again = admin.request("DELETE", "/pipelines/delete", json={"id": "hello_pipeline"})
    assert again.status_code == 404
    from_file = admin.request("DELETE", "/pipelines/delete", json={"id": "pipeline_filter"})
    assert from_file.status_code == 403 and "pipeline_filter.py" in from_file.json()["detail"]

    # a reload reads the directory now, without waiting for the watcher
    (server.plugin_dir / "late_pipe.py").write_text(pipe_source("late"))
    (server.plugin_dir / "late_broken.py").write_text("class Pipeline:\n    def pipe(self)\n")
    reloaded = admin.post("/pipelines/reload")
    assert reloaded.status_code == 200 and reloaded.json()["status"] is True
    assert "late_broken" in [f["id"] for f in reloaded.json()["failed"]]
    assert "late_pipe" in {r["id"] for r in admin.get("/pipelines").json()["data"]}
    assert chat(admin, "late_pipe").startswith("late")
    assert admin.post("/v1/pipelines/reload").status_code == 200


@pytest.fixture
def file_server(tmp_path):
    """A plain HTTP server for plugin files, as a GitHub raw URL would serve them."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join(10)
        httpd.server_close()  # its listening socket (left open: a ResourceWarning, an error here)


def test_add_downloads_a_plugin_file_by_url(server, file_server):
    root, base = file_server
    (root / "fetched_pipeline.py").write_text(pipe_source("fetched"))
    (root / "huge.py").write_bytes(b"#" * (MAX_PLUGIN_BYTES + 10))
    admin = server.client()

    added = admin.post("/pipelines/add", json={"url": f"{base}/fetched_pipeline.py"})
    assert added.status_code == 200, added.text
    assert added.json()["id"] == "fetched_pipeline"
    assert chat(admin, "fetched_pipeline").startswith("fetched")

    assert admin.post("/pipelines/add", json={"url": f"{base}/readme.md"}).status_code == 400
    assert admin.post("/pipelines/add", json={"url": "file:///etc/passwd.py"}).status_code == 400
    assert admin.post("/pipelines/add", json={"url": f"{base}/missing.py"}).status_code == 502
    assert admin.post("/pipelines/add", json={"url": f"{base}/huge.py"}).status_code == 413
    assert admin.post("/pipelines/add", json={}).status_code == 422


def test_github_file_pages_become_raw_urls():
    assert (
        raw_url("https://github.com/open-webui/pipelines/blob/main/examples/filters/x.py")
        == "https://raw.githubusercontent.com/open-webui/pipelines/main/examples/filters/x.py"
    )
    raw = "https://raw.githubusercontent.com/open-webui/pipelines/main/x.py"
    assert raw_url(raw) == raw


# -- who may call what -----------------------------------------------------------------------
ADMIN_ROUTES = [
    ("GET", "/pipelines", None),
    ("POST", "/pipelines/add", {"url": "http://127.0.0.1:9/x.py"}),
    ("POST", "/pipelines/reload", None),
    ("DELETE", "/pipelines/delete", {"id": "pipeline_filter"}),
    ("GET", "/pipeline_filter/valves", None),
    ("GET", "/pipeline_filter/valves/spec", None),
    ("POST", "/pipeline_filter/valves/update", {"priority": 1}),
    ("GET", "/v1/pipeline_filter/valves", None),
]
USER_ROUTES = [
    ("GET", "/models", None),
    ("POST", "/pipeline_filter/filter/inlet", hook_form(inlet_payload(OWUI_MODEL))),
    ("POST", "/pipeline_filter/filter/outlet", hook_form(outlet_payload(OWUI_MODEL, "4"))),
]


def test_every_route_needs_a_key_and_admin_routes_an_admins(server):
    anonymous = server.client(key=None)
    user = server.client(server.user_key())
    for method, path, body in ADMIN_ROUTES + USER_ROUTES:
        assert anonymous.request(method, path, json=body).status_code == 401, path
    for method, path, body in ADMIN_ROUTES:
        assert user.request(method, path, json=body).status_code == 403, path
    assert upload(user, "x.py", pipe_source("x")).status_code == 403
    for method, path, body in USER_ROUTES:
        assert user.request(method, path, json=body).status_code == 200, path


# -- the rest of the server is untouched -----------------------------------------------------
def test_no_pipelines_route_shadows_another_route(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, port=0, plugin_dirs=[]))
    routes = app.router.routes
    for route in routes:
        if getattr(route, "endpoint", None) is None:
            continue
        if route.endpoint.__module__ == "pipehouse.api.pipelines":
            continue
        path = route.path.replace("{", "").replace("}", "").replace(":path", "")
        for method in getattr(route, "methods", None) or {"GET"}:
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            first = next(r for r in routes if r.matches(scope)[0] is Match.FULL)
            assert first.endpoint is route.endpoint, f"{method} {route.path} -> {first.path}"


def test_existing_routes_answer_as_before(server):
    client = server.client()
    assert client.get("/health").json() == {"status": True}
    assert client.get("/docs").headers["content-type"].startswith("text/html")
    assert "/pipelines" in client.get("/openapi.json").json()["paths"]
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/plugins").status_code == 200
    assert isinstance(client.get("/api/v1/functions/").json(), list)
    assert client.get("/api/models").json()["data"]


def test_the_openai_sdk_still_works_at_v1_and_at_the_root(server):
    for base in (f"{server.base_url}/v1", server.base_url):
        sdk = openai.OpenAI(base_url=base, api_key=server.admin_key)
        assert "valves_secrets" in {m.id for m in sdk.models.list()}
        reply = sdk.chat.completions.create(
            model="valves_secrets", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content.startswith("gpt-4o-mini")
        stream = sdk.chat.completions.create(
            model="valves_secrets", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text.startswith("gpt-4o-mini")
    raw = server.client().post(
        "/chat/completions",
        json={
            "model": "valves_secrets",
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert content_of(parse_sse(raw.content)).startswith("gpt-4o-mini")
