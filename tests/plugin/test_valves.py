"""Valves and UserValves: built, saved, described, masked as Open WebUI does (Open WebUI 0.12.4
functions.py, routers/functions.py)."""

from __future__ import annotations

import pytest

from pipehouse.plugin import valves
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.valves import ValvesError

USER = {"id": "user-1", "name": "Ada", "role": "admin", "email": "ada@example.com"}


@pytest.fixture
def defaults(load):
    return load("valves_defaults").instance


# --- build_valves (Open WebUI 0.12.4 functions.py)


def test_pipe_valves_drop_none_so_defaults_apply(defaults):
    built = valves.build_valves(
        "p", PluginKind.PIPE, defaults.Valves, {"retries": None, "base_url": "https://x"}
    )
    assert (built.retries, built.base_url) == (3, "https://x")


def test_nothing_stored_gives_defaults(defaults):
    built = valves.build_valves("p", PluginKind.FILTER, defaults.Valves, None)
    assert built.model_dump() == {
        "base_url": "https://api.example.com/v1",
        "retries": 3,
        "note": None,
    }


@pytest.mark.parametrize("kind", [PluginKind.FILTER, PluginKind.ACTION, PluginKind.TOOLS])
def test_other_kinds_pass_none_through_to_optional_fields(defaults, kind):
    built = valves.build_valves("p", kind, defaults.Valves, {"note": None, "retries": 4})
    assert (built.note, built.retries) == (None, 4)


@pytest.mark.parametrize("kind", [PluginKind.FILTER, PluginKind.ACTION, PluginKind.TOOLS])
def test_other_kinds_reject_none_for_a_required_type(defaults, kind):
    with pytest.raises(ValvesError) as caught:
        valves.build_valves("my_filter", kind, defaults.Valves, {"retries": None})
    error = caught.value
    assert error.plugin_id == "my_filter"
    assert error.stage == "valves"
    assert [e["field"] for e in error.details["errors"]] == ["retries"]
    assert "retries" in error.message


def test_invalid_stored_value_lists_every_bad_field(defaults):
    with pytest.raises(ValvesError) as caught:
        valves.build_valves(
            "p", PluginKind.PIPE, defaults.Valves, {"retries": "many", "base_url": ["x"]}
        )
    assert sorted(e["field"] for e in caught.value.details["errors"]) == ["base_url", "retries"]


# --- build_user_valves (Open WebUI 0.12.4 functions.py)


def test_user_valves_from_stored_values(defaults):
    built = valves.build_user_valves("p", PluginKind.FILTER, defaults.UserValves, {"style": "long"})
    assert (built.style, built.max_words) == ("long", 100)


def test_invalid_user_valves_fall_back_to_defaults_for_a_pipe(defaults):
    built = valves.build_user_valves(
        "p", PluginKind.PIPE, defaults.UserValves, {"max_words": "lots"}
    )
    assert built.model_dump() == {"style": "short", "max_words": 100}


@pytest.mark.parametrize("kind", [PluginKind.FILTER, PluginKind.ACTION])
def test_invalid_user_valves_are_left_out_for_filters_and_actions(defaults, kind):
    assert valves.build_user_valves("p", kind, defaults.UserValves, {"max_words": "lots"}) is None


def test_invalid_user_valves_fail_a_toolkit(defaults):
    with pytest.raises(ValvesError) as caught:
        valves.build_user_valves("t", PluginKind.TOOLS, defaults.UserValves, {"max_words": "lots"})
    assert [e["field"] for e in caught.value.details["errors"]] == ["max_words"]


# --- validate_update (Open WebUI 0.12.4 routers/functions.py)


def test_update_stores_only_the_fields_that_were_set(defaults):
    stored = valves.validate_update("p", defaults.Valves, {"retries": 5, "note": None})
    # No defaults are persisted, and None values are dropped before validation.
    assert stored == {"retries": 5}


def test_update_with_an_invalid_value_is_rejected(defaults):
    with pytest.raises(ValvesError) as caught:
        valves.validate_update("p", defaults.Valves, {"retries": "five"})
    assert [e["field"] for e in caught.value.details["errors"]] == ["retries"]


def test_update_keeps_the_secret_itself(load):
    cls = load("valves_secrets").instance.Valves
    stored = valves.validate_update("p", cls, {"signing": "s3cret", "fallback_signing": "f4ll"})
    # What is stored must rebuild the same valves, not Pydantic's "**********" display.
    assert stored == {"signing": "s3cret", "fallback_signing": "f4ll"}
    rebuilt = valves.build_valves("p", PluginKind.PIPE, cls, stored)
    assert rebuilt.signing.get_secret_value() == "s3cret"


# --- schema (Open WebUI 0.12.4 routers/functions.py)


def test_schema_is_json_schema_of_the_class(defaults):
    result = valves.schema(defaults.UserValves)
    assert result == {
        "title": "UserValves",
        "type": "object",
        "properties": {
            "style": {"title": "Style", "type": "string", "default": "short"},
            "max_words": {"title": "Max Words", "type": "integer", "default": 100},
        },
    }


def test_schema_lists_required_fields(load):
    result = valves.schema(load("valves_required_field").instance.Valves)
    assert result["required"] == ["endpoint"]
    assert result["properties"]["endpoint"]["description"] == "Where to send the copy"


def test_schema_of_no_class_is_none():
    assert valves.schema(None) is None


@pytest.fixture
def select_schema(load):
    return valves.schema(load("valves_select_options").instance.Valves, USER)["properties"]


def test_static_options_are_copied_with_select_as_default_type(select_schema):
    assert select_schema["size"]["input"] == {"type": "select", "options": ["s", "m", "l"]}


def test_declared_input_type_is_kept(select_schema):
    assert select_schema["layout"]["input"] == {"type": "radio", "options": ["grid", "list"]}


def test_options_method_receives_the_user_as_dunder_user(select_schema):
    assert select_schema["model"]["input"]["options"] == [{"value": "admin-model", "label": "Ada"}]


def test_options_method_receives_the_user_as_user(select_schema):
    assert select_schema["voice"]["input"] == {"type": "select", "options": ["voice-of-user-1"]}


def test_options_method_without_a_user_is_called_without_one(load):
    props = valves.schema(load("valves_select_options").instance.Valves)["properties"]
    assert props["model"]["input"]["options"] == ["default-model"]
    assert props["voice"]["input"]["options"] == ["any-voice"]


@pytest.mark.parametrize("field", ["broken", "mapping", "missing"])
def test_options_that_cannot_be_resolved_are_skipped(select_schema, field):
    # Raises, returns a dict, or names no method: the field keeps its unresolved `input`.
    assert not isinstance(select_schema[field]["input"]["options"], list)


def test_field_without_a_widget_is_untouched(select_schema):
    assert select_schema["plain"] == {"title": "Plain", "type": "string", "default": "no widget"}


# --- secrets ----------------------------------------------------------------------------------


def test_secret_fields(load):
    cls = load("valves_secrets").instance.Valves
    assert valves.secret_fields(cls) == {
        "OPENAI_API_KEY",
        "apiKey",
        "access_token",
        "PASSWORD",
        "signing",
        "fallback_signing",
        "webhook",
    }


def test_secret_fields_of_no_class():
    assert valves.secret_fields(None) == set()


def test_mask_hides_only_non_empty_secrets():
    values = {"api_key": "sk-123", "token": "", "password": None, "model": "gpt-4o"}
    masked = valves.mask(values, {"api_key", "token", "password"})
    assert masked == {"api_key": valves.MASK, "token": "", "password": None, "model": "gpt-4o"}
    assert values["api_key"] == "sk-123"  # the input is not modified


def test_credential_names_and_url_passwords_are_secret(load):
    cls = load("secrets_named_fields").instance.Valves
    # DATABASE_URL is not secret by name: its password is masked wherever a URL holds one
    assert valves.secret_fields(cls) == {
        "AUTH_HEADER",
        "CLIENT_SECRETS",
        "GOOGLE_CREDENTIALS_JSON",
        "BASIC_AUTH",
    }  # AUTH_ENABLED is a switch, AUTHOR_NAME a name, REQUEST_TIMEOUT a number
    shown = valves.mask(
        {"DATABASE_URL": "postgresql://u:pw-1234@db/app", "AUTH_HEADER": "Bearer x"},
        valves.secret_fields(cls),
    )
    assert shown == {
        "DATABASE_URL": f"postgresql://u:{valves.MASK}@db/app",
        "AUTH_HEADER": valves.MASK,
    }


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("X_AUTH_TOKEN", True),
        ("proxyAuthorization", True),
        ("EXTRA_HEADERS", True),
        ("client_secret_b64", True),
        ("SERVICE_CREDENTIAL", True),
        ("HEADER_TEXT", False),
        ("BOOK_AUTHOR", False),
        ("model", False),
    ],
)
def test_secret_names(name, secret):
    assert valves.is_secret_name(name) is secret


def test_every_secret_a_live_plugin_holds_is_found(load, monkeypatch):
    monkeypatch.setenv("PH_TEST_OPENROUTER_KEY", "or-env-key-93b1c7d5e2f4a6081")
    plugin = load("secrets_env_leaks")  # read from the environment in __init__
    held = valves.held_secrets(plugin.instance, plugin.valves_class, plugin.user_valves_class)
    assert "or-env-key-93b1c7d5e2f4a6081" in held
    named = load("secrets_named_fields")  # a URL password in a default, in the code
    held = valves.held_secrets(named.instance, named.valves_class, None)
    assert "pg-pass-7d1e9b3c" in held


def test_user_valves_that_no_longer_validate_are_logged_without_their_values(load, caplog):
    cls = load("secrets_prefix_leaks").instance.UserValves
    stored = {"personal_token": ["ut-user-1e3c5a7b9d2f4680"]}  # not a str any more
    built = valves.build_user_valves("p", PluginKind.PIPE, cls, stored)
    assert built.personal_token == ""  # a pipe falls back to the defaults
    assert "personal_token" in caplog.text
    assert "ut-user" not in caplog.text


# --- KEY=VALUE assignments --------------------------------------------------------------------


@pytest.fixture
def typed(load):
    return load("valves_typed_fields").instance.Valves


def test_assignments_are_typed_by_the_field(typed):
    parsed = valves.parse_assignments(
        typed,
        ["retries=5", "temperature=0.2", "stream=true", 'stop=["###", "END"]', 'headers={"a": 1}'],
        "p",
    )
    assert parsed == {
        "retries": 5,
        "temperature": 0.2,
        "stream": True,
        "stop": ["###", "END"],
        "headers": {"a": 1},
    }


def test_string_fields_keep_the_raw_text(typed):
    parsed = valves.parse_assignments(typed, ["prompt=[1, 2]", "nickname=42", "token=12345"], "p")
    # Optional[str] and SecretStr count as strings: "42" must not become the number 42.
    assert parsed == {"prompt": "[1, 2]", "nickname": "42", "token": "12345"}
    built = valves.build_valves("p", PluginKind.PIPE, typed, parsed)
    assert (built.nickname, built.token.get_secret_value()) == ("42", "12345")


def test_value_may_contain_equals_signs(typed):
    assert valves.parse_assignments(typed, ["prompt=a=b"], "p") == {"prompt": "a=b"}


def test_unknown_valve_is_rejected_with_the_known_ones(typed):
    with pytest.raises(ValvesError) as caught:
        valves.parse_assignments(typed, ["retry=5"], "my_pipe")
    assert caught.value.plugin_id == "my_pipe"
    assert "'retry'" in caught.value.message
    assert "retries" in caught.value.message and "temperature" in caught.value.message


def test_assignment_without_equals_is_rejected(typed):
    with pytest.raises(ValvesError) as caught:
        valves.parse_assignments(typed, ["retries"], "p")
    assert "KEY=VALUE" in caught.value.message
