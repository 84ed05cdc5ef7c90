"""
title: Hello Pipe
author: pipehouse
version: 0.1.0
description: A streaming pipe that greets you and describes your last message, with events.
license: MIT
"""

# A *Pipe* is a plugin that answers a chat like a model does: it shows up in the model list
# (its id is the plugin id, here usually "hello_pipe") and Open WebUI calls `pipe()` for every
# message sent to it. This one needs no model and no network: it answers by describing the
# last thing you wrote, which makes it a good skeleton to copy and fill in.
#
# The block at the very top is the "frontmatter". Open WebUI reads it only when the first line
# of the file is exactly three double quotes; `title` becomes the display name. A
# `requirements:` line would list pip packages to install; this plugin needs none.

import asyncio
from typing import AsyncGenerator, Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Pipe:
    # Valves are the admin's settings for the plugin. Open WebUI builds the settings form from
    # this pydantic model and, before *every* call, builds a fresh `self.valves` from the saved
    # values, so always read settings from `self.valves` inside your methods.
    class Valves(BaseModel):
        greeting: str = Field(
            default="Hello",
            description="First word of every answer.",
        )
        stream_delay: float = Field(
            default=0.03,
            ge=0,
            le=2,
            description="Seconds to wait between streamed words (0 to stream at full speed).",
        )

    # UserValves are settings each user chooses for themselves. They reach the plugin as
    # `__user__["valves"]`, a UserValves *instance* (not a dict), and only for methods that
    # declare a `__user__` parameter.
    class UserValves(BaseModel):
        nickname: str = Field(
            default="",
            description="What the pipe should call you (your account name when empty).",
        )
        shout: bool = Field(default=False, description="Answer in capital letters.")

    def __init__(self):
        # Open WebUI creates one instance per plugin and shares it between every request and
        # every user, so keep no per-request state on `self`. `__init__` runs again whenever the
        # code is saved (or, in pipehouse, whenever the file changes).
        self.valves = self.Valves()

    # Open WebUI passes `body` (the OpenAI-style request) plus every "injected" argument whose
    # name appears in this signature: here the user, the event emitter and the chat metadata.
    # Leave out the ones you don't need; a `**kwargs` parameter receives nothing extra.
    #
    # Because this method contains `yield`, it is an *async generator*: each yielded string is
    # one piece of the answer. Open WebUI streams the pieces when the request has
    # "stream": true, and joins them into one message when it has not.
    async def pipe(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
        __metadata__: Optional[dict] = None,
    ) -> AsyncGenerator[str, None]:
        user = __user__ or {}
        user_valves = user.get("valves") or self.UserValves()
        name = user_valves.nickname or user.get("name") or "there"
        text = last_user_text(body.get("messages", []))

        # Events show things in the chat while the answer is being made. `status` is the line
        # above the answer; `done: True` on the last one makes it stop spinning. The emitter is
        # `None` in Open WebUI when there is no chat to show them in, so check before calling.
        if __event_emitter__:
            await __event_emitter__(
                {
                    "type": "status",
                    "data": {"description": "Reading your message…", "done": False},
                }
            )

        answer = describe(text, greeting=self.valves.greeting, name=name)
        if user_valves.shout:
            answer = answer.upper()

        if body.get("stream"):
            # Streaming: yield the answer word by word so the client sees it arrive.
            words = answer.split(" ")
            for index, word in enumerate(words):
                yield word if index == 0 else " " + word
                if self.valves.stream_delay:
                    await asyncio.sleep(self.valves.stream_delay)
        else:
            # Not streaming: one yield is enough, the whole answer at once.
            yield answer

        if __event_emitter__:
            # A citation (the newer name `source` works the same way) lists where an answer
            # came from; the chat shows it under the message. Here the "source" is simply the
            # message that was analysed.
            chat_id = (__metadata__ or {}).get("chat_id") or "this chat"
            await __event_emitter__(
                {
                    "type": "citation",
                    "data": {
                        "document": [text or "(empty message)"],
                        "metadata": [{"source": f"your last message in {chat_id}"}],
                        "source": {"name": "Your message"},
                    },
                }
            )
            await __event_emitter__(
                {"type": "status", "data": {"description": "Done", "done": True}}
            )


# Helpers live outside the class (or start with "_") so they are never mistaken for plugin
# methods.
def last_user_text(messages: list) -> str:
    """The text of the last user message; its content may be a string or a list of parts."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):  # e.g. [{"type": "text", "text": ...}, {"type": "image_url"}]
            return " ".join(
                part.get("text", "")
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            )
    return ""


def describe(text: str, *, greeting: str, name: str) -> str:
    if not text.strip():
        return f"{greeting}, {name}! Send me a message and I will tell you about it."
    words = text.split()
    longest = max(words, key=len)
    question = " It reads like a question." if text.rstrip().endswith("?") else ""
    return (
        f"{greeting}, {name}! Your message has {len(words)} "
        f"word{'s' if len(words) != 1 else ''} and {len(text)} characters; "
        f"the longest word is “{longest}”.{question}"
    )
