"""Plugins get the packages they need without anyone installing anything (docs/isolation.md,
"Environments"): declared requirements are built into an environment while the server runs,
undeclared imports of packages Open WebUI ships are satisfied, anything else is named."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from filelock import FileLock

from pipehouse.envs import EnvironmentSpec
from tests.api.conftest import start_server
from tests.conftest import PLUGINS
from tests.support.greeting_checkout import write_greeting_checkout
from tests.support.polling import eventually


def ask(client, model: str, prompt: str = "hi"):
    return client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": prompt}]},
    )


def answer(client, model: str, prompt: str = "hi") -> str:
    response = ask(client, model, prompt)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def plugin_status(client, plugin_id: str) -> dict | None:
    return {p["id"]: p for p in client.get("/api/v1/plugins").json()}.get(plugin_id)


def state_is(client, plugin_id: str, *states: str):
    """The plugin's status once it is in one of `states` ("loaded": and serving)."""
    status = plugin_status(client, plugin_id)
    if status is None or status.get("state") not in states:
        return None
    return None if status["state"] == "loaded" and status["kind"] is None else status


def create_active(client, plugin_id: str, fixture: str, description: str) -> None:
    """Create a function from a fixture plugin through the admin API, and switch it on."""
    created = client.post(
        "/api/v1/functions/create",
        json={
            "id": plugin_id,
            "name": plugin_id.title(),
            "content": (PLUGINS / f"{fixture}.py").read_text(),
            "meta": {"description": description},
        },
    )
    assert created.status_code == 200, created.text
    assert client.post(f"/api/v1/functions/id/{plugin_id}/toggle").json()["is_active"] is True


def test_created_through_the_api_with_requirements_becomes_ready_without_a_restart(server):
    admin = server.client()
    key = EnvironmentSpec.of(["pyfiglet==1.0.2"]).key
    locks = server.data_dir / "envs" / ".locks"
    locks.mkdir(parents=True)
    # Another process building the same environment (a replica sharing the data dir) holds
    # its lock: the server must wait for it, and say so, instead of building it twice.
    other_builder = FileLock(locks / f"{key}.lock")
    other_builder.acquire()
    try:
        create_active(admin, "banner", "env_figlet_modern", "ASCII art")

        queued = plugin_status(admin, "banner")
        assert queued["state"] == "queued"
        assert queued["environment"]["requirements"] == ["pyfiglet==1.0.2"]
        assert admin.get(f"/api/v1/environments/{key}").json()["state"] == "queued"

        busy = ask(admin, "banner")
        assert busy.status_code == 503
        assert int(busy.headers["Retry-After"]) > 0
        assert "being installed" in busy.json()["error"]["message"]
    finally:
        other_builder.release()

    ready = eventually(lambda: state_is(admin, "banner", "loaded"), seconds=90, what="ready")
    environment = ready["environment"]
    assert environment["state"] == "ready" and environment["key"] == key
    assert any("+ pyfiglet==1.0.2" in line for line in environment["progress"])
    assert environment["size"] > 0 and environment["plugins"] == ["banner"]
    assert answer(admin, "banner", "ok").startswith("pyfiglet 1.0.2\n")
    listed = admin.get("/api/v1/environments").json()
    assert [e["key"] for e in listed if e["state"] == "ready"] == [key]


def test_an_undeclared_import_of_a_package_open_webui_ships_just_works(server):
    admin = server.client()
    server.add_plugin("env_undeclared_validators")
    loaded = eventually(
        lambda: state_is(admin, "env_undeclared_validators", "loaded"), seconds=90, what="load"
    )
    assert loaded["environment"]["requirements"] == ["validators==0.35.0"]  # Open WebUI's pin
    assert answer(admin, "env_undeclared_validators", "https://example.com") == "a URL"
    assert answer(admin, "env_undeclared_validators", "no url here") == "not a URL"


def test_an_unknown_module_fails_naming_it_and_the_likely_package(server):
    admin = server.client()
    server.add_plugin("env_unknown_module")
    failed = eventually(lambda: state_is(admin, "env_unknown_module", "error"), what="the error")
    error = failed["error"]
    assert error["type"] == "ModuleNotFoundError"
    assert "pipehouse_fixture_weather_sdk" in error["message"]
    assert "requirements: pipehouse-fixture-weather-sdk" in error["hint"]
    assert admin.get("/api/v1/environments").json() == []  # nothing was installed


def test_a_failed_install_stays_listed_with_its_error_and_is_retried_when_asked(server):
    admin = server.client()
    (server.plugin_dir / "typo.py").write_text(
        (PLUGINS / "env_figlet_modern.py")
        .read_text()
        .replace("pyfiglet==1.0.2", "pipehouse-fixture-no-such-distribution==1.0")
    )
    failed = eventually(lambda: state_is(admin, "typo", "error"), seconds=60, what="failure")
    assert failed["environment"]["state"] == "failed"
    assert "no package named pipehouse-fixture-no-such-distribution" in failed["error"]["message"]

    retried = admin.post("/api/v1/environments/plugins/typo/retry")
    assert retried.status_code == 200
    assert retried.json()["state"] in ("queued", "installing", "failed")
    again = eventually(
        lambda: (
            (s := state_is(admin, "typo", "error"))
            and s["environment"]["created"] > failed["environment"]["created"]
            and s
        ),
        seconds=60,
        what="the retry",
    )
    assert again["environment"]["state"] == "failed"


@pytest.fixture
def isolated_server(tmp_path) -> Iterator:
    yield from start_server(
        tmp_path, None, ["env_figlet_classic", "env_figlet_modern"], isolation="isolated"
    )


def test_conflicting_versions_are_served_side_by_side(isolated_server):
    admin = isolated_server.client()
    for plugin_id in ("env_figlet_classic", "env_figlet_modern"):
        eventually(lambda p=plugin_id: state_is(admin, p, "loaded"), seconds=120, what=plugin_id)
    models = ["env_figlet_classic", "env_figlet_modern"] * 4
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda model: answer(admin, model, "hi"), models))
    for model, text in zip(models, answers, strict=True):
        version = "0.8.post1" if model == "env_figlet_classic" else "1.0.2"
        assert text.startswith(f"pyfiglet {version}\n"), (model, text[:40])


def add_greeter(server, checkout) -> str:
    """The greeter plugin requiring the checkout; returns its environment's key."""
    source = (PLUGINS / "env_built_from_source.py").read_text()
    (server.plugin_dir / "greeter.py").write_text(
        source.replace("file:///SOURCE_CHECKOUT", checkout.as_uri())
    )
    return EnvironmentSpec.of([f"pipehouse-fixture-greeting @ {checkout.as_uri()}"]).key


def test_an_install_in_progress_shows_the_step_it_is_at(server, tmp_path):
    admin = server.client()
    release = tmp_path / "release-the-build"
    checkout = tmp_path / "greeting"
    write_greeting_checkout(checkout, release=release)
    key = add_greeter(server, checkout)

    try:
        building = eventually(
            lambda: (
                (s := plugin_status(admin, "greeter"))
                and (s.get("environment") or {}).get("step", "").startswith("resolved: ")
                and s
            ),
            seconds=60,
            what="the resolved step",
        )
        environment = building["environment"]
        assert environment["state"] == "installing"
        assert environment["step"].startswith("resolved: Resolved 1 package in ")
        assert any(line.startswith("Resolved 1 package") for line in environment["progress"])
        shown = admin.get(f"/api/v1/environments/{key}").json()
        assert shown["state"] == "installing" and shown["step"] == environment["step"]

        busy = ask(admin, "greeter")
        assert busy.status_code == 503
        assert busy.json()["environment"] == {
            "key": key,
            "state": "installing",
            "step": environment["step"],
        }
        assert "(installing: resolved: Resolved 1 package" in busy.json()["error"]["message"]
    finally:
        release.touch()

    ready = eventually(lambda: state_is(admin, "greeter", "loaded"), seconds=60, what="ready")
    assert ready["environment"]["state"] == "ready"
    assert ready["environment"]["step"] == "ready"
    assert answer(admin, "greeter") == "hello, world"


def test_a_failed_environment_rebuilt_when_asked_loads_its_plugin(server, tmp_path):
    admin = server.client()
    checkout = tmp_path / "greeting"  # not there yet: the install fails
    key = add_greeter(server, checkout)
    failed = eventually(lambda: state_is(admin, "greeter", "error"), seconds=60, what="failure")
    assert failed["environment"]["state"] == "failed"
    assert admin.get(f"/api/v1/environments/{key}").json()["state"] == "failed"

    write_greeting_checkout(checkout)  # the cause fixed
    rebuilt = admin.post(f"/api/v1/environments/{key}/rebuild")
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["key"] == key
    assert rebuilt.json()["state"] in ("queued", "installing", "ready")
    assert rebuilt.json()["plugins"] == ["greeter"]
    assert rebuilt.json()["created"] > failed["environment"]["created"]

    ready = eventually(lambda: state_is(admin, "greeter", "loaded"), seconds=60, what="reload")
    assert ready["environment"]["state"] == "ready" and ready["error"] is None
    assert answer(admin, "greeter") == "hello, world"
    assert admin.get(f"/api/v1/environments/{key}").json()["state"] == "ready"


def test_rebuilding_an_unknown_environment_is_a_404_and_needs_an_admin(server):
    admin = server.client()
    missing = admin.post("/api/v1/environments/0123456789abcdef/rebuild")
    assert missing.status_code == 404
    assert "no environment 0123456789abcdef" in missing.text
    user = server.client(server.user_key())
    assert user.post("/api/v1/environments/0123456789abcdef/rebuild").status_code == 403
    assert user.post("/api/v1/environments/prune").status_code == 403


def test_prune_removes_failed_and_unused_environments_and_keeps_those_in_use(server):
    admin = server.client()
    server.add_plugin("env_figlet_modern")
    removed_file = server.add_plugin("env_figlet_classic")
    create_active(admin, "links", "env_undeclared_validators", "Says whether the prompt is a URL")
    (server.plugin_dir / "typo.py").write_text(
        (PLUGINS / "env_figlet_modern.py")
        .read_text()
        .replace("pyfiglet==1.0.2", "pipehouse-fixture-no-such-distribution==1.0")
    )
    figlet = eventually(
        lambda: state_is(admin, "env_figlet_modern", "loaded"), seconds=90, what="figlet"
    )["environment"]["key"]
    links = eventually(lambda: state_is(admin, "links", "loaded"), seconds=90, what="links")[
        "environment"
    ]["key"]
    typo = eventually(lambda: state_is(admin, "typo", "error"), seconds=60, what="typo")[
        "environment"
    ]["key"]
    classic = eventually(
        lambda: state_is(admin, "env_figlet_classic", "loaded"), seconds=90, what="classic"
    )["environment"]["key"]
    assert admin.delete("/api/v1/functions/id/links/delete").status_code == 200
    removed_file.unlink()  # a plugin whose file is gone no longer holds its environment
    eventually(lambda: state_is(admin, "env_figlet_classic", "missing"), what="file removed")

    pruned = admin.post("/api/v1/environments/prune")
    assert pruned.status_code == 200, pruned.text
    assert sorted(pruned.json()["removed"]) == sorted([links, typo, classic])
    assert [e["key"] for e in admin.get("/api/v1/environments").json()] == [figlet]
    assert not (server.data_dir / "envs" / links).exists()
    assert not (server.data_dir / "envs" / typo).exists()
    assert admin.get(f"/api/v1/environments/{links}").status_code == 404
    assert answer(admin, "env_figlet_modern", "ok").startswith("pyfiglet 1.0.2\n")
    assert admin.post("/api/v1/environments/prune").json() == {"removed": []}
