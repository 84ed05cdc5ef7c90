"""The metadata block at the top of a plugin file, read exactly as Open WebUI 0.12.4 reads it.

Open WebUI only looks at a file whose first line is `\"\"\"`; it reads `key: value` lines (keys of
letters and underscores) until the first line that contains `\"\"\"` anywhere. Matching that rule
matters: a file Open WebUI reads no requirements from must not get requirements installed here.
The one tolerance is a leading byte-order mark, which editors add and which changes nothing else.
"""

from __future__ import annotations

import ast
import re

_LINE = re.compile(r"^\s*([a-z_]+):\s*(.*)\s*$", re.IGNORECASE)


def parse_frontmatter(source: str) -> dict[str, str]:
    """Return the frontmatter of a Functions or Tools file (`{}` when it has none)."""
    lines = source.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != '"""':
        return {}
    found: dict[str, str] = {}
    for line in lines[1:]:
        if '"""' in line:
            break
        match = _LINE.match(line)
        if match:
            key, value = match.groups()
            found[key.strip()] = value.strip()
    return found


def parse_docstring_frontmatter(source: str) -> dict[str, str]:
    """Frontmatter as the Pipelines server reads it: `key: value` lines of the module docstring."""
    try:
        docstring = ast.get_docstring(ast.parse(source.removeprefix("\ufeff")), clean=True) or ""
    except SyntaxError:
        return {}
    found: dict[str, str] = {}
    for line in docstring.splitlines():
        match = _LINE.match(line)
        if match:
            key, value = match.groups()
            found[key.strip()] = value.strip()
    return found
