"""
title: {{title}}
author: your name
version: 0.1.0
description: What these tools let the model do, in one line.
license: MIT
"""

# An Open WebUI Tools plugin (a toolkit): functions the model may call while it answers.
# Every public method of `Tools` (name not starting with "_") becomes one tool, described to
# the model by:
#   - its name,
#   - its docstring up to the first ":param" line (what the tool is for),
#   - its type hints and defaults (the JSON schema of the arguments),
#   - ":param name: ..." lines (what each argument means).
# These are all the model knows about your tool: write them for the model.
#
# As written it offers two working tools (counting words, and a slow "lookup" that reports
# progress), so it runs as-is. Replace them with your own.

import asyncio
from typing import Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Tools:
    # Admin settings; a fresh `self.valves` is built from the saved values on every chat turn.
    class Valves(BaseModel):
        max_words: int = Field(default=10000, ge=1, description="Longest text count_words accepts.")

    # Per-user settings, delivered as `__user__["valves"]` (a UserValves instance).
    class UserValves(BaseModel):
        show_progress: bool = Field(default=True, description="Show what the tools are doing.")

    def __init__(self):
        # One instance serves every chat of every user: keep no per-call state here.
        self.valves = self.Valves()

    # A plain `def` tool. Open WebUI runs sync tools on its event loop, so keep them quick;
    # pipehouse runs them in a worker thread. Return a string: dicts and lists are sent to the
    # model as JSON, and text starting with "Error:" is shown as a failed call.
    def count_words(self, text: str, unique: bool = False) -> str:
        """
        Count the words in a text.
        :param text: The text to count the words of.
        :param unique: Count each distinct word once.
        :return: The number of words.
        """
        words = text.split()
        if len(words) > self.valves.max_words:
            return f"Error: the text is longer than {self.valves.max_words} words."
        if unique:
            return str(len({w.strip(".,;:!?").lower() for w in words}))
        return str(len(words))

    # An `async def` tool: use this whenever the tool waits (HTTP, files, subprocesses).
    # Arguments starting with "__" are filled in by the host and never shown to the model:
    #   __user__, __event_emitter__, __event_call__, __metadata__, __messages__, __files__,
    #   __model__, __request__, __id__, __chat_id__, __message_id__.
    async def slow_lookup(
        self,
        topic: str,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
    ) -> str:
        """
        Look a topic up (a stand-in for a real search; it answers from a tiny built-in list).
        :param topic: What to look up, e.g. "python".
        """
        user_valves = (__user__ or {}).get("valves")
        show = __event_emitter__ is not None and (user_valves is None or user_valves.show_progress)
        if show:
            await __event_emitter__(
                {"type": "status", "data": {"description": f"Looking up {topic}…", "done": False}}
            )
        await asyncio.sleep(0.1)  # stands in for a network call
        facts = {
            "python": "Python is a programming language first released in 1991.",
            "open webui": "Open WebUI is a self-hosted web interface for language models.",
        }
        result = facts.get(topic.strip().lower(), f"Nothing is known about {topic!r}.")
        if show:
            # Tools do not get automatic citations: emit one to show the user the source.
            await __event_emitter__(
                {
                    "type": "citation",
                    "data": {
                        "document": [result],
                        "metadata": [{"source": "built-in facts"}],
                        "source": {"name": f"Lookup: {topic}"},
                    },
                }
            )
            await __event_emitter__(
                {"type": "status", "data": {"description": f"Looked up {topic}", "done": True}}
            )
        return result
