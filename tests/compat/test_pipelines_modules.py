"""The Pipelines server's own modules (`schemas`, `utils.pipelines.main`, `blueprints`), served
to Pipelines files written as the official examples are, and run by the runtime."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from pipehouse.compat import is_alias
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.loader import load_plugin_file
from tests.conftest import content_of, plugin_path
from tests.runtime.helpers import assert_well_formed, message

CONVERSATION = [
    {"role": "system", "content": "Be kind"},
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": [{"type": "text", "text": "first answer"}]},
    {"role": "user", "content": "weather in Paris?", "name": "ada"},
]


async def test_a_pipelines_pipe_imports_schemas_and_the_helpers(harness):
    await harness.add("pipelines_message_helpers")
    body = {"model": "pipelines_message_helpers", "messages": CONVERSATION}
    report = json.loads(message(await harness.complete(body))["content"])
    assert report["roles"] == ["system", "user", "assistant", "user"]
    assert report["extra_kept"] == "ada"  # schemas' models keep extra fields
    assert report["form_stream_default"] is True  # the Pipelines server's default
    assert report["filter_form_user"] is None
    assert report["last_user"] == "weather in Paris?"
    assert report["last_assistant"] == "first answer"
    assert report["system"] == CONVERSATION[0]
    assert report["rest_roles"] == ["user", "assistant", "user"]
    # The Pipelines server's quirk: extending a system message repeats its old text.
    assert report["updated"] == {"role": "system", "content": "Be kind and brief\nBe kind"}
    assert report["inserted"] == {"role": "system", "content": "new"}
    chunk = report["chunk"]
    assert chunk["object"] == "chat.completion.chunk"
    assert chunk["id"].startswith("pipelines_message_helpers-")
    assert chunk["choices"][0]["delta"] == {"content": "hi"}
    assert report["specs"] == [
        {
            "name": "lookup",
            "description": "Look up a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "str", "description": "The name of the city."},
                    "units": {"type": "str", "description": "units"},
                },
                "required": ["city"],
            },
        }
    ]


async def test_chunks_made_with_stream_message_template_stream(harness):
    await harness.add("pipelines_message_helpers")
    payloads = await harness.stream(harness.body("pipelines_message_helpers", "one two three"))
    assert_well_formed(payloads)
    assert content_of(payloads) == "one two three "


async def test_the_function_calling_blueprint_runs_the_tool_the_task_model_picks(harness):
    await harness.add("pipelines_function_calling")
    await harness.add("task_picks_weather")
    await harness.add("pipeline_pipe")
    body = {"model": "pipeline_pipe", "messages": [dict(m) for m in CONVERSATION]}
    seen = json.loads(message(await harness.complete(body))["content"])
    # The task model (a pipe pipehouse serves) picked get_current_weather(city="Paris"), and
    # the result went into the system message through the blueprint's TEMPLATE.
    assert seen["messages"][0] == {
        "role": "system",
        "content": "Be kindKnown facts: Sunny and 21 degrees (metric) in Paris\nBe kind",
    }
    assert seen["messages"][1:] == CONVERSATION[1:]


async def test_the_blueprint_leaves_the_request_alone_when_no_tool_gives_anything(harness):
    await harness.add("pipelines_function_calling")
    await harness.add("task_picks_weather")
    await harness.add("pipeline_pipe")
    for prompt in ("tell me a joke", "find nothing"):
        seen = json.loads(
            message(await harness.complete(harness.body("pipeline_pipe", prompt)))["content"]
        )
        assert seen["messages"] == [{"role": "user", "content": prompt}]


async def test_the_blueprint_asks_a_model_pipehouse_does_not_serve_at_its_base_url(
    harness, monkeypatch
):
    # No such model here and nothing listening at the URL: the filter logs and changes nothing,
    # as on the Pipelines server, and the request is still answered.
    monkeypatch.setenv("WEATHER_TASK_MODEL", "gpt-elsewhere")
    monkeypatch.setenv("OPENAI_API_BASE_URL", "http://127.0.0.1:9/v1")
    await harness.add("pipelines_function_calling")
    await harness.add("pipeline_pipe")
    seen = json.loads(
        message(await harness.complete(harness.body("pipeline_pipe", "weather in Oslo?")))[
            "content"
        ]
    )
    assert seen["messages"] == [{"role": "user", "content": "weather in Oslo?"}]


def test_modules_are_served_under_the_pipelines_names(harness):
    load_plugin_file(plugin_path("pipelines_message_helpers"))
    import schemas
    import utils.pipelines.main as helpers

    assert is_alias(sys.modules["schemas"]) and is_alias(sys.modules["utils"])
    assert helpers.__name__ == "utils.pipelines.main"
    assert schemas.OpenAIChatMessage.__module__ == "schemas"


def test_an_unsupported_pipelines_module_fails_at_load_naming_it():
    with pytest.raises(PluginError) as caught:
        load_plugin_file(plugin_path("pipelines_unsupported_module"))
    error = caught.value
    assert error.error_type == "ModuleNotFoundError"
    assert "pipehouse does not support utils.pipelines.auth" in error.message
    assert "a module of the Pipelines server" in error.message
    assert "docs/compatibility.md" in error.message
    assert "pip install" not in (error.hint or "")


def test_an_unsupported_name_of_a_served_module_is_named():
    from pipehouse.compat import install

    install()
    with pytest.raises(ImportError, match=r"does not support utils\.pipelines\.main\.nothing_"):
        from utils.pipelines.main import nothing_here  # noqa: F401


@pytest.fixture
def real_schemas(tmp_path, monkeypatch):
    """A module named `schemas` installed first on sys.path (no alias cached meanwhile)."""
    (tmp_path / "schemas.py").write_text(textwrap.dedent('ORIGIN = "installed"\n'))
    cached = sys.modules.pop("schemas", None)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("schemas", None)
    if cached is not None:
        sys.modules["schemas"] = cached


def test_a_real_module_of_the_same_name_wins(real_schemas):
    from pipehouse.compat import install

    install()
    import schemas

    assert schemas.ORIGIN == "installed"
    assert not is_alias(schemas)
