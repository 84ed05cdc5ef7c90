"""Settings from PIPEHOUSE_* variables."""

from __future__ import annotations

import pytest

from pipehouse.config import Settings


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
