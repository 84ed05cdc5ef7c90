"""The terminal as the plugin's user: events are shown, event calls are answered.

Answers come from `--answer` flags first (in order), then from the person at the terminal;
with neither, a call gets the documented no-listener answer at once instead of hanging.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import orjson
from rich.prompt import Confirm, Prompt

from pipehouse.console.render import Renderer
from pipehouse.runtime.events import NO_LISTENER

_YES = {"y", "yes", "true", "1", "ok", "confirm"}


def _typed_answer(kind: str, raw: str) -> Any:
    if kind == "confirmation":
        return raw.strip().lower() in _YES
    if kind == "input":
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


class ConsoleHost:
    def __init__(
        self,
        renderer: Renderer,
        *,
        answers: list[str] | None = None,
        interactive: bool | None = None,
        show_events: bool = True,
        ask: Callable[[str, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.renderer = renderer
        self.answers = list(answers or [])
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self.show_events = show_events  # off when the stream already carries events in-band
        self._ask = ask or self._ask_terminal

    async def emit(self, event: dict[str, Any]) -> None:
        if self.show_events:
            self.renderer.event(event)

    async def call(self, event: dict[str, Any]) -> Any:
        kind = str(event.get("type", ""))
        data = event.get("data")
        if not isinstance(data, dict):
            data = {}
        if self.answers:
            answer = _typed_answer(kind, self.answers.pop(0))
            self.renderer._note(f"[dim]{kind} answered from --answer: {answer!r}[/]")
            return answer
        if not self.interactive:
            self.renderer._note(
                f"[yellow]the plugin asked for {kind or 'an answer'} but nobody can answer "
                "(not a terminal); pass --answer. It got the no-listener reply.[/]"
            )
            return dict(NO_LISTENER)
        return self._ask(kind, data)

    def _ask_terminal(self, kind: str, data: dict[str, Any]) -> Any:
        self.renderer.finish()
        console = self.renderer.err
        title = data.get("title") or kind
        message = data.get("message") or data.get("description") or ""
        console.print(f"[bold]{title}[/]")
        if kind == "confirmation":
            return Confirm.ask(message or "Confirm?", console=console)
        if kind == "input":
            default = data.get("value") or None
            return Prompt.ask(
                message or data.get("placeholder") or "Input", console=console, default=default
            )
        code = data.get("code") or data.get("script")
        if code:
            console.print(f"[dim]{code}[/]")
        raw = Prompt.ask(f"answer for '{kind}' (JSON or text)", console=console)
        return _typed_answer(kind, raw)
