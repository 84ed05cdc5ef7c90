"""Rewriting of pre-0.5 short imports (`from utils...`) to `open_webui.*`, as Open WebUI does.

Open WebUI replaces four substrings anywhere in the source text, so `from configuration` in a
prompt string becomes `from open_webui.configuration`. Here only whole module names at the start
of a line are rewritten: every import Open WebUI fixes is fixed, and text that merely contains
the words is left alone (listed in docs/compatibility.md).
"""

from __future__ import annotations

import re

_SHORT_IMPORT = re.compile(r"^(\s*)from\s+(utils|apps|main|config)(?=[\s.])", re.MULTILINE)


def rewrite_imports(source: str) -> str:
    """Point legacy `from utils|apps|main|config` imports at `open_webui.*`."""
    return _SHORT_IMPORT.sub(r"\1from open_webui.\2", source)
