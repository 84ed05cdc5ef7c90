"""`/api/v1/connections` against a real server: admins add, change and remove stored upstream
connections; those from the environment and `--upstream` are listed but read-only; keys never
leave the server, in answers or logs; every change reaches the upstream registry."""

from __future__ import annotations

import logging

import httpx
import pytest

from pipehouse.upstream.connections import Connection
from tests.api.conftest import start_server

API = "/api/v1/connections"
MASK = "********"
KEY = "sk-test-upstream-secret-4242"
VIEW = {
    "id",
    "base_url",
    "api_key",
    "prefix",
    "models",
    "enabled",
    "source",
    "created_at",
    "updated_at",
}
OPEN_WEBUI_VARIABLES = (
    "OPENAI_API_BASE_URLS",
    "OPENAI_API_KEYS",
    "OPENAI_API_BASE_URL",
    "OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def no_connections_from_the_environment(monkeypatch):
    """Whatever the machine running the tests has set must not become a connection here."""
    for name in OPEN_WEBUI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class Answers:
    """Every answer a test got, to check that a key appears in none of them."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def hook(self, response: httpx.Response) -> None:
        response.read()
        self.texts.append(response.text + str(response.headers))


def recording_client(server, key: str | None = None) -> tuple[httpx.Client, Answers]:
    answers = Answers()
    client = server.client(key or server.admin_key, event_hooks={"response": [answers.hook]})
    return client, answers


def stored_key(server, connection_id: str) -> str | None:
    row = server.call(server.app.state.connections.store.get(connection_id))
    return row.api_key if row is not None else None


def test_create_read_update_and_delete(server, caplog):
    caplog.set_level(logging.INFO, logger="pipehouse")
    admin, answers = recording_client(server)
    assert admin.get(API).json() == []

    created = admin.post(
        API,
        json={
            "id": "ollama",
            "base_url": "http://127.0.0.1:11434/v1/",
            "api_key": KEY,
            "models": ["llama3", " qwen ", "llama3", ""],
        },
    )
    assert created.status_code == 200, created.text
    row = created.json()
    assert set(row) == VIEW
    assert row["base_url"] == "http://127.0.0.1:11434/v1"  # no trailing slash
    assert (row["api_key"], row["prefix"], row["enabled"]) == (MASK, None, True)
    assert row["models"] == ["llama3", "qwen"]
    assert row["source"] == "stored" and row["created_at"] == row["updated_at"] > 0
    assert stored_key(server, "ollama") == KEY  # usable to call the upstream

    taken = admin.post(API, json={"id": "ollama", "base_url": "http://example.com/v1"})
    assert taken.status_code == 409 and "ollama" in taken.json()["detail"]

    # without an id, one is made from the host and port, unique
    first = admin.post(API, json={"base_url": "https://api.example.com/v1", "enabled": False})
    second = admin.post(API, json={"base_url": "https://api.example.com/other"})
    assert (first.json()["id"], second.json()["id"]) == ("api-example-com", "api-example-com-2")
    assert (first.json()["api_key"], first.json()["enabled"]) == (None, False)

    listed = admin.get(API).json()
    assert [c["id"] for c in listed] == ["api-example-com", "api-example-com-2", "ollama"]
    assert listed[-1] == row
    assert admin.get(f"{API}/ollama").json() == row

    # partial update; the masked key posted back (the view as read) keeps the stored key
    changed = admin.post(f"{API}/ollama/update", json={**row, "prefix": "local", "models": []})
    assert changed.status_code == 200, changed.text
    assert changed.json() | {"updated_at": 0} == row | {
        "prefix": "local",
        "models": [],
        "updated_at": 0,
    }
    assert stored_key(server, "ollama") == KEY
    assert admin.post(f"{API}/ollama/update", json={"enabled": False}).json()["enabled"] is False
    assert stored_key(server, "ollama") == KEY  # an update without the key keeps it too
    assert admin.post(f"{API}/ollama/update", json={"api_key": "sk-new"}).json()["api_key"] == MASK
    assert stored_key(server, "ollama") == "sk-new"
    assert admin.post(f"{API}/ollama/update", json={"api_key": None}).json()["api_key"] is None
    assert stored_key(server, "ollama") is None
    admin.post(f"{API}/ollama/update", json={"api_key": KEY, "prefix": ""})
    assert admin.get(f"{API}/ollama").json()["prefix"] is None

    assert admin.delete(f"{API}/ollama").json() is True
    assert admin.get(f"{API}/ollama").status_code == 404
    assert admin.post(f"{API}/api-example-com/delete").json() is True  # Open WebUI's style
    assert [c["id"] for c in admin.get(API).json()] == ["api-example-com-2"]
    gone = admin.post(f"{API}/ollama/update", json={"prefix": "x"})
    assert gone.status_code == 404 and "ollama" in gone.json()["detail"]
    assert admin.delete(f"{API}/ollama").status_code == 404

    assert len(answers.texts) > 15  # the hook saw them
    assert not [text for text in answers.texts if KEY in text or "sk-new" in text]
    assert not [r for r in caplog.records if KEY in r.getMessage() or "sk-new" in r.getMessage()]


def test_admins_only(server):
    user_key = server.user_key("ada@example.com")
    admin = server.client()
    admin.post(API, json={"id": "one", "base_url": "http://127.0.0.1:9/v1"})
    routes = [
        ("GET", API, None),
        ("POST", API, {"id": "two", "base_url": "http://127.0.0.1:9/v1"}),
        ("GET", f"{API}/one", None),
        ("POST", f"{API}/one/update", {"prefix": "p"}),
        ("POST", f"{API}/one/delete", None),
        ("DELETE", f"{API}/one", None),
    ]
    for method, path, body in routes:
        anonymous = server.client(None).request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        user = server.client(user_key).request(method, path, json=body)
        assert user.status_code == 403, (method, path)
    assert [c["id"] for c in admin.get(API).json()] == ["one"]
    assert admin.get(f"{API}/one").json()["prefix"] is None


def fields(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 400, answer.text
    return [error["field"] for error in answer.json()["detail"]]


def test_bad_input_is_a_400_naming_each_field(server):
    admin = server.client()
    for url in ("ftp://example.com", "http://", "example.com/v1", "http://host:port/v1", ""):
        answer = admin.post(API, json={"base_url": url})
        assert fields(answer) == ["base_url"], url
    assert "http://" in admin.post(API, json={"base_url": "x"}).json()["detail"][0]["message"]
    assert fields(admin.post(API, json={})) == ["base_url"]
    assert fields(admin.post(API, json={"id": "a/b", "base_url": "http://h"})) == ["id"]
    assert fields(admin.post(API, json={"id": "", "base_url": "http://h"})) == ["id"]
    assert fields(admin.post(API, json={"id": "x" * 65, "base_url": "http://h"})) == ["id"]
    many = admin.post(
        API,
        json={"base_url": "nope", "models": "llama3", "enabled": "maybe", "url": "http://h"},
    )
    assert sorted(fields(many)) == ["base_url", "enabled", "models", "url"]
    assert fields(admin.post(API, content=b"not json")) == [""]
    assert fields(admin.post(API, json=["http://h"])) == [""]
    assert admin.get(API).json() == []  # nothing stored

    admin.post(API, json={"id": "kept", "base_url": "http://127.0.0.1:9/v1"})
    assert fields(admin.post(f"{API}/kept/update", json={"base_url": None})) == ["base_url"]
    assert fields(admin.post(f"{API}/kept/update", json={"enabled": None})) == ["enabled"]
    assert fields(admin.post(f"{API}/kept/update", json={"id": "renamed"})) == ["id"]
    assert fields(admin.post(f"{API}/kept/update", json={"base_url": "ftp://h"})) == ["base_url"]
    assert admin.get(f"{API}/kept").json()["base_url"] == "http://127.0.0.1:9/v1"


@pytest.fixture
def configured_server(tmp_path, database_url, monkeypatch):
    """A server with Open WebUI's variables set and two `--upstream` URLs, one with a key."""
    monkeypatch.setenv("OPENAI_API_BASE_URLS", "http://env-one:8000/v1;http://env-two:8000/v1/")
    monkeypatch.setenv("OPENAI_API_KEYS", f"{KEY}-env;")
    yield from start_server(
        tmp_path,
        database_url,
        [],
        upstreams=["http://cli-host:9000/v1", "http://cli-other:9000/v1"],
        upstream_keys=["", f"{KEY}-cli"],
    )


def test_env_and_cli_connections_are_listed_and_read_only(configured_server):
    server = configured_server
    admin, answers = recording_client(server)
    listed = {c["id"]: c for c in admin.get(API).json()}
    assert list(listed) == ["openai-0", "openai-1", "cli-0", "cli-1"]
    assert listed["openai-0"] == {
        "id": "openai-0",
        "base_url": "http://env-one:8000/v1",
        "api_key": MASK,
        "prefix": None,
        "models": [],
        "enabled": True,
        "source": "env",
        "created_at": None,
        "updated_at": None,
    }
    assert (listed["openai-1"]["api_key"], listed["openai-1"]["base_url"]) == (
        None,
        "http://env-two:8000/v1",
    )
    assert [listed[i]["source"] for i in ("cli-0", "cli-1")] == ["cli", "cli"]
    assert [listed[i]["api_key"] for i in ("cli-0", "cli-1")] == [None, MASK]
    assert admin.get(f"{API}/cli-1").json() == listed["cli-1"]

    for connection_id, origin in (("openai-0", "OPENAI_API_BASE_URLS"), ("cli-1", "--upstream")):
        for method, path, body in (
            ("POST", f"{API}/{connection_id}/update", {"prefix": "p"}),
            ("POST", f"{API}/{connection_id}/delete", None),
            ("DELETE", f"{API}/{connection_id}", None),
        ):
            refused = admin.request(method, path, json=body)
            assert refused.status_code == 403, (method, path)
            assert origin in refused.json()["detail"] and "restart" in refused.json()["detail"]
        taken = admin.post(API, json={"id": connection_id, "base_url": "http://h/v1"})
        assert taken.status_code == 409
    assert admin.get(API).json() == list(listed.values())  # nothing changed
    assert not [text for text in answers.texts if KEY in text]


class Recorder:
    """Stands in for the upstream registry: remembers what the service pushes."""

    def __init__(self) -> None:
        self.pushed: list[list[Connection]] = []

    def set_connections(self, connections: list[Connection]) -> None:
        self.pushed.append(list(connections))


def test_every_change_reaches_the_registry(configured_server):
    server = configured_server
    service = server.app.state.connections
    recorder = Recorder()
    service.registry = recorder
    admin = server.client()

    admin.post(API, json={"id": "mine", "base_url": "http://h:1/v1", "api_key": KEY})
    admin.post(f"{API}/mine/update", json={"prefix": "p", "models": ["m"], "enabled": False})
    admin.post(f"{API}/mine/update", json={"api_key": MASK})
    admin.delete(f"{API}/mine")
    admin.post(f"{API}/cli-0/update", json={"prefix": "refused"})  # 403: nothing pushed

    configured = ["openai-0", "openai-1", "cli-0", "cli-1"]
    assert [[c.id for c in push] for push in recorder.pushed] == [
        [*configured, "mine"],
        [*configured, "mine"],
        [*configured, "mine"],
        configured,
    ]
    added, changed, masked_back = (push[-1] for push in recorder.pushed[:3])
    assert added == Connection("mine", "http://h:1/v1", KEY, source="stored")
    assert changed == Connection("mine", "http://h:1/v1", KEY, "p", ("m",), False, "stored")
    assert masked_back.api_key == KEY
    assert recorder.pushed[-1][0] == Connection("openai-0", "http://env-one:8000/v1", f"{KEY}-env")


def test_stored_connections_outlive_a_restart(tmp_path, database_url):
    first = start_server(tmp_path, database_url, [])
    server = next(first)
    admin = server.client()
    made = admin.post(API, json={"id": "kept", "base_url": "http://h/v1", "api_key": KEY}).json()
    first.close()  # stops the server

    second = start_server(tmp_path, database_url, [])
    server = next(second)
    try:
        assert server.client().get(API).json() == [made]
        assert stored_key(server, "kept") == KEY
        pushed = server.call(server.app.state.connections.connections())
        assert [(c.id, c.api_key, c.source) for c in pushed] == [("kept", KEY, "stored")]
    finally:
        second.close()


def test_a_stored_connection_overrides_a_configured_one_with_its_id(configured_server):
    """`pipehouse connections add --id openai-0` (straight into the database) wins over the
    environment; removing it brings the environment's back."""
    server = configured_server
    store = server.app.state.connections.store
    server.call(
        store.upsert(
            "openai-0", base_url="http://h/v1", api_key=None, prefix="x", models=[], enabled=True
        )
    )
    admin = server.client()
    mine = admin.get(f"{API}/openai-0").json()
    assert (mine["source"], mine["base_url"], mine["prefix"]) == ("stored", "http://h/v1", "x")
    assert [c["id"] for c in admin.get(API).json()] == ["openai-0", "openai-1", "cli-0", "cli-1"]
    assert admin.post(f"{API}/openai-0/update", json={"prefix": "y"}).status_code == 200
    assert admin.delete(f"{API}/openai-0").json() is True
    assert admin.get(f"{API}/openai-0").json()["source"] == "env"
