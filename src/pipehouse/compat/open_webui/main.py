"""`open_webui.main`: `generate_chat_completions` and a stand-in for Open WebUI's `app`.

`app` is not the pipehouse server: `app.state` holds only what pipehouse can honestly answer
(`WEBUI_NAME`); `app.state.MODELS` and `app.state.config` raise an error saying what to use
instead (Open WebUI 0.12.4 itself has no `app.state.config`). `app.url_path_for` resolves
against the running server's routes.
"""

from __future__ import annotations

from typing import Any

from pipehouse.compat import services as compat_services
from pipehouse.compat.completions import generate_chat_completions
from pipehouse.compat.errors import DOCS, CompatError, missing_names

__all__ = ["app", "generate_chat_completions"]
__getattr__ = missing_names(__name__)

_INSTEAD = {
    "MODELS": "pipehouse does not keep Open WebUI's model table; ask for a model by id with "
    "open_webui.utils.chat.generate_chat_completion, or list them at GET /v1/models",
    "config": "Open WebUI 0.12.4 has no app.state.config either; give the plugin Valves instead",
}


class _State:
    WEBUI_NAME = "pipehouse"

    def __getattr__(self, name: str) -> Any:
        reason = _INSTEAD.get(name, "pipehouse keeps no such state")
        raise AttributeError(
            f"open_webui.main.app.state.{name} is not available: {reason} ({DOCS})"
        )


class _App:
    """What plugins reach through `open_webui.main.app`."""

    def __init__(self) -> None:
        self.state = _State()

    def url_path_for(self, name: str, /, **params: Any) -> Any:
        services = compat_services.current()
        if services is None or services.app is None:
            raise CompatError("open_webui.main.app.url_path_for needs `pipehouse serve`")
        return services.app.url_path_for(name, **params)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"pipehouse does not support open_webui.main.app.{name} ({DOCS})")


app = _App()
