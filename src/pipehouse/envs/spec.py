"""An environment's identity: its normalised requirement set plus the host it was built for."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipehouse.envs.host import host_digest

KEY_LENGTH = 16  # hex digits of the sha256: short enough for a path, far from colliding
_KEY = re.compile(rf"[0-9a-f]{{{KEY_LENGTH}}}")


def is_key(text: str) -> bool:
    return _KEY.fullmatch(text) is not None


def normalise(text: str) -> str:
    """`PyFiglet == 1.0.2` and `pyfiglet==1.0.2` are one requirement; URLs stay as written."""
    text = text.strip()
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return text
    if requirement.url:
        return text
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    specifier = ",".join(sorted(str(s) for s in requirement.specifier))
    return f"{canonicalize_name(requirement.name)}{extras}{specifier}{marker}"


@dataclass(frozen=True)
class EnvironmentSpec:
    """The requirements an environment installs (sorted, without duplicates)."""

    requirements: tuple[str, ...]

    @classmethod
    def of(cls, requirements: Iterable[str]) -> EnvironmentSpec:
        return cls(tuple(sorted({normalise(r) for r in requirements if r.strip()})))

    @property
    def key(self) -> str:
        """The same set on the same host (interpreter and installed versions) is the same key."""
        text = "\n".join([host_digest(), *self.requirements])
        return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]
