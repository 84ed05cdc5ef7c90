"""The `open_webui.*` import surface: the Open WebUI internals community plugins import, served
by pipehouse from its own store and runtime (docs/compatibility.md, "The open_webui import
surface").

`install()` appends an import hook to the END of `sys.meta_path`, so a real Open WebUI installed
in the same environment is always found first and never shadowed. The modules under
`pipehouse/compat/open_webui/` are executed under their Open WebUI names (`open_webui.models.users`
...); never import them as `pipehouse.compat.open_webui.*`.
"""

from __future__ import annotations

from pipehouse.compat.finder import install, is_alias

__all__ = ["install", "is_alias"]
