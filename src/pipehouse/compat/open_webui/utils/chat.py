"""`open_webui.utils.chat`: calling another model from plugin code."""

from __future__ import annotations

from pipehouse.compat.completions import generate_chat_completion
from pipehouse.compat.errors import missing_names

__all__ = ["chat_completion", "generate_chat_completion"]
__getattr__ = missing_names(__name__)

chat_completion = generate_chat_completion  # Open WebUI's other name for it
