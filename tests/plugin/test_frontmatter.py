"""Frontmatter as Open WebUI reads it (Open WebUI 0.12.4 utils/plugin.py) and as the Pipelines
server reads it (A.5)."""

from __future__ import annotations

import pytest

from pipehouse.plugin.frontmatter import parse_docstring_frontmatter, parse_frontmatter

Q = '"""'


def test_reads_key_value_lines_between_triple_quotes():
    source = f"{Q}\ntitle: Weather\nauthor: Ada\nversion: 0.2\n{Q}\n\nclass Pipe: ...\n"
    assert parse_frontmatter(source) == {"title": "Weather", "author": "Ada", "version": "0.2"}


@pytest.mark.parametrize(
    "first_lines",
    [
        f"\n{Q}\ntitle: x\n{Q}\n",  # a leading blank line
        "'''\ntitle: x\n'''\n",  # single quotes
        f"#!/usr/bin/env python\n{Q}\ntitle: x\n{Q}\n",  # a shebang
        f"{Q}title: x\nauthor: y\n{Q}\n",  # text on the opening line
        "# -*- coding: utf-8 -*-\n",
        "",
    ],
    ids=["blank-line", "single-quotes", "shebang", "text-on-opening-line", "comment", "empty"],
)
def test_first_line_must_be_exactly_triple_quotes(first_lines):
    assert parse_frontmatter(first_lines) == {}


def test_whitespace_around_the_opening_quotes_is_allowed():
    # The first line is compared after stripping (Open WebUI 0.12.4 utils/plugin.py).
    assert parse_frontmatter(f"   {Q}  \ntitle: x\n{Q}\n") == {"title": "x"}


def test_stops_at_first_line_containing_triple_quotes():
    source = f"{Q}\ntitle: Weather\nversion: 1.0{Q}\nauthor: not frontmatter\n"
    # The key written on the closing line is lost, and nothing after it is read.
    assert parse_frontmatter(source) == {"title": "Weather"}


def test_keys_are_letters_and_underscores_only():
    source = f"{Q}\nicon-url: a\nv2_key: b\nicon_url: c\n{Q}\n"
    assert parse_frontmatter(source) == {"icon_url": "c"}


def test_keys_match_case_insensitively_and_keep_their_case():
    assert parse_frontmatter(f"{Q}\nTitle: Big\nREQUIREMENTS: httpx\n{Q}\n") == {
        "Title": "Big",
        "REQUIREMENTS": "httpx",
    }


def test_value_is_stripped_and_may_contain_colons():
    source = f"{Q}\n  title:    Spaced out   \ndescription: Talks to: the API\n{Q}\n"
    assert parse_frontmatter(source) == {"title": "Spaced out", "description": "Talks to: the API"}


def test_repeated_key_keeps_the_last_value():
    assert parse_frontmatter(f"{Q}\nversion: 1\nversion: 2\n{Q}\n") == {"version": "2"}


def test_lines_that_are_not_key_value_are_skipped():
    source = f"{Q}\nA plugin that answers questions.\n\ntitle: Answers\nSee: the docs\n{Q}\n"
    # "A plugin ..." has no colon after a single word; "See: the docs" is a valid key.
    assert parse_frontmatter(source) == {"title": "Answers", "See": "the docs"}


def test_windows_line_endings():
    assert parse_frontmatter(f"{Q}\r\ntitle: Crlf\r\nauthor: Ada\r\n{Q}\r\n") == {
        "title": "Crlf",
        "author": "Ada",
    }


def test_leading_byte_order_mark_is_tolerated():
    # Deviation: Open WebUI returns {} here; editors add BOMs, and pipehouse reads files from disk.
    assert parse_frontmatter(f"\ufeff{Q}\ntitle: Bom\n{Q}\n") == {"title": "Bom"}


def test_docstring_frontmatter_starting_on_the_opening_line():
    # Pipelines-server files often start `"""title: ...` (A.5): the whole docstring is read.
    source = f"{Q}title: Llama\nrequirements: requests\n{Q}\n\nclass Pipeline: ...\n"
    assert parse_docstring_frontmatter(source) == {"title": "Llama", "requirements": "requests"}


def test_docstring_frontmatter_on_its_own_lines():
    source = f"{Q}\ntitle: Llama\nauthor: Ada\n{Q}\n"
    assert parse_docstring_frontmatter(source) == {"title": "Llama", "author": "Ada"}


def test_docstring_frontmatter_without_docstring_or_unparseable():
    assert parse_docstring_frontmatter("class Pipeline:\n    pass\n") == {}
    assert parse_docstring_frontmatter(f"{Q}title: x{Q}\nclass Pipeline(:\n") == {}


def test_docstring_frontmatter_tolerates_byte_order_mark():
    # The Pipelines server reads the first """...""" block with a regex, so a BOM does not hide it.
    assert parse_docstring_frontmatter(f"\ufeff{Q}title: Bom\n{Q}\n") == {"title": "Bom"}
