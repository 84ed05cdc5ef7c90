"""The one redaction every error exit uses: whole secrets, and any 8-character piece of one."""

from __future__ import annotations

from pipehouse.plugin.errors import PluginError
from pipehouse.redaction import MASK, Redactor

KEY = "sk-live-0123456789abcdef"


def test_a_secret_and_any_piece_of_eight_characters_are_masked():
    redact = Redactor([KEY]).text
    assert redact(f"bad key {KEY}!") == f"bad key {MASK}!"
    assert redact(f"key {KEY[:12]}... rejected") == f"key {MASK}... rejected"
    assert redact(f"ends with {KEY[-9:]}") == f"ends with {MASK}"
    assert (
        redact(f"{KEY[:7]} is too short a piece to tell")
        == f"{KEY[:7]} is too short a piece to tell"
    )


def test_short_secrets_are_masked_whole_and_tiny_ones_never():
    redact = Redactor(["hunter2", "abc", "", "   "]).text
    assert redact("password hunter2, abc") == f"password {MASK}, abc"


def test_text_without_secrets_is_returned_as_is():
    assert Redactor([KEY]).text("nothing to see") == "nothing to see"
    assert not Redactor([])
    assert Redactor([]).text(KEY) == KEY


def test_an_error_is_copied_with_every_part_redacted():
    error = PluginError(
        plugin_id="p",
        message=f"401 for {KEY}",
        hint=f"check {KEY[:10]}",
        traceback=f'raise RuntimeError(f"401 for {KEY}")',
        details={"frames": [{"code": f"key = '{KEY}'"}]},
    )
    clean = Redactor([KEY]).error(error)
    assert KEY[:8] not in f"{clean.message}{clean.hint}{clean.traceback}{clean.details}"
    assert clean.message == f"401 for {MASK}" and clean.plugin_id == "p"
    assert error.message == f"401 for {KEY}"  # the original is left alone


def test_values_in_events_and_bodies_are_redacted():
    event = {"type": "status", "data": {"description": f"using {KEY}", "items": [KEY, 3]}}
    assert Redactor([KEY]).value(event) == {
        "type": "status",
        "data": {"description": f"using {MASK}", "items": [MASK, 3]},
    }
