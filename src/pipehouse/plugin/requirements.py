"""The `requirements:` frontmatter line: parsed, checked against the environment, installed.

Open WebUI splits the line on commas and hands each piece to pip in its own interpreter. Real
files write `pydantic>=2,<3`, `git+https://...`, `None`, or nothing at all, so pieces that start
with a version operator are joined back to the package before them, and `None` means none.
Installing never upgrades a package pipehouse itself runs on: those are passed as constraints.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
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


def _own_dependency_pins() -> list[str]:
    """`name==version` for every package pipehouse needs, so a plugin cannot upgrade them."""
    pins: dict[str, str] = {}
    pending = ["pipehouse"]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in pins:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        pins[name] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    pins.pop("pipehouse", None)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _kept_back(requirements: Iterable[PluginRequirement]) -> list[str]:
    """pipehouse's own `name==version` pins that these requirements name."""
    named = {r.name for r in requirements if r.name}
    return [pin for pin in _own_dependency_pins() if pin.split("==", 1)[0] in named]


def installer_command(requirements: list[str], constraints_file: str, python: str) -> list[str]:
    """uv when it is available (fast), pip otherwise; both install into `python`'s environment."""
    uv = shutil.which("uv")
    if uv is None:
        try:
            from uv import find_uv_bin

            uv = find_uv_bin()
        except (ImportError, FileNotFoundError):
            uv = None
    if uv:
        return [uv, "pip", "install", "--python", python, "-c", constraints_file, *requirements]
    return [python, "-m", "pip", "install", "-c", constraints_file, *requirements]


class RequirementsInstallError(RuntimeError):
    """The installer exited non-zero; `output` holds what it printed."""

    def __init__(self, requirements: list[str], output: str, kept: Sequence[str] = ()) -> None:
        self.requirements = requirements
        self.output = output
        # without the installer's lines, for whoever has shown them as they came
        self.summary = f"installing {', '.join(requirements)} failed"
        if kept:
            self.summary += (
                f"; pipehouse runs on {', '.join(kept)} and keeps those versions: a plugin "
                "that needs other versions of them cannot share pipehouse's environment"
            )
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"{self.summary}:\n{tail}")


class InvalidRequirementsError(RequirementsInstallError):
    """Pieces of a `requirements:` line that are neither a requirement string nor a URL; they
    are refused before any installer runs."""

    def __init__(self, requirements: list[str]) -> None:
        self.requirements = requirements
        self.output = ""
        named = ", ".join(repr(text) for text in requirements)
        self.summary = (
            f"not a requirement pipehouse can install: {named}; `requirements:` takes package "
            "names with optional versions (httpx>=0.27) or URLs (git+https://...), separated by "
            "commas, and no installer options"
        )
        RuntimeError.__init__(self, self.summary)


async def install_requirements(
    requirements: Iterable[PluginRequirement],
    *,
    python: str = sys.executable,
    on_output: Callable[[str], None] | None = None,
) -> None:
    """Install into `python`'s environment, streaming the installer's lines to `on_output`."""
    requirements = list(requirements)
    invalid = [r.text for r in requirements if not r.valid]
    if invalid:
        raise InvalidRequirementsError(invalid)
    texts = [r.text for r in requirements]
    if not texts:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
        constraints.write("\n".join(_own_dependency_pins()) + "\n")
    try:
        process = await asyncio.create_subprocess_exec(
            *installer_command(texts, constraints.name, python),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        lines = []
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            if on_output:
                on_output(line)
        if await process.wait() != 0:
            raise RequirementsInstallError(texts, "\n".join(lines), _kept_back(requirements))
    finally:
        os.unlink(constraints.name)
