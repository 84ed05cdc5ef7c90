"""`utils.pipelines.misc`: the Pipelines server's one URL helper."""

from __future__ import annotations

import re

from pipehouse.compat.errors import missing_names

__all__ = ["convert_to_raw_url"]
__getattr__ = missing_names(__name__)

_BLOB = re.compile(r"^https://github\.com/([^/]+)/([^/]+)/blob/(.+)$")


def convert_to_raw_url(github_url: str) -> str:
    """A GitHub `blob` page's address as the address of the raw file; others unchanged."""
    match = _BLOB.match(github_url)
    if match is None:
        return github_url
    user, repo, rest = match.groups()
    return f"https://raw.githubusercontent.com/{user}/{repo}/{rest}"
