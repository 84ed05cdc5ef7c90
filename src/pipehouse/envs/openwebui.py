"""Packages Open WebUI 0.12.4 installs for itself, which its plugins can import undeclared.

The list is its wheel's `Requires-Dist` (the generated file beside this module says how it was
made). A plugin whose import fails on one of these gets it, at Open WebUI's version, as if it
had declared it: in Open WebUI that import just works.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipehouse.envs.distributions import package_for_module

VERSION = "0.12.4"
_LIST = f"openwebui-{VERSION}-requirements.txt"


@cache
def shipped() -> dict[str, str]:
    """Canonical distribution name -> Open WebUI's requirement for it, extras dropped."""
    text = resources.files(__package__).joinpath(_LIST).read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            found[name] = f"{name}{requirement.specifier}"
    return found


def shipped_requirement(module: str) -> str | None:
    """`validators==0.35.0` for `import validators`; None when Open WebUI does not ship it."""
    return shipped().get(package_for_module(module))
