"""`open_webui.constants`: the task names Open WebUI puts in `__task__` and `metadata.task`."""

from __future__ import annotations

from enum import Enum

from pipehouse.compat.errors import missing_names

__getattr__ = missing_names(__name__)


class TASKS(str, Enum):  # noqa: UP042 (Open WebUI's own base classes)
    """Open WebUI's background tasks. pipehouse runs none of them itself, but plugins compare
    `__task__` against these names (a request may carry one in `metadata.task`)."""

    def __str__(self) -> str:
        return super().__str__()

    # A plain function in an Enum body stays a function, not a member: `TASKS.DEFAULT("x")`
    # gives "x", `TASKS.DEFAULT()` gives "generation", as in Open WebUI.
    DEFAULT = lambda task="": task or "generation"  # noqa: E731

    TITLE_GENERATION = "title_generation"
    FOLLOW_UP_GENERATION = "follow_up_generation"
    TAGS_GENERATION = "tags_generation"
    EMOJI_GENERATION = "emoji_generation"
    QUERY_GENERATION = "query_generation"
    IMAGE_PROMPT_GENERATION = "image_prompt_generation"
    AUTOCOMPLETE_GENERATION = "autocomplete_generation"
    FUNCTION_CALLING = "function_calling"
    MOA_RESPONSE_GENERATION = "moa_response_generation"
