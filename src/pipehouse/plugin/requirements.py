"""The `requirements:` frontmatter line: parsed, and checked against this environment.

Open WebUI splits the line on commas and hands each piece to pip in its own interpreter. Real
files write `pydantic>=2,<3`, `git+https://...`, `None`, or nothing at all, so pieces that start
with a version operator are joined back to the package before them, and `None` means none.
Installing is the environments' (pipehouse.envs), never into pipehouse's own interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_OPERATOR_START = re.compile(r"^(==|!=|<=|>=|~=|<|>|===)")
_NOTHING = {"", "none", "null", "n/a", "-"}
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9_.\-]+)")
_URL_START = ("git+", "http://", "https://", "file:")


@dataclass(frozen=True)
class PluginRequirement:
    """One requirement as written, with the distribution name when it can be known."""

    text: str
    name: str | None
    valid: bool = True

    @property
    def is_url(self) -> bool:
        return self.valid and ("://" in self.text or self.text.startswith("git+"))


def parse_requirements(value: str | None) -> list[PluginRequirement]:
    """Split a `requirements:` value into requirements, keeping `a>=1,<2` together."""
    if value is None or value.strip().lower() in _NOTHING:
        return []
    pieces: list[str] = []
    for raw in value.split(","):
        piece = raw.strip().strip("'\"").strip()
        if not piece:
            continue
        if pieces and _OPERATOR_START.match(piece):
            pieces[-1] = f"{pieces[-1]},{piece}"
        else:
            pieces.append(piece)
    return [_describe(piece) for piece in pieces if piece.lower() not in _NOTHING]


def _describe(text: str) -> PluginRequirement:
    """Only a requirement string or a URL is valid: anything else, an installer option such as
    `--index-url=...` above all, must never reach the installer's command line."""
    if text.startswith(_URL_START) and not any(c.isspace() for c in text):
        egg = _EGG.search(text)
        if egg:
            return PluginRequirement(text, canonicalize_name(egg.group(1)))
        # The path after the host (which may carry `user@`), without `@revision`.
        _, _, path = text.split("#", 1)[0].split("://", 1)[-1].partition("/")
        last = path.split("@", 1)[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        return PluginRequirement(text, canonicalize_name(last) if last else None)
    try:
        parsed = Requirement(text)
    except InvalidRequirement:
        return PluginRequirement(text, None, valid=False)
    return PluginRequirement(text, canonicalize_name(parsed.name))


def missing_requirements(requirements: Iterable[PluginRequirement]) -> list[PluginRequirement]:
    """The requirements this interpreter does not satisfy (absent, or the wrong version)."""
    missing = []
    for requirement in requirements:
        if requirement.name is None:
            missing.append(requirement)
            continue
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(requirement)
            continue
        if requirement.is_url or not requirement.valid:
            continue
        specifier = Requirement(requirement.text).specifier
        if specifier and not specifier.contains(installed, prereleases=True):
            missing.append(requirement)
    return missing
