"""Rewriting of pre-0.5 short imports to `open_webui.*` (Open WebUI 0.12.4 utils/plugin.py)."""

from __future__ import annotations

import pytest

from pipehouse.plugin.imports import rewrite_imports


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("from utils.misc import x", "from open_webui.utils.misc import x"),
        ("from apps.webui.models import y", "from open_webui.apps.webui.models import y"),
        ("from main import app", "from open_webui.main import app"),
        ("from config import DATA_DIR", "from open_webui.config import DATA_DIR"),
        ("from utils import misc", "from open_webui.utils import misc"),
    ],
)
def test_short_imports_point_at_open_webui(line, expected):
    assert rewrite_imports(line + "\n") == expected + "\n"


def test_indented_imports_are_rewritten_too():
    source = "def helper():\n    from utils.misc import x\n    return x\n"
    assert rewrite_imports(source) == (
        "def helper():\n    from open_webui.utils.misc import x\n    return x\n"
    )


def test_every_import_in_a_file_is_rewritten_and_lines_stay_put():
    source = "import os\nfrom utils.misc import a\n\nfrom config import B\nx = 1\n"
    rewritten = rewrite_imports(source)
    assert rewritten == (
        "import os\nfrom open_webui.utils.misc import a\n\nfrom open_webui.config import B\nx = 1\n"
    )
    assert rewritten.count("\n") == source.count("\n")  # tracebacks keep their line numbers


def test_already_qualified_imports_are_unchanged():
    source = "from open_webui.utils.misc import x\nimport utils\n"
    assert rewrite_imports(source) == source


@pytest.mark.parametrize(
    "text",
    [
        "from configuration import settings\n",
        "from mainframe import job\n",
        "from utilities import tool\n",
        "from appsflyer import sdk\n",
        'PROMPT = "answer from config files and from main memory"\n',
        "# copied from utils.misc in Open WebUI\n",
    ],
)
def test_text_that_merely_contains_the_words_is_left_alone(text):
    # Deviation (documented in imports.py): Open WebUI replaces these substrings anywhere in the
    # file, corrupting prompts and unrelated imports; pipehouse rewrites only whole module names
    # at the start of a line.
    assert rewrite_imports(text) == text
