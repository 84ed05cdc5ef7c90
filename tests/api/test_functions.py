"""The Functions API (`/api/v1/functions`) as Open WebUI 0.12.4 serves it (Open WebUI 0.12.4
routers/functions.py),
against a real server: admins create and change functions and valves, users list them and keep
their own user valves, secrets never leave unmasked, directory plugins are read-only."""

from __future__ import annotations

import pytest

from tests.conftest import PLUGINS
from tests.support.polling import eventually

API = "/api/v1/functions"
MASK = "********"
NOT_FOUND = "We could not find what you're looking for :/"
ID_TAKEN = "Uh-oh! This id is already registered. Please choose another id string."
FUNCTION_RESPONSE = {
    "id",
    "user_id",
    "type",
    "name",
    "meta",
    "is_active",
    "is_global",
    "updated_at",
    "created_at",
}
FUNCTION_MODEL = FUNCTION_RESPONSE | {"content"}
PIPEHOUSE = {"source", "path", "status"}


@pytest.fixture
def server_plugins():
    return ["valves_secrets"]  # a directory plugin: read-only code, configurable valves


def source(name: str) -> str:
    return (PLUGINS / f"{name}.py").read_text()


def form(plugin_id: str, plugin: str | None = None, **fields) -> dict:
    """A FunctionForm: the code of fixture `plugin` unless `content` is given."""
    return {
        "id": plugin_id,
        "name": plugin_id.title(),
        "content": source(plugin) if plugin else "",
        "meta": {"description": "made in a test"},
        **fields,
    }


def chat(client, model: str) -> str:
    reply = client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]["message"]["content"]


def test_create_list_get_export_and_toggle(server):
    admin = server.client()
    user = server.client(server.user_key("ada@example.com"))

    created = admin.post(f"{API}/create", json=form("Secret_Pipe", "admin_secret_pipe"))
    assert created.status_code == 200, created.text
    row = created.json()
    assert set(row) >= FUNCTION_RESPONSE | PIPEHOUSE and "content" not in row
    assert row["id"] == "secret_pipe"  # lowercased
    assert (row["type"], row["is_active"], row["is_global"]) == ("pipe", False, False)
    assert row["meta"]["description"] == "made in a test"
    assert row["meta"]["manifest"]["title"] == "Admin secret pipe"
    assert row["source"] == "api" and row["path"] is None
    assert row["status"] == {"state": "loaded", "error": None, "loop_stall": None}

    taken = admin.post(f"{API}/create", json=form("secret_pipe", "admin_secret_pipe"))
    assert (taken.status_code, taken.json()["detail"]) == (400, ID_TAKEN)
    also_taken = admin.post(f"{API}/create", json=form("valves_secrets", "admin_secret_pipe"))
    assert (also_taken.status_code, also_taken.json()["detail"]) == (400, ID_TAKEN)
    bad_id = admin.post(f"{API}/create", json=form("secret-pipe", "admin_secret_pipe"))
    assert bad_id.status_code == 400 and "underscores" in bad_id.json()["detail"]
    missing_meta = admin.post(f"{API}/create", json={"id": "x", "name": "x", "content": ""})
    assert missing_meta.status_code == 422

    full = admin.get(f"{API}/id/secret_pipe").json()
    assert set(full) >= FUNCTION_MODEL and full["content"] == source("admin_secret_pipe")
    assert full["user_id"] == row["user_id"] and full["version_id"]

    # every verified user lists every function, active or not, without code or error detail
    listed = {f["id"]: f for f in user.get(f"{API}/").json()}
    assert set(listed) == {"secret_pipe", "valves_secrets"}
    assert all("content" not in f and "valves" not in f for f in listed.values())
    assert listed["valves_secrets"]["source"] == "directory"
    assert listed["valves_secrets"]["path"] is None  # where files live is for admins
    assert admin.get(f"{API}/").json()[0].keys() == listed["secret_pipe"].keys()

    with_users = {f["id"]: f for f in admin.get(f"{API}/list").json()}
    assert with_users["secret_pipe"]["user"] == {
        "id": row["user_id"],
        "name": "Admin",
        "role": "admin",
        "email": server.app.state.settings.admin_email,
    }
    assert with_users["valves_secrets"]["user"] is None  # nobody wrote the file here
    assert "content" not in with_users["secret_pipe"]
    assert with_users["valves_secrets"]["path"].endswith("valves_secrets.py")

    exported = {f["id"]: f for f in admin.get(f"{API}/export").json()}
    assert exported["secret_pipe"]["content"] == source("admin_secret_pipe")
    assert "valves" not in exported["secret_pipe"]

    # inactive: not a model; toggled on it is, for everyone
    assert "secret_pipe" not in [m["id"] for m in user.get("/v1/models").json()["data"]]
    toggled = admin.post(f"{API}/id/secret_pipe/toggle").json()
    assert set(toggled) >= FUNCTION_MODEL and toggled["is_active"] is True
    assert "secret_pipe" in [m["id"] for m in user.get("/v1/models").json()["data"]]
    assert chat(user, "secret_pipe").startswith("key= model=small")
    assert admin.post(f"{API}/id/secret_pipe/toggle/global").json()["is_global"] is True
    assert admin.post(f"{API}/id/secret_pipe/toggle/global").json()["is_global"] is False
    assert admin.post(f"{API}/id/secret_pipe/toggle").json()["is_active"] is False
    assert "secret_pipe" not in [m["id"] for m in user.get("/v1/models").json()["data"]]

    assert admin.delete(f"{API}/id/secret_pipe/delete").json() is True
    assert admin.get(f"{API}/id/secret_pipe").status_code == 404
    assert [f["id"] for f in admin.get(f"{API}/").json()] == ["valves_secrets"]
    admin.post(f"{API}/create", json=form("again", "admin_secret_pipe"))
    assert admin.delete(f"{API}/id/again").json() is True  # the short form deletes too


ROUTES = [
    ("GET", "/", None, "user"),
    ("GET", "/list", None, "admin"),
    ("GET", "/export?include_valves=true", None, "admin"),
    ("POST", "/create", "form", "admin"),
    ("GET", "/id/{id}", None, "admin"),
    ("POST", "/id/{id}/toggle", None, "admin"),
    ("POST", "/id/{id}/toggle/global", None, "admin"),
    ("POST", "/id/{id}/update", "form", "admin"),
    ("GET", "/id/{id}/valves", None, "admin"),
    ("GET", "/id/{id}/valves/spec", None, "admin"),
    ("POST", "/id/{id}/valves/update", {"model": "x"}, "admin"),
    ("GET", "/id/{id}/valves/user", None, "user"),
    ("GET", "/id/{id}/valves/user/spec", None, "user"),
    ("POST", "/id/{id}/valves/user/update", {"tone": "dry"}, "user"),
    ("GET", "/id/{id}/history", None, "admin"),
    ("GET", "/id/{id}/history/{version}", None, "admin"),
    ("GET", "/id/{id}/history/diff?from_id={version}&to_id={version}", None, "admin"),
    ("DELETE", "/id/{id}/delete", None, "admin"),
    ("DELETE", "/id/{id}", None, "admin"),
]


def _call(client, method: str, path: str, body, plugin_id: str, version: str = "v"):
    payload = form(plugin_id, "admin_secret_pipe") if body == "form" else body
    url = API + path.format(id=plugin_id, version=version)
    return client.request(method, url, json=payload)


def test_who_may_call_what(server):
    """401 without a key, 403 for users on admin routes, 404 for an id that does not exist."""
    admin = server.client()
    anonymous = server.client(key=None)
    user = server.client(server.user_key("bob@example.com"))
    admin.post(f"{API}/create", json=form("secret_pipe", "admin_secret_pipe"))
    admin.post(f"{API}/id/secret_pipe/toggle")
    version = admin.get(f"{API}/id/secret_pipe/history").json()[0]["id"]
    for method, path, body, role in ROUTES:
        where = f"{method} {path}"
        assert _call(anonymous, method, path, body, "secret_pipe").status_code == 401, where
        answer = _call(user, method, path, body, "secret_pipe", version)
        if role == "admin":
            assert answer.status_code == 403, where
        else:
            assert answer.status_code == 200, (where, answer.text)
        if "{id}" in path:
            missing = _call(admin, method, path, body, "no_such_function", version)
            assert missing.status_code == 404, where
            assert missing.json()["detail"] == NOT_FOUND, where
    assert admin.get(f"{API}/id/secret_pipe/history/nope").status_code == 404
    assert admin.get(f"{API}/id/secret_pipe/history/nope").json()["detail"] == "Version not found"
    # a user reads neither code nor admin valves anywhere
    for row in user.get(f"{API}/").json():
        assert "content" not in row and "valves" not in row


def test_updates_keep_versions_and_bad_code_is_refused_with_its_line(server):
    admin = server.client()
    first = source("admin_secret_pipe")
    admin.post(f"{API}/create", json=form("secret_pipe", "admin_secret_pipe"))
    admin.post(f"{API}/id/secret_pipe/toggle")
    second = first.replace('model: str = "small"', 'model: str = "large"')
    same_name = {"name": "Secret_Pipe", "content": second}
    updated = admin.post(
        f"{API}/id/secret_pipe/update",
        json=form("ignored", commit_message="bigger model", **same_name),
    )
    assert updated.status_code == 200, updated.text
    assert set(updated.json()) >= FUNCTION_MODEL
    assert updated.json()["content"] == second and updated.json()["is_active"] is True
    assert "model=large" in chat(admin, "secret_pipe")
    # the same code again is no new version (as Open WebUI: the snapshot did not change)
    admin.post(f"{API}/id/secret_pipe/update", json=form("x", **same_name))

    history = admin.get(f"{API}/id/secret_pipe/history").json()
    assert [h["commit_message"] for h in history] == ["bigger model", None]
    assert set(history[0]) == {
        "id",
        "function_id",
        "parent_id",
        "user_id",
        "commit_message",
        "created_at",
        "user",
    }
    assert history[0]["parent_id"] == history[1]["id"]
    assert history[0]["function_id"] == "secret_pipe" and history[0]["user"] == {"name": "Admin"}
    assert updated.json()["version_id"] == history[0]["id"]
    assert admin.get(f"{API}/id/secret_pipe/history?page=2").json() == []
    entry = admin.get(f"{API}/id/secret_pipe/history/{history[1]['id']}").json()
    assert entry["snapshot"]["content"] == first and entry["snapshot"]["name"] == "Secret_Pipe"
    diff = admin.get(
        f"{API}/id/secret_pipe/history/diff",
        params={"from_id": history[1]["id"], "to_id": history[0]["id"]},
    ).json()
    assert '-        model: str = "small"' in diff["content_diff"]
    assert '+        model: str = "large"' in diff["content_diff"]
    assert diff["metadata"] == {} and diff["line_endings_only"] is False

    # code that does not load: 400 naming the line; the stored code keeps serving
    broken = admin.post(
        f"{API}/id/secret_pipe/update",
        json=form("x", name="Secret_Pipe", content=source("admin_raises_at_line_9")),
    )
    assert broken.status_code == 400
    detail = broken.json()["detail"]
    assert (detail["type"], detail["line"], detail["stage"]) == ("KeyError", 9, "load")
    assert admin.get(f"{API}/id/secret_pipe").json()["content"] == second
    assert admin.get(f"{API}/id/secret_pipe").json()["status"]["state"] == "loaded"
    assert "model=large" in chat(admin, "secret_pipe")
    assert len(admin.get(f"{API}/id/secret_pipe/history").json()) == 2

    syntax = admin.post(
        f"{API}/create", json=form("typo_pipe", content=source("load_syntax_error"))
    )
    assert syntax.status_code == 400
    assert syntax.json()["detail"]["type"] == "SyntaxError"
    assert "line 7" in syntax.json()["detail"]["message"]
    toolkit = admin.post(f"{API}/create", json=form("a_toolkit", content=source("kind_tools")))
    assert toolkit.status_code == 400 and "No Function class" in toolkit.json()["detail"]
    assert {f["id"] for f in admin.get(f"{API}/").json()} == {"secret_pipe", "valves_secrets"}
    assert admin.get(f"{API}/id/typo_pipe").status_code == 404

    # stored valves that the new code rejects: 400, nothing changes
    admin.post(f"{API}/id/secret_pipe/valves/update", json={"retries": 3})
    typed = second.replace("retries: int = 1", "retries: bool = False")
    refused = admin.post(
        f"{API}/id/secret_pipe/update", json=form("x", name="Secret_Pipe", content=typed)
    )
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("Current Valves are incompatible with this code")
    assert "retries=3" in chat(admin, "secret_pipe")


def test_valves_spec_update_masking_and_validation(server):
    admin = server.client()
    admin.post(f"{API}/create", json=form("secret_pipe", "admin_secret_pipe"))
    admin.post(f"{API}/id/secret_pipe/toggle")

    assert admin.get(f"{API}/id/secret_pipe/valves").json() == {}
    spec = admin.get(f"{API}/id/secret_pipe/valves/spec").json()
    assert spec["title"] == "Valves" and spec["type"] == "object"
    assert set(spec["properties"]) == {"api_key", "model", "retries"}

    saved = admin.post(
        f"{API}/id/secret_pipe/valves/update",
        json={"api_key": "sk-real-secret", "retries": 2, "model": None},
    )
    assert saved.status_code == 200
    assert saved.json() == {"api_key": MASK, "retries": 2}  # only the set fields, None dropped
    assert admin.get(f"{API}/id/secret_pipe/valves").json() == {"api_key": MASK, "retries": 2}
    exported = admin.get(f"{API}/export", params={"include_valves": True}).json()
    assert {f["id"]: f["valves"] for f in exported}["secret_pipe"] == {
        "api_key": MASK,
        "retries": 2,
    }
    assert "sk-real-secret" not in admin.get(f"{API}/export?include_valves=true").text
    assert chat(admin, "secret_pipe").startswith("key=sk-real-secret model=small retries=2")

    # the form read back (mask included) keeps the secret; other fields change
    form_back = admin.get(f"{API}/id/secret_pipe/valves").json() | {"model": "large"}
    assert admin.post(f"{API}/id/secret_pipe/valves/update", json=form_back).status_code == 200
    assert chat(admin, "secret_pipe").startswith("key=sk-real-secret model=large retries=2")
    # a form without the secret replaces the stored valves (Open WebUI stores what is posted)
    admin.post(f"{API}/id/secret_pipe/valves/update", json={"model": "large"})
    assert admin.get(f"{API}/id/secret_pipe/valves").json() == {"model": "large"}
    assert chat(admin, "secret_pipe").startswith("key= model=large")

    invalid = admin.post(
        f"{API}/id/secret_pipe/valves/update", json={"retries": "many", "model": "other"}
    )
    assert invalid.status_code == 400
    errors = invalid.json()["detail"]["details"]["errors"]
    assert [e["field"] for e in errors] == ["retries"]
    assert admin.get(f"{API}/id/secret_pipe/valves").json() == {"model": "large"}

    # a function without Valves: spec null, update 404
    admin.post(f"{API}/create", json=form("flavours", "filter_user_valves"))
    assert admin.get(f"{API}/id/flavours/valves/spec").json() is None
    assert admin.post(f"{API}/id/flavours/valves/update", json={"x": 1}).status_code == 404


def test_user_valves_are_per_user(server):
    admin = server.client()
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    admin.post(f"{API}/create", json=form("secret_pipe", "admin_secret_pipe"))

    # inactive: no spec, no saving (Open WebUI's rules)
    assert ada.get(f"{API}/id/secret_pipe/valves/user/spec").json() is None
    inactive = ada.post(f"{API}/id/secret_pipe/valves/user/update", json={"tone": "dry"})
    assert (inactive.status_code, inactive.json()["detail"]) == (400, "Function is not active")
    admin.post(f"{API}/id/secret_pipe/toggle")

    spec = ada.get(f"{API}/id/secret_pipe/valves/user/spec").json()
    assert spec["title"] == "UserValves" and set(spec["properties"]) == {"token", "tone"}
    assert ada.get(f"{API}/id/secret_pipe/valves/user").json() == {}
    saved = ada.post(
        f"{API}/id/secret_pipe/valves/user/update", json={"token": "ada-token", "tone": "dry"}
    )
    assert saved.status_code == 200 and saved.json() == {"token": MASK, "tone": "dry"}
    assert ada.get(f"{API}/id/secret_pipe/valves/user").json() == {"token": MASK, "tone": "dry"}
    assert bob.get(f"{API}/id/secret_pipe/valves/user").json() == {}
    assert admin.get(f"{API}/id/secret_pipe/valves/user").json() == {}
    bob.post(f"{API}/id/secret_pipe/valves/user/update", json={"tone": "warm"})
    assert "token=ada-token tone=dry" in chat(ada, "secret_pipe")
    assert "token= tone=warm" in chat(bob, "secret_pipe")

    # the masked form read back keeps Ada's token
    back = ada.get(f"{API}/id/secret_pipe/valves/user").json() | {"tone": "wry"}
    ada.post(f"{API}/id/secret_pipe/valves/user/update", json=back)
    assert "token=ada-token tone=wry" in chat(ada, "secret_pipe")

    invalid = bob.post(f"{API}/id/secret_pipe/valves/user/update", json={"tone": ["a", "b"]})
    assert invalid.status_code == 400
    assert [e["field"] for e in invalid.json()["detail"]["details"]["errors"]] == ["tone"]
    assert bob.get(f"{API}/id/secret_pipe/valves/user").json() == {"tone": "warm"}
    no_user_valves = admin.post(f"{API}/id/valves_secrets/valves/user/update", json={"a": 1})
    assert no_user_valves.status_code == 404


def test_directory_plugins_are_read_only_but_configurable(server):
    admin = server.client()
    listed = {f["id"]: f for f in admin.get(f"{API}/").json()}
    row = listed["valves_secrets"]
    path = str(server.plugin_dir / "valves_secrets.py")
    assert (row["source"], row["path"], row["type"]) == ("directory", path, "pipe")
    assert (row["is_active"], row["is_global"]) == (True, True)
    assert admin.get(f"{API}/id/valves_secrets").json()["content"] == source("valves_secrets")

    update = admin.post(
        f"{API}/id/valves_secrets/update", json=form("x", content=source("returns_str"))
    )
    assert update.status_code == 403 and path in update.json()["detail"]
    delete = admin.delete(f"{API}/id/valves_secrets/delete")
    assert delete.status_code == 403 and path in delete.json()["detail"]

    # valves and flags are configuration: they work, and secrets are masked
    saved = admin.post(
        f"{API}/id/valves_secrets/valves/update",
        json={"OPENAI_API_KEY": "sk-dir", "signing": "s3cret", "model": "m1", "temperature": 0.1},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "OPENAI_API_KEY": MASK,
        "signing": MASK,
        "model": "m1",
        "temperature": 0.1,
    }
    assert chat(admin, "valves_secrets") == "m1"
    assert admin.post(f"{API}/id/valves_secrets/toggle").json()["is_active"] is False
    assert admin.post(f"{API}/id/valves_secrets/toggle").json()["is_active"] is True

    history = admin.get(f"{API}/id/valves_secrets/history").json()
    assert len(history) == 1 and history[0]["user_id"] is None
    assert history[0]["commit_message"] == "file valves_secrets.py"

    # the file breaks: the last good version keeps serving, the API shows the error and line
    (server.plugin_dir / "valves_secrets.py").write_text(source("load_syntax_error"))
    eventually(
        lambda: admin.get(f"{API}/id/valves_secrets").json()["status"]["state"] == "error",
        what="the watcher reporting the broken file",
    )
    status = admin.get(f"{API}/id/valves_secrets").json()["status"]
    assert (status["error"]["type"], status["error"]["line"]) == ("SyntaxError", 7)
    assert status["error"]["path"] == path
    user = server.client(server.user_key("ada@example.com"))
    seen = {f["id"]: f for f in user.get(f"{API}/").json()}["valves_secrets"]["status"]
    assert seen == {"state": "error", "error": None, "loop_stall": None}
    assert chat(admin, "valves_secrets") == "m1"
    assert admin.get(f"{API}/id/valves_secrets/valves").json()["OPENAI_API_KEY"] == MASK


def test_models_are_listed_by_the_name_the_admin_gave(server):
    # Open WebUI lists a function by its row's name; a directory file keeps its frontmatter title.
    admin = server.client()
    made = form("h01", "returns_str", name="My pipe", meta={"description": "Mine"})
    assert admin.post(f"{API}/create", json=made).status_code == 200
    admin.post(f"{API}/id/h01/toggle")
    models = {m["id"]: m for m in admin.get("/v1/models").json()["data"]}
    assert models["h01"]["name"] == "My pipe"
    assert models["valves_secrets"]["name"] == "Valves holding secrets next to ordinary settings"
    renamed = form("h01", "returns_str", name="Renamed pipe")
    assert admin.post(f"{API}/id/h01/update", json=renamed).status_code == 200
    models = {m["id"]: m for m in admin.get("/v1/models").json()["data"]}
    assert models["h01"]["name"] == "Renamed pipe"


REFUSE_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE UPDATE ON function "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE UPDATE ON function FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


def test_an_update_the_database_refuses_leaves_the_stored_code_serving(server):
    """The new code is loaded before the row is written; when the write fails, what is stored
    is what serves (not code no replica or restart would know of)."""
    admin = server.client()
    admin.post(f"{API}/create", json=form("changing", "returns_str"))
    admin.post(f"{API}/id/changing/toggle")
    assert chat(admin, "changing") == "plain answer"

    async def refuse_updates() -> None:
        db = server.app.state.db
        async with db.engine.begin() as connection:
            for statement in REFUSE_UPDATES[db.engine.dialect.name]:
                await connection.exec_driver_sql(statement)

    server.call(refuse_updates())
    changed = source("returns_str").replace('"plain answer"', '"changed answer"')
    refused = admin.post(f"{API}/id/changing/update", json=form("changing", content=changed))
    assert refused.status_code == 500 and "disk full" not in refused.text
    assert refused.headers["connection"] == "close"  # the server closes it: not kept alive
    assert chat(admin, "changing") == "plain answer"
    assert admin.get(f"{API}/id/changing").json()["content"] == source("returns_str")
