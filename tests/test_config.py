"""Settings from PIPEHOUSE_* variables: each parsed in the form the docs give, and a value that
does not parse stops the start with the variable's name and the form it takes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipehouse import cli
from pipehouse.config import Settings, SettingsError


@pytest.mark.parametrize(
    ("given", "limit"),
    [
        (None, 32 * 1024 * 1024),  # the default
        ("1048576", 1048576),
        ("32MiB", 32 * 1024 * 1024),
        ("32MB", 32_000_000),
        ("512 KiB", 512 * 1024),
        ("0", None),
        ("off", None),
    ],
)
def test_max_body_takes_bytes_or_a_size_with_units(monkeypatch, given, limit):
    if given is None:
        monkeypatch.delenv("PIPEHOUSE_MAX_BODY", raising=False)
    else:
        monkeypatch.setenv("PIPEHOUSE_MAX_BODY", given)
    assert Settings().max_body == limit


def test_a_max_body_that_is_not_a_size_stops_the_start_naming_the_variable(monkeypatch):
    monkeypatch.setenv("PIPEHOUSE_MAX_BODY", "a lot")
    with pytest.raises(ValueError, match="PIPEHOUSE_MAX_BODY='a lot' is not a size"):
        Settings()


@pytest.mark.parametrize(
    ("given", "seconds"), [("120", 120.0), (" 2.5 ", 2.5), ("0", None), ("off", None), ("", 300.0)]
)
def test_timeouts_take_seconds_or_off(monkeypatch, given, seconds):
    monkeypatch.setenv("PIPEHOUSE_CALL_TIMEOUT", given)
    assert Settings().call_timeout == seconds


@pytest.mark.parametrize(
    ("variable", "value", "form"),
    [
        ("PIPEHOUSE_CALL_TIMEOUT", "5m", "is not a number of seconds, like 300 or 2.5"),
        ("PIPEHOUSE_UPSTREAM_TIMEOUT", "soon", "is not a number of seconds"),
        ("PIPEHOUSE_WORKER_MEMORY", "lots", "is not a size, like 33554432, 32MiB or 32MB"),
        ("PIPEHOUSE_INLINE_EVENTS", "maybe", "is not on or off: 1, true, yes or on"),
        ("PIPEHOUSE_OFFLINE", "perhaps", "is not on or off: 1, true, yes or on"),
        ("PIPEHOUSE_MAX_TOOL_ROUNDS", "many", "valid integer"),
    ],
)
def test_a_value_that_does_not_parse_names_the_variable_and_its_form(
    monkeypatch, variable, value, form
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        Settings()
    assert str(raised.value).startswith(f"{variable}={value!r}")
    assert form in str(raised.value)


@pytest.mark.parametrize(("given", "offline"), [(None, False), ("1", True), ("off", False)])
def test_offline_is_a_flag(monkeypatch, given, offline):
    if given is None:
        monkeypatch.delenv("PIPEHOUSE_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("PIPEHOUSE_OFFLINE", given)
    assert Settings().offline is offline


def test_the_command_line_says_so_and_exits_2(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPEHOUSE_CALL_TIMEOUT", "5m")
    result = CliRunner().invoke(cli.app, ["keys", "list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "PIPEHOUSE_CALL_TIMEOUT='5m' is not a number of seconds" in result.output
    assert "Traceback" not in result.output


def test_flags_lists_and_empty_variables(monkeypatch):
    monkeypatch.setenv("PIPEHOUSE_WATCH", "off")
    monkeypatch.setenv("PIPEHOUSE_INLINE_EVENTS", "Yes")
    # paired by position with PIPEHOUSE_UPSTREAM_KEYS: an empty item stays
    monkeypatch.setenv("PIPEHOUSE_UPSTREAMS", "http://a/v1; ;http://b/v1")
    monkeypatch.setenv("PIPEHOUSE_DATA_DIR", "")  # empty: the default
    monkeypatch.setenv("PIPEHOUSE_MODELS_TTL", "off")
    settings = Settings()
    assert settings.watch is False and settings.inline_events is True
    assert settings.upstreams == ["http://a/v1", "", "http://b/v1"]
    assert str(settings.data_dir) == ".pipehouse"
    assert settings.manifold_ttl == 0.0


def test_only_documented_variables_are_read(monkeypatch):
    # host and port are flags; a stray PIPEHOUSE_PORT must not move the server
    monkeypatch.setenv("PIPEHOUSE_PORT", "1")
    monkeypatch.setenv("PIPEHOUSE_NO_AUTH", "1")
    settings = Settings()
    assert settings.port == 8080 and settings.no_auth is False


def test_secrets_stay_out_of_the_settings_repr(monkeypatch):
    monkeypatch.setenv("PIPEHOUSE_ADMIN_KEY", "sk-admin-secret")
    monkeypatch.setenv("PIPEHOUSE_UPSTREAM_KEYS", "sk-upstream-secret")
    monkeypatch.setenv("PIPEHOUSE_DATABASE_URL", "postgresql://u:db-secret@h/db")
    shown = repr(Settings())
    assert "secret" not in shown
