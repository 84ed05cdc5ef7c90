"""What a plugin id may be. Open WebUI takes an id given through its API only when it is a Python
identifier (`routers/functions.py` and `routers/tools.py`, `create_new_*`, 0.12.4) and stores it
lowercased; pipehouse also bounds its length, since the id names the plugin's module and cached
file and is the key of its row (docs/compatibility.md, "Ids")."""

from __future__ import annotations

MAX_PLUGIN_ID_LENGTH = 128


def id_problem(plugin_id: str) -> str | None:
    """Why `plugin_id` cannot name a new plugin, or None when it can."""
    if not plugin_id.isidentifier():
        return "Only alphanumeric characters and underscores are allowed in the id"
    if len(plugin_id) > MAX_PLUGIN_ID_LENGTH:
        return f"The id is too long: at most {MAX_PLUGIN_ID_LENGTH} characters"
    return None
