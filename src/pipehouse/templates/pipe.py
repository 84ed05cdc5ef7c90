"""
title: {{title}}
author: your name
version: 0.1.0
description: What this pipe does, in one line.
license: MIT
"""

# An Open WebUI Pipe: a plugin that answers chats like a model. It appears in the model list
# under the plugin's id, and `pipe()` is called for every message sent to it.
#
# As written it echoes your last message back, streamed word by word, so it runs as-is
# (e.g. put it in a folder and start `pipehouse serve --plugins FOLDER`).
# Replace the body of `pipe()` with your own logic (call an API, run a model, query a database).
#
# The block above is the frontmatter. Open WebUI reads it only if the file's first line is
# exactly three double quotes. Add `requirements: package1, package2` there to have pip
# packages installed before the plugin loads.

import asyncio
from typing import Any, AsyncGenerator, Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Pipe:
    # Admin settings. Open WebUI renders a form from this model and builds a fresh
    # `self.valves` from the saved values before every call: read settings from `self.valves`.
    # A field named like `api_key` (or typed `SecretStr`) is a secret: pipehouse masks it when
    # valves are shown.
    class Valves(BaseModel):
        prefix: str = Field(default="", description="Text put before every answer.")
        delay: float = Field(default=0.02, ge=0, description="Seconds between streamed words.")

    # Per-user settings, delivered as `__user__["valves"]` (a UserValves instance, not a dict)
    # to methods that declare `__user__`. Delete the class if you need none.
    class UserValves(BaseModel):
        ask_first: bool = Field(default=False, description="Ask for confirmation before answering.")

    def __init__(self):
        # One instance serves every request and every user: keep no per-request state here.
        self.valves = self.Valves()
        # Uncomment to turn this pipe into a *manifold* offering several models (see `pipes`).
        # self.name = "My provider: "

    # def pipes(self) -> list[dict]:
    #     """Sub-models, listed as "<plugin id>.<id>" and named self.name + name."""
    #     return [{"id": "small", "name": "Small"}, {"id": "large", "name": "Large"}]
    #     # body["model"] then arrives as e.g. "<plugin id>.small": strip the prefix yourself.

    # Open WebUI always passes `body`. Every other argument is passed only if its name is a
    # parameter here (`**kwargs` receives nothing), so declare just the ones you use:
    #   __user__           {"id", "name", "email", "role", ..., "valves": UserValves}
    #   __event_emitter__  await it with {"type": ..., "data": ...} to show status, citations...
    #   __event_call__     await it to ask the user something and get the answer back
    #   __metadata__       chat_id, message_id, session_id, files, features, ...
    # also: __files__ (attached files), __request__ (the HTTP request), __task__ (set when Open
    # WebUI asks the model for a title, tags or follow-ups instead of a chat answer), __tools__.
    #
    # What to return:
    #   str                    one answer (the most common style; works streaming or not)
    #   generator / async gen  pieces of the answer, streamed; joined when not streaming
    #   dict                   a complete OpenAI chat completion (or {"error": ...})
    # Raising an exception shows its message as the error of this answer.
    #
    # `async def` is best when you wait on anything (HTTP, files, sleeps). A plain `def` works
    # too: Open WebUI runs it on its event loop (blocking every other user meanwhile), pipehouse
    # in a worker thread. This method `yield`s, which makes it an async generator.
    async def pipe(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
        __event_call__: Optional[Callable[[dict], Awaitable[Any]]] = None,
        __metadata__: Optional[dict] = None,
    ) -> AsyncGenerator[str, None]:
        user = __user__ or {}
        user_valves = user.get("valves") or self.UserValves()
        metadata = __metadata__ or {}

        if user_valves.ask_first and __event_call__:
            # Waits for the user's click: True or False, or an error dict when nobody answers.
            answer = await __event_call__(
                {
                    "type": "confirmation",
                    "data": {"title": "Answer?", "message": "Shall I answer this message?"},
                }
            )
            if answer is not True:
                yield "(not answered)"
                return

        # Emitters are None in Open WebUI when there is no chat to show events in: check first.
        if __event_emitter__:
            await __event_emitter__(
                {"type": "status", "data": {"description": "Working…", "done": False}}
            )

        # body["messages"] is the conversation in OpenAI format; content is a string, or a list
        # of parts ({"type": "text", ...}, {"type": "image_url", ...}) when images are attached.
        text = ""
        for message in reversed(body.get("messages", [])):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                text = content if isinstance(content, str) else ""
                break
        answer = f"{self.valves.prefix}{text or '(empty message)'}"

        if body.get("stream"):  # the client asked for a stream: send word by word
            for index, word in enumerate(answer.split(" ")):
                yield word if index == 0 else " " + word
                if self.valves.delay:
                    await asyncio.sleep(self.valves.delay)
        else:
            yield answer

        if __event_emitter__:
            await __event_emitter__(
                {
                    "type": "status",
                    "data": {
                        "description": f"Answered {user.get('name', 'you')} "
                        f"in chat {metadata.get('chat_id') or '(none)'}",
                        "done": True,
                    },
                }
            )
