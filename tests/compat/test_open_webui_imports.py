"""The `open_webui.*` import surface without a server (the runtime as `pipehouse run` builds it):
fixture plugins written as community plugins are, loaded by the normal loader and run."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from pipehouse.compat import is_alias
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.loader import load_plugin_file
from tests.conftest import USER, content_of, plugin_path
from tests.runtime.helpers import assert_well_formed, message


async def answer(harness, model: str, prompt: str = "hello", **extra) -> str:
    completion = await harness.complete(harness.body(model, prompt, **extra))
    return message(completion)["content"]


async def test_modules_run_under_their_open_webui_names(harness):
    await harness.add("compat_misc_report")
    import open_webui.models.users as users
    import open_webui.utils.misc as misc

    assert misc.__name__ == "open_webui.utils.misc"
    assert users.UserModel.__module__ == "open_webui.models.users"
    assert is_alias(sys.modules["open_webui"])


async def test_misc_helpers_constants_and_env(harness):
    await harness.add("compat_misc_report")
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "system", "content": "a second system message"},
        {"role": "user", "content": [{"type": "text", "text": "second question"}]},
    ]
    body = {"model": "compat_misc_report", "messages": messages}
    report = json.loads(message(await harness.complete(body))["content"])
    assert report["last_user"] == "second question"
    assert report["last_user_item"] == messages[-1]
    assert report["last_assistant"] == "first answer"
    assert report["system"] == messages[0] == report["system_again"]
    assert [m["role"] for m in report["without_system"]] == ["user", "assistant", "user"]
    assert report["edited_system"] == {"role": "system", "content": "Be brief.\nYou are terse."}
    assert report["appended_user"]["content"] == [
        {"type": "text", "text": "second question\n(thanks)"}
    ]
    assert report["prepended"] == "Q:\nfirst question"
    assert report["content"].splitlines()[0] == "USER: first question"
    assert report["chain"] == ["first", "second"]
    assert report["merged"] == {"a": {"b": 3, "c": 2}}
    assert report["completion"] == {
        "index": 0,
        "logprobs": None,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": "hi"},
    }
    assert report["task_is_default"] is True
    assert report["title_task"] == "title_generation"
    assert report["version"] == "0.12.4"
    assert report["upload_dir_exists"] is True


async def test_chunks_built_with_the_template_stream(harness):
    await harness.add("compat_chunk_template")
    payloads = await harness.stream(harness.body("compat_chunk_template", "make it loud"))
    assert_well_formed(payloads)
    assert content_of(payloads) == "MAKE IT LOUD "


@pytest.mark.parametrize("stream", [False, True])
async def test_generate_chat_completion_reaches_another_pipe(harness, stream):
    await harness.add("compat_asks_model")
    await harness.add("returns_str")
    await harness.add("returns_async_generator")
    if stream:  # the outer request streams, so the pipe asks for a stream too
        body = harness.body("compat_asks_model", "returns_async_generator anything")
        assert content_of(await harness.stream(body)) == "streamed as user: Hello, world"
    else:
        text = await answer(harness, "compat_asks_model", "returns_str anything")
        assert text == "asked as user: plain answer"


async def test_older_style_sync_users_and_main_generate_chat_completions(harness):
    await harness.add("compat_asks_model_legacy")
    await harness.add("returns_str")
    assert await answer(harness, "compat_asks_model_legacy", "returns_str hi") == (
        "Ada asked: plain answer"
    )


async def test_users_from_a_worker_thread_know_the_command_line_user(harness):
    await harness.add("compat_users_sync")
    report = json.loads(await answer(harness, "compat_users_sync"))
    assert report["me"] == {k: USER[k] for k in ("id", "email", "name", "role")}
    assert report["same"] is True
    assert report["nobody_is_none"] is True
    assert report["listed"] == [USER["email"]]
    assert report["avatar"] == f"/api/v1/users/{USER['id']}/profile/image"


async def test_get_tools_builds_callable_tools(harness):
    await harness.add("compat_get_tools")
    await harness.add("tools_math")
    assert await answer(harness, "compat_get_tools") == "tools: ['add']; 2 + 3 = 5"


async def test_workspace_models_are_absent_and_creating_one_is_refused(harness):
    await harness.add("compat_models_lookup")
    text = await answer(harness, "compat_models_lookup")
    assert text.startswith("no workspace model; legacy=None; Models.insert_new_model()")
    assert "pipehouse has no workspace models" in text


async def test_database_backed_calls_say_they_need_a_server(harness):
    await harness.add("compat_files_async")
    with pytest.raises(PluginError) as caught:
        await harness.complete(harness.body("compat_files_async", "some text"))
    assert "Files.insert_new_file() needs the database of `pipehouse serve`" in str(caught.value)


def test_an_unsupported_name_fails_at_load_naming_it():
    with pytest.raises(PluginError) as caught:
        load_plugin_file(plugin_path("compat_unsupported_symbol"))
    error = caught.value
    assert error.error_type == "ImportError"
    assert "pipehouse does not support open_webui.models.users.UserNameResponse" in error.message
    assert "docs/compatibility.md" in error.message


def test_an_unsupported_module_fails_at_import_naming_it():
    from pipehouse.compat import install

    install()
    with pytest.raises(ModuleNotFoundError) as caught:
        import open_webui.retrieval.vector.main  # noqa: F401
    assert caught.value.name == "open_webui.retrieval"
    assert "pipehouse does not support open_webui.retrieval" in str(caught.value)


def test_unsupported_attributes_are_attribute_errors_for_version_probes():
    from pipehouse.compat import install

    install()
    import open_webui.models.users as users

    assert not hasattr(users, "UserNameResponse")
    assert getattr(users, "UserNameResponse", None) is None
    with pytest.raises(AttributeError, match=r"does not support Users\.get_user_by_api_key"):
        users.Users.get_user_by_api_key  # noqa: B018


@pytest.fixture
def real_open_webui(tmp_path, monkeypatch):
    """A stand-in for an installed Open WebUI, first on sys.path, with no alias modules
    cached (they come back afterwards)."""
    package = tmp_path / "site" / "open_webui"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text('ORIGIN = "installed"\n')
    (package / "models" / "__init__.py").write_text("")
    (package / "models" / "users.py").write_text(
        textwrap.dedent(
            """
            class UsersTable:
                def __repr__(self):
                    return "<the installed Users>"

            Users = UsersTable()
            """
        )
    )
    cached = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "open_webui"}
    for name in cached:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield
    for name in [k for k in sys.modules if k.split(".")[0] == "open_webui"]:
        del sys.modules[name]
    sys.modules.update(cached)


def test_an_installed_open_webui_wins_over_the_alias(real_open_webui):
    plugin = load_plugin_file(plugin_path("compat_which_open_webui"))
    assert plugin.instance.pipe({}) == "open_webui installed <the installed Users>"
    assert not is_alias(sys.modules["open_webui"])
    # nothing of pipehouse's is added to the installed package
    with pytest.raises(ModuleNotFoundError, match=r"No module named 'open_webui\.utils'"):
        import open_webui.utils.misc  # noqa: F401


def test_without_an_installed_open_webui_the_alias_serves(harness):
    plugin = load_plugin_file(plugin_path("compat_which_open_webui"))
    assert plugin.instance.pipe({}).startswith("open_webui pipehouse <open_webui.models.users.")


async def test_builtin_tools_workspace_models_and_the_log_handler(harness, caplog):
    await harness.add("compat_builtin_and_logger")
    with caplog.at_level("INFO"):
        report = json.loads(await answer(harness, "compat_builtin_and_logger"))
    assert report == {"builtin": {}, "models": [[], 0], "legacy": 0}
    # The plugin's logger does not propagate: its record reaches the logs only because
    # InterceptHandler passes it on (through pipehouse's plugin logger, loguru being absent)
    assert [r.getMessage() for r in caplog.records if r.name == "feature_report"] == [
        "reporting for Ada"
    ]


def test_every_module_real_plugins_import_is_served_or_named():
    from pipehouse.compat import install

    install()
    import open_webui.internal.db as db
    import open_webui.models.memories as memories
    import open_webui.routers.images as images

    assert memories.Memories.get_memories_by_user_id
    assert images.upload_image and db.Base and db.JSONField
    with pytest.raises(ImportError, match="pipehouse generates no images"):
        from open_webui.routers.images import image_generations  # noqa: F401
    with pytest.raises(ImportError, match=r"internal\.db\.get_db is a sync database session"):
        from open_webui.internal.db import get_db  # noqa: F401
