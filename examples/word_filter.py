"""
title: Word Filter
author: pipehouse
version: 0.1.0
description: Blocks banned words in messages, masks them in answers, adds a word count.
license: MIT
"""

# A *Filter* sits around every model instead of being one. It can have up to three hooks
# (a fourth, `request`, runs before each call to the model provider):
#
#   inlet(body)    before the model sees the request: edit it, or raise to refuse it
#   stream(event)  on every chunk of a streamed answer: edit it, or return None to drop it
#   outlet(body)   after the answer is complete: edit the finished conversation
#
# Every hook must return what it was given (changed or not); the returned value replaces it.
# Injected arguments such as `__user__` or `__event_emitter__` are passed only when they are in
# the hook's signature. Hooks may be `def` or `async def`: Open WebUI calls sync hooks right on
# its event loop, so never block in them; pipehouse runs them in a worker thread.
#
# An admin enables a filter globally or for chosen models. Filters run in order of
# `Valves.priority` (lower first), then of id.

import re
from typing import Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        # `priority` is read by Open WebUI itself to order filters: keep the name.
        priority: int = Field(default=0, description="Filters with a lower priority run first.")
        # A comma-separated text rather than a list: the settings form edits text best.
        banned_words: str = Field(
            default="darn, heck, frak",
            description="Comma-separated words to block in messages and mask in answers.",
        )
        block_messages: bool = Field(
            default=True,
            description="Refuse messages containing a banned word (else only warn the model).",
        )
        add_system_note: bool = Field(
            default=True,
            description="Add a system note asking the model to avoid the banned words.",
        )

    class UserValves(BaseModel):
        show_word_count: bool = Field(
            default=True, description="Add a word count under each answer."
        )

    def __init__(self):
        self.valves = self.Valves()
        # Set `self.toggle = True` to make this a filter each user switches on per chat (a
        # button under the message box) instead of one that always runs. Such a filter may also
        # set `self.icon` to an image URL or data URI for that button.

    # -- helpers (a leading "_" keeps them out of Open WebUI's way) ---------------------------
    def _words(self) -> list[str]:
        return [w.strip() for w in self.valves.banned_words.split(",") if w.strip()]

    def _pattern(self) -> Optional["re.Pattern[str]"]:
        # Built on each call because the valves may change between calls; `re` caches
        # compiled patterns, so this stays cheap even once per streamed chunk.
        words = self._words()
        if not words:
            return None
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)

    # -- inlet -----------------------------------------------------------------------------------
    async def inlet(
        self,
        body: dict,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
    ) -> dict:
        # `body` is the chat request: {"model", "messages": [{"role", "content"}, ...], ...}.
        pattern = self._pattern()
        messages = body.get("messages") or []
        if pattern is None or not messages:
            return body

        last = messages[-1]
        content = last.get("content") if last.get("role") == "user" else None
        text = content if isinstance(content, str) else ""
        if isinstance(content, list):  # text plus images
            text = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        found = sorted({m.group(0).lower() for m in pattern.finditer(text)})

        if found and self.valves.block_messages:
            # Raising is how a filter refuses a message: the chat shows the exception's text as
            # the error of this message, and the model is never called.
            raise Exception(
                f"Your message was not sent: it contains the banned word(s) {', '.join(found)}. "
                "Please rephrase it."
            )
        if found and __event_emitter__:
            notice = f"Banned words noticed: {', '.join(found)}"
            await __event_emitter__(
                {"type": "status", "data": {"description": notice, "done": True}}
            )

        if self.valves.add_system_note:
            note = f"Never use these words in your answer: {', '.join(self._words())}."
            if messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
                messages[0] = {**messages[0], "content": f"{messages[0]['content']}\n\n{note}"}
            else:
                messages.insert(0, {"role": "system", "content": note})
            body["messages"] = messages
        return body

    # -- stream ----------------------------------------------------------------------------------
    # Called once per chunk, so keep it cheap. `event` is one OpenAI chunk:
    #   {"id", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {...}}]}
    # Many chunks carry no text at all: the first one (delta {"role": "assistant"}), the last
    # one (delta {} with a finish_reason), usage-only chunks (choices == []), tool calls.
    # Leave those alone. A word split across two chunks ("he" + "ck") is not caught here; the
    # outlet below catches it in the stored answer.
    async def stream(self, event: dict) -> dict:
        pattern = self._pattern()
        for choice in event.get("choices") or []:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            content = delta.get("content") if isinstance(delta, dict) else None
            if pattern is not None and isinstance(content, str) and content:
                delta["content"] = pattern.sub(lambda m: "*" * len(m.group(0)), content)
        return event

    # -- outlet ----------------------------------------------------------------------------------
    # Runs once the answer is complete. `body` holds the whole conversation, the answer last:
    #   {"model", "messages": [..., {"role": "assistant", "content": ...}], "chat_id", "id", ...}
    # A sync hook, to show that works too (it does no I/O, so it never blocks for long).
    def outlet(self, body: dict, __user__: Optional[dict] = None) -> dict:
        messages = body.get("messages") or []
        if not messages or messages[-1].get("role") != "assistant":
            return body
        answer = messages[-1].get("content")
        if not isinstance(answer, str):
            return body

        pattern = self._pattern()
        if pattern is not None:
            answer = pattern.sub(lambda m: "*" * len(m.group(0)), answer)
        user_valves = (__user__ or {}).get("valves")
        if user_valves is None or user_valves.show_word_count:
            count = len(answer.split())
            answer = f"{answer}\n\n*({count} word{'' if count == 1 else 's'})*"
        messages[-1] = {**messages[-1], "content": answer}
        body["messages"] = messages
        return body
