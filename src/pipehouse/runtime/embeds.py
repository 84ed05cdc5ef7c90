"""Embedded UI results: what Open WebUI tells the model (or the caller) instead of the page an
action or a tool asked the UI to embed (an inline `HTMLResponse`)."""

from __future__ import annotations

from typing import Any


def embed_notice(name: str, status_code: int, context: Any) -> Any:
    """Open WebUI's wording for an embedded page's status, or the context the plugin paired
    with the page (a `(HTMLResponse, context)` tuple) when the page was served fine."""
    if 200 <= status_code < 300:
        if isinstance(context, str | dict | list):
            return context
        status, message = "success", "Embedded UI result is active and visible to the user."
    elif 400 <= status_code < 500:
        status, message = "error", f"Client error {status_code} from embedded UI result."
    elif 500 <= status_code < 600:
        status, message = "error", f"Server error {status_code} from embedded UI result."
    else:
        status, message = "error", f"Unexpected status code {status_code} from embedded UI result."
    return {"status": status, "code": "ui_component", "message": f"{name}: {message}"}
