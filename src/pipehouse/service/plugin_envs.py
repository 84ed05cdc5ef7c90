"""Which environment each plugin runs in, decided before its code is loaded.

A plugin whose `requirements:` the host does not satisfy gets an environment (pipehouse.envs)
built in the background; until it is ready the plugin is `queued` or `installing` and its
requests get a 503. A plugin whose import fails on a module Open WebUI 0.12.4 ships gets that
package added at Open WebUI's version, as if it had declared it (in Open WebUI the import just
works). A failed build leaves the plugin listed with the installer's error until a retry.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from pipehouse.envs import Environments, EnvironmentSpec, EnvState
from pipehouse.envs.host import host_pins
from pipehouse.envs.openwebui import VERSION as OPEN_WEBUI_VERSION
from pipehouse.envs.openwebui import shipped_requirement
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.frontmatter import parse_docstring_frontmatter, parse_frontmatter
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind, kind_from_class_names
from pipehouse.plugin.requirements import (
    PluginRequirement,
    missing_requirements,
    parse_requirements,
)

log = logging.getLogger(__name__)

PENDING = ("queued", "installing")
RETRY_AFTER = 5  # seconds a client is told to wait while an environment is built
_MISSING_MODULE = re.compile(r"No module named '([^']+)'")
_MAX_LEARNED = 8  # undeclared Open WebUI packages one plugin may need, one load attempt each


class EnvironmentPending(PluginError):
    """The plugin's environment is being built; its code has not been loaded."""

    def __init__(self, plugin_id: str, state: EnvState) -> None:
        self.state = state
        super().__init__(
            plugin_id=plugin_id,
            message=(
                f"its environment ({', '.join(state.requirements)}) is being installed "
                f"({state.state}: {state.step}); it loads by itself when ready"
            ),
            error_type="EnvironmentPending",
            stage="load",
            hint=f"try again in a few seconds; GET /api/v1/environments/{state.key} shows progress",
        )


def declared_requirements(source: str) -> list[PluginRequirement]:
    """What a file's `requirements:` line asks for, read without running the file."""
    frontmatter = parse_frontmatter(source) or parse_docstring_frontmatter(source)
    return parse_requirements(frontmatter.get("requirements"))


def _host_has(requirement: str) -> bool:
    return Requirement(requirement).name.lower().replace("_", "-") in host_pins()


class PluginEnvironments:
    """Plugin id -> the environment it needs; `environments` None means installing is off
    (`--no-install`): a plugin whose requirements the host lacks fails to load, saying so."""

    def __init__(self, environments: Environments | None) -> None:
        self.environments = environments
        self.keys: dict[str, str] = {}  # plugin id -> its environment's key
        self.learned: dict[str, set[str]] = {}  # plugin id -> undeclared Open WebUI packages
        self.paths: dict[str, str | None] = {}  # plugin id -> its file (None: stored code)
        self._waiting: set[str] = set()

    def resolve(self, plugin_id: str, source: str) -> Path | None:
        """The `site` directory to load the plugin with (None: the host's packages suffice);
        raises `EnvironmentPending` while it is built, a `PluginError` when it cannot be."""
        declared = declared_requirements(source)
        invalid = [r.text for r in declared if not r.valid]
        if invalid:
            raise PluginError(
                plugin_id=plugin_id,
                message="not a requirement pipehouse can install: "
                + ", ".join(repr(text) for text in invalid),
                error_type="InvalidRequirement",
                stage="load",
                hint="`requirements:` takes package names with optional versions (httpx>=0.27) "
                "or URLs (git+https://...), separated by commas, and no installer options",
            )
        wanted = [r.text for r in missing_requirements(declared)]
        wanted += sorted(self.learned.get(plugin_id, ()))
        if not wanted:
            self.keys.pop(plugin_id, None)
            return None
        if self.environments is None:
            raise PluginError(
                plugin_id=plugin_id,
                message=f"not installed: {', '.join(wanted)}",
                error_type="MissingRequirements",
                stage="load",
                hint="run without --no-install to have pipehouse build the plugin's environment",
            )
        spec = EnvironmentSpec.of(wanted)
        self.keys[plugin_id] = spec.key
        state = self.environments.ensure(spec, plugin_id)
        if state.state == "ready":
            return self.environments.site(spec.key)
        if state.state == "failed":
            raise PluginError(
                plugin_id=plugin_id,
                message=f"its environment could not be built: {state.error}",
                error_type="EnvironmentFailed",
                stage="load",
                hint=f"fix the requirements, or retry: POST /api/v1/environments/{spec.key}/rebuild"
                f" (pipehouse env rebuild {spec.key})",
                details={"environment": state.key, "installer": state.progress[-10:]},
            )
        raise EnvironmentPending(plugin_id, state)

    def learn(self, plugin_id: str, error: PluginError) -> bool:
        """True when the load failed on a module Open WebUI ships and its package was added to
        the plugin's environment: load it again."""
        found = _MISSING_MODULE.search(error.message)
        if error.error_type != "ModuleNotFoundError" or found is None:
            return False
        requirement = shipped_requirement(found.group(1))
        learned = self.learned.setdefault(plugin_id, set())
        if requirement is None or requirement in learned or _host_has(requirement):
            return False
        if len(learned) >= _MAX_LEARNED:
            return False
        learned.add(requirement)
        log.info(
            "plugin %s imports %s without declaring it; Open WebUI %s ships %s, so it is added",
            plugin_id,
            found.group(1),
            OPEN_WEBUI_VERSION,
            requirement,
        )
        return True

    async def load(
        self, plugin_id: str, source: str, load: Callable[[Path | None], Awaitable[PluginInfo]]
    ) -> PluginInfo:
        """`load(environment)` in the environment the plugin needs, learning undeclared Open
        WebUI packages on the way."""
        while True:
            environment = self.resolve(plugin_id, source)
            try:
                return await load(environment)
            except EnvironmentPending:
                raise
            except PluginError as error:
                if not self.learn(plugin_id, error):
                    raise

    def state_of(self, plugin_id: str) -> dict[str, Any] | None:
        key = self.keys.get(plugin_id)
        if key is None or self.environments is None:
            return None
        state = self.environments.state(key)
        return state.to_dict() if state else None

    def when_done(self, plugin_id: str, then: Callable[[], None]) -> None:
        """Once the plugin's environment is built (or failed), `then()`; once per build."""
        key = self.keys.get(plugin_id)
        if key is None or self.environments is None or plugin_id in self._waiting:
            return
        self._waiting.add(plugin_id)

        def done(_: EnvState) -> None:
            self._waiting.discard(plugin_id)
            then()

        self.environments.on_done(key, done)

    def retry(self, plugin_id: str) -> EnvState | None:
        """Build the plugin's environment again (after a failed install); None when it has none."""
        key = self.keys.get(plugin_id)
        if key is None or self.environments is None:
            return None
        return self.environments.rebuild(key)

    def in_use(self) -> set[str]:
        return set(self.keys.values())

    def forget(self, plugin_id: str) -> None:
        self.keys.pop(plugin_id, None)
        self.paths.pop(plugin_id, None)
        self.learned.pop(plugin_id, None)

    async def close(self) -> None:
        if self.environments is not None:
            await self.environments.close()


def provisional_info(plugin_id: str, source: str, kind: PluginKind | None) -> PluginInfo:
    """What a saved plugin is before its code can run (its environment is being built): read
    from its syntax and frontmatter only; the loaded plugin replaces it."""
    try:
        tree = ast.parse(source)
        classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    except SyntaxError:
        classes = set()
    kind = kind or kind_from_class_names(classes) or PluginKind.PIPE
    frontmatter = (
        parse_docstring_frontmatter(source)
        if kind is PluginKind.PIPELINE
        else parse_frontmatter(source)
    )
    declared = parse_requirements(frontmatter.get("requirements"))
    return PluginInfo(
        id=plugin_id,
        kind=kind,
        name=frontmatter.get("title") or plugin_id,
        description=frontmatter.get("description", ""),
        path="",
        content_hash=hashlib.sha256(source.encode()).hexdigest(),
        frontmatter=frontmatter,
        requirements=[r.text for r in declared],
        missing_requirements=[r.text for r in missing_requirements(declared)],
        hooks=[],
    )


__all__ = [
    "PENDING",
    "RETRY_AFTER",
    "EnvironmentPending",
    "PluginEnvironments",
    "declared_requirements",
    "provisional_info",
]
