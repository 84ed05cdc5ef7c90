"""The Tools API (`/api/v1/tools`) as Open WebUI 0.12.4 serves it for local toolkits (reference
9.2, 2.4-2.5), against a real server. pipehouse has no access grants: every user may read every
toolkit without its code and keep their own user valves; admins change code and valves."""

from __future__ import annotations

import pytest

from tests.conftest import PLUGINS
from tests.support.polling import eventually

API = "/api/v1/tools"
MASK = "********"
NOT_FOUND = "We could not find what you're looking for :/"
ID_TAKEN = "Uh-oh! This id is already registered. Please choose another id string."
TOOL_RESPONSE = {"id", "user_id", "name", "meta", "access_grants", "updated_at", "created_at"}
TOOL_MODEL = TOOL_RESPONSE | {"content", "specs"}
PIPEHOUSE = {"source", "path", "status"}


@pytest.fixture
def server_plugins():
    return ["toolkit_specs"]  # a directory toolkit: read-only code, configurable valves


def source(name: str) -> str:
    return (PLUGINS / f"{name}.py").read_text()


def form(tool_id: str, plugin: str | None = None, **fields) -> dict:
    """A ToolForm: the code of fixture `plugin` unless `content` is given."""
    return {
        "id": tool_id,
        "name": tool_id.title(),
        "content": source(plugin) if plugin else "",
        "meta": {"description": "made in a test"},
        **fields,
    }


def test_create_list_get_export_update_delete(server):
    admin = server.client()
    user = server.client(server.user_key("ada@example.com"))

    created = admin.post(f"{API}/create", json=form("Weather", "admin_toolkit"))
    assert created.status_code == 200, created.text
    row = created.json()
    assert set(row) >= TOOL_RESPONSE | PIPEHOUSE and not {"content", "specs"} & set(row)
    assert row["id"] == "weather" and row["access_grants"] == []
    assert row["meta"]["manifest"]["title"] == "Admin toolkit"
    assert row["meta"]["description"] == "made in a test"
    assert row["meta"]["has_user_valves"] is True
    assert row["source"] == "api"
    assert row["status"] == {"state": "loaded", "error": None, "loop_stall": None}

    assert admin.post(f"{API}/create", json=form("weather", "admin_toolkit")).json() == {
        "detail": ID_TAKEN
    }
    bad_id = admin.post(f"{API}/create", json=form("weather tool", "admin_toolkit"))
    assert bad_id.status_code == 400 and "underscores" in bad_id.json()["detail"]
    pipe = admin.post(f"{API}/create", json=form("not_tools", "returns_str"))
    assert pipe.status_code == 400 and pipe.json()["detail"]["stage"] == "load"
    assert admin.get(f"{API}/id/not_tools").status_code == 404

    full = admin.get(f"{API}/id/weather").json()
    assert set(full) >= TOOL_MODEL and full["write_access"] is True
    assert full["content"] == source("admin_toolkit")
    assert [s["name"] for s in full["specs"]] == ["get_weather"]
    assert full["specs"][0]["parameters"]["required"] == ["city"]
    seen = user.get(f"{API}/id/weather").json()
    assert "content" not in seen and seen["write_access"] is False
    assert seen["specs"] == full["specs"]

    listed = {t["id"]: t for t in user.get(f"{API}/").json()}
    assert set(listed) == {"weather", "toolkit_specs"}
    assert all("content" not in t for t in listed.values())
    assert listed["weather"]["has_user_valves"] is True
    assert listed["toolkit_specs"]["has_user_valves"] is False
    assert listed["weather"]["user"]["role"] == "admin"
    assert listed["toolkit_specs"]["user"] is None
    assert listed["toolkit_specs"]["source"] == "directory"
    assert [t["id"] for t in user.get(f"{API}/", params={"query": "WEATH"}).json()] == ["weather"]
    access = {t["id"]: t["write_access"] for t in user.get(f"{API}/list").json()}
    assert access == {"weather": False, "toolkit_specs": False}
    assert set(admin.get(f"{API}/list").json()[0]) >= TOOL_RESPONSE | {"user", "write_access"}
    assert all(t["write_access"] for t in admin.get(f"{API}/list").json())

    exported = {t["id"]: t for t in admin.get(f"{API}/export").json()}
    assert set(exported) == {"weather", "toolkit_specs"}
    assert exported["weather"]["content"] == source("admin_toolkit")
    assert "valves" not in exported["weather"]

    # new code: specs regenerated, a version kept, the same code again keeps no new one
    more = source("admin_toolkit") + (
        "\n    def get_time(self, zone: str) -> str:\n"
        '        """The time in a zone."""\n'
        '        return "12:00"\n'
    )
    updated = admin.post(
        f"{API}/id/weather/update",
        json=form("weather", name="Weather", content=more, commit_message="add get_time"),
    )
    assert updated.status_code == 200, updated.text
    assert set(updated.json()) >= TOOL_MODEL
    assert [s["name"] for s in updated.json()["specs"]] == [
        "get_time",
        "get_weather",
    ]  # by name, as Open WebUI
    admin.post(f"{API}/id/weather/update", json=form("weather", name="Weather", content=more))
    history = admin.get(f"{API}/id/weather/history").json()
    assert [h["commit_message"] for h in history] == ["add get_time", None]
    assert history[0]["tool_id"] == "weather" and history[0]["user"] == {"name": "Admin"}
    assert updated.json()["version_id"] == history[0]["id"]
    entry = admin.get(f"{API}/id/weather/history/{history[1]['id']}").json()
    assert entry["snapshot"]["content"] == source("admin_toolkit")
    diff = admin.get(
        f"{API}/id/weather/history/diff",
        params={"from_id": history[1]["id"], "to_id": history[0]["id"]},
    ).json()
    assert "+    def get_time(self, zone: str) -> str:" in diff["content_diff"]

    broken = admin.post(
        f"{API}/id/weather/update",
        json=form("weather", name="Weather", content=more.replace("def get_time", "def get time")),
    )
    assert broken.status_code == 400 and broken.json()["detail"]["type"] == "SyntaxError"
    assert admin.get(f"{API}/id/weather").json()["content"] == more

    # one id space for functions and tools (they share the model and tool namespace)
    taken = admin.post(
        "/api/v1/functions/create",
        json=form("weather", content=source("returns_str")),
    )
    assert (taken.status_code, taken.json()["detail"]) == (400, ID_TAKEN)

    assert admin.delete(f"{API}/id/weather/delete").json() is True
    assert admin.get(f"{API}/id/weather").status_code == 404
    assert admin.get(f"{API}/id/weather/history").status_code == 404
    admin.post(f"{API}/create", json=form("again", "admin_toolkit"))
    assert admin.delete(f"{API}/id/again").json() is True


ROUTES = [
    ("GET", "/", None, "user"),
    ("GET", "/list", None, "user"),
    ("GET", "/export", None, "admin"),
    ("POST", "/create", "form", "admin"),
    ("GET", "/id/{id}", None, "user"),
    ("POST", "/id/{id}/update", "form", "admin"),
    ("GET", "/id/{id}/valves", None, "admin"),
    ("GET", "/id/{id}/valves/spec", None, "admin"),
    ("POST", "/id/{id}/valves/update", {"units": "imperial"}, "admin"),
    ("GET", "/id/{id}/valves/user", None, "user"),
    ("GET", "/id/{id}/valves/user/spec", None, "user"),
    ("POST", "/id/{id}/valves/user/update", {"city": "Oslo"}, "user"),
    ("GET", "/id/{id}/history", None, "admin"),
    ("GET", "/id/{id}/history/{version}", None, "admin"),
    ("GET", "/id/{id}/history/diff?from_id={version}&to_id={version}", None, "admin"),
    ("DELETE", "/id/{id}/delete", None, "admin"),
    ("DELETE", "/id/{id}", None, "admin"),
]


def _call(client, method: str, path: str, body, tool_id: str, version: str = "v"):
    payload = form(tool_id, "admin_toolkit") if body == "form" else body
    url = API + path.format(id=tool_id, version=version)
    return client.request(method, url, json=payload)


def test_who_may_call_what(server):
    """401 without a key, 403 for users on admin routes, 404 for an id that does not exist."""
    admin = server.client()
    anonymous = server.client(key=None)
    user = server.client(server.user_key("bob@example.com"))
    admin.post(f"{API}/create", json=form("weather", "admin_toolkit"))
    version = admin.get(f"{API}/id/weather/history").json()[0]["id"]
    for method, path, body, role in ROUTES:
        where = f"{method} {path}"
        assert _call(anonymous, method, path, body, "weather").status_code == 401, where
        answer = _call(user, method, path, body, "weather", version)
        expected = 403 if role == "admin" else 200
        assert answer.status_code == expected, (where, answer.text)
        if "{id}" in path:
            missing = _call(admin, method, path, body, "no_such_tool", version)
            assert (missing.status_code, missing.json()["detail"]) == (404, NOT_FOUND), where
    assert admin.get(f"{API}/id/weather/history/nope").json() == {"detail": "Version not found"}
    # a function's id is no tool
    admin.post("/api/v1/functions/create", json=form("a_pipe", content=source("returns_str")))
    assert admin.get(f"{API}/id/a_pipe").status_code == 404
    assert admin.get("/api/v1/functions/id/weather").status_code == 404


def test_valves_and_user_valves(server):
    admin = server.client()
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    admin.post(f"{API}/create", json=form("weather", "admin_toolkit"))

    spec = admin.get(f"{API}/id/weather/valves/spec").json()
    assert spec["title"] == "Valves" and set(spec["properties"]) == {"api_key", "units"}
    assert admin.get(f"{API}/id/weather/valves").json() == {}
    saved = admin.post(
        f"{API}/id/weather/valves/update", json={"api_key": "wx-secret", "units": "imperial"}
    )
    assert saved.json() == {"api_key": MASK, "units": "imperial"}
    assert admin.get(f"{API}/id/weather/valves").json() == {"api_key": MASK, "units": "imperial"}
    exported = admin.get(f"{API}/export", params={"include_valves": "true"})
    assert "wx-secret" not in exported.text
    assert {t["id"]: t["valves"] for t in exported.json()}["weather"]["api_key"] == MASK
    back = admin.get(f"{API}/id/weather/valves").json() | {"units": "metric"}
    assert admin.post(f"{API}/id/weather/valves/update", json=back).status_code == 200
    stored = server.call(server.app.state.valves.valves("weather"))
    assert stored == {"api_key": "wx-secret", "units": "metric"}  # the mask kept the secret

    invalid = admin.post(f"{API}/id/weather/valves/update", json={"units": {"a": 1}})
    assert invalid.status_code == 400
    assert [e["field"] for e in invalid.json()["detail"]["details"]["errors"]] == ["units"]
    assert server.call(server.app.state.valves.valves("weather")) == stored

    user_spec = ada.get(f"{API}/id/weather/valves/user/spec").json()
    assert set(user_spec["properties"]) == {"password", "city"}
    mine = ada.post(
        f"{API}/id/weather/valves/user/update", json={"password": "hunter2", "city": "Oslo"}
    )
    assert mine.json() == {"password": MASK, "city": "Oslo"}
    assert ada.get(f"{API}/id/weather/valves/user").json() == {"password": MASK, "city": "Oslo"}
    assert bob.get(f"{API}/id/weather/valves/user").json() == {}
    bob.post(f"{API}/id/weather/valves/user/update", json={"city": "Lima"})
    assert bob.get(f"{API}/id/weather/valves/user").json() == {"city": "Lima"}
    assert ada.get(f"{API}/id/weather/valves/user").json()["city"] == "Oslo"
    back = ada.get(f"{API}/id/weather/valves/user").json() | {"city": "Rome"}
    ada.post(f"{API}/id/weather/valves/user/update", json=back)
    accounts = server.app.state.accounts
    ada_row = server.call(accounts.user_by_email("ada@example.com"))
    assert server.call(server.app.state.valves.user_valves("weather", ada_row.id)) == {
        "password": "hunter2",
        "city": "Rome",
    }
    ada_settings = server.call(accounts.get_user(ada_row.id)).settings
    assert ada_settings["tools"]["valves"]["weather"]["city"] == "Rome"  # where Open WebUI keeps it

    invalid = bob.post(f"{API}/id/weather/valves/user/update", json={"city": None, "password": 3})
    assert invalid.status_code == 400
    assert bob.get(f"{API}/id/weather/valves/user").json() == {"city": "Lima"}

    # the directory toolkit has Valves but no UserValves
    assert ada.get(f"{API}/id/toolkit_specs/valves/user/spec").json() is None
    assert ada.post(f"{API}/id/toolkit_specs/valves/user/update", json={}).status_code == 404


def test_directory_toolkits_are_read_only_but_configurable(server):
    admin = server.client()
    path = str(server.plugin_dir / "toolkit_specs.py")
    row = admin.get(f"{API}/id/toolkit_specs").json()
    assert (row["source"], row["path"]) == ("directory", path)
    assert row["content"] == source("toolkit_specs")
    assert "search_web" in [s["name"] for s in row["specs"]]

    update = admin.post(
        f"{API}/id/toolkit_specs/update", json=form("toolkit_specs", "admin_toolkit")
    )
    assert update.status_code == 403 and path in update.json()["detail"]
    delete = admin.delete(f"{API}/id/toolkit_specs/delete")
    assert delete.status_code == 403 and path in delete.json()["detail"]
    assert admin.get(f"{API}/id/toolkit_specs").json()["content"] == source("toolkit_specs")

    saved = admin.post(f"{API}/id/toolkit_specs/valves/update", json={"api_key": "dir-key"})
    assert saved.status_code == 200 and saved.json() == {"api_key": MASK}
    assert admin.get(f"{API}/id/toolkit_specs/valves").json() == {"api_key": MASK}

    # the file goes away: the row stays, readable; what needs the live toolkit says why not
    (server.plugin_dir / "toolkit_specs.py").unlink()
    eventually(
        lambda: admin.get(f"{API}/id/toolkit_specs").json()["status"]["state"] == "missing",
        what="the watcher reporting the removed file",
    )
    assert path in admin.get(f"{API}/id/toolkit_specs").json()["status"]["error"]["message"]
    spec = admin.get(f"{API}/id/toolkit_specs/valves/spec")
    assert spec.status_code == 503 and spec.json()["detail"]["status"]["state"] == "missing"
    assert admin.post(f"{API}/id/toolkit_specs/valves/update", json={}).status_code == 503
    assert admin.get(f"{API}/id/toolkit_specs/valves").json() == {"api_key": MASK}
