"""Showing a plugin's answer and events in a terminal.

The answer text goes to stdout as it streams, so `pipehouse run ... > answer.txt` captures just
the answer; everything else (status, citations, notifications, reasoning, errors) goes to stderr.
With `--json` every chunk and event is printed as one JSON line on stdout instead.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.stream_shapes import stream_error
from pipehouse.upstream.client import UpstreamError


class Renderer:
    def __init__(self, *, json_lines: bool = False, out: Any = None, err: Console | None = None):
        self.json_lines = json_lines
        self.out = out or sys.stdout
        self.err = err or Console(stderr=True, highlight=False)
        self._answer_open = False
        self._reasoning_open = False

    # -- plain output -------------------------------------------------------------------------
    def _json(self, value: Any) -> None:
        self.out.write(orjson.dumps(value, default=str).decode() + "\n")
        self.out.flush()

    def _text(self, text: str) -> None:
        if self._reasoning_open:
            self.err.print()
            self._reasoning_open = False
        self.out.write(text)
        self.out.flush()
        self._answer_open = True

    def _end_line(self) -> None:
        if self._answer_open:
            self.out.write("\n")
            self.out.flush()
            self._answer_open = False

    def _note(self, markup: str) -> None:
        """A line on stderr, kept from interleaving mid-line with streamed answer text."""
        self._end_line()
        self.err.print(markup)

    # -- what arrives -------------------------------------------------------------------------
    def chunk(self, chunk: dict[str, Any]) -> None:
        if self.json_lines:
            self._json(chunk)
            return
        if isinstance(chunk.get("event"), dict):
            self.event(chunk["event"], in_band=True)
            return
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                self.err.print(f"[dim italic]{escape(str(reasoning))}[/]", end="")
                self._reasoning_open = True
            content = delta.get("content")
            if content:
                self._text(content if isinstance(content, str) else str(content))
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                self._note(
                    f"[magenta]tool call[/] {escape(str(function.get('name') or ''))}"
                    f"({escape(str(function.get('arguments') or ''))})"
                )

    def completion(self, completion: dict[str, Any]) -> None:
        if self.json_lines:
            self._json(completion)
            return
        if "choices" not in completion:  # a pipe returned its own non-OpenAI object
            self._text(orjson.dumps(completion, option=orjson.OPT_INDENT_2, default=str).decode())
        else:
            self.chunk(completion)
        self.finish()

    def result(self, value: Any) -> None:
        """What an action returned: text as it is, anything else as indented JSON, on stdout
        (with --json: one `{"result": ...}` line)."""
        self.finish()
        if self.json_lines:
            self._json({"result": value})
        elif value is None:
            self._note("[dim]the action returned nothing[/]")
        elif isinstance(value, str):
            self._text(value)
        else:
            self._text(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())
        self.finish()

    def event(self, event: dict[str, Any], *, in_band: bool = False) -> None:
        if self.json_lines:
            if not in_band:
                self._json({"event": event})
            return
        kind = event.get("type", "?")
        data = event.get("data")
        if not isinstance(data, dict):
            data = {}
        if kind == "status":
            if data.get("hidden"):
                return
            mark = (
                "[red]✗[/]"
                if data.get("error")
                else ("[green]✓[/]" if data.get("done") else "[cyan]…[/]")
            )
            self._note(f"{mark} [dim]{escape(str(data.get('description', '')))}[/]")
        elif kind in ("message", "chat:message:delta"):
            self._text(str(data.get("content", "")))
        elif kind in ("replace", "chat:message"):
            self._note(f"[yellow]answer replaced by:[/] {escape(str(data.get('content', '')))}")
        elif kind in ("citation", "source"):
            source = data.get("source")
            if not isinstance(source, dict):
                source = {}
            label = source.get("name") or source.get("url") or data.get("name") or "source"
            documents = data.get("document") or []
            first = documents[0] if isinstance(documents, list) and documents else ""
            self._note(f"[blue]source[/] {escape(str(label))}  [dim]{escape(str(first)[:120])}[/]")
        elif kind == "notification":
            level = data.get("type", "info")
            self._note(
                f"[bold]notice ({escape(str(level))})[/] {escape(str(data.get('content', '')))}"
            )
        elif kind in ("chat:message:error",):
            self._note(f"[red]error[/] {escape(str(data))}")
        else:
            payload = orjson.dumps(event.get("data"), default=str).decode()
            self._note(f"[dim]event {escape(str(kind))}: {escape(payload[:200])}[/]")

    def error(self, error: PluginError | UpstreamError, *, verbose: bool = False) -> None:
        self._end_line()
        if isinstance(error, UpstreamError):  # the model the turn asked, not a plugin, failed
            if self.json_lines:
                self._json({"error": stream_error(error)["error"]})
            self.err.print(
                f"[bold red]Error[/] from upstream [bold]{escape(error.connection_id)}[/]: "
                f"{escape(error.message)}"
            )
            return
        if self.json_lines:
            self._json({"error": error.to_dict()})
        where = f"{error.path}:{error.line}" if error.path and error.line else (error.path or "")
        self.err.print(
            f"[bold red]Error[/] in plugin [bold]{escape(error.plugin_id)}[/] "
            f"({escape(error.stage)}): {escape(error.error_type)}: {escape(error.message)}"
        )
        frames = error.details.get("frames") or []
        if verbose and error.traceback:
            self.err.print(escape(error.traceback.rstrip()))
        elif frames:
            for f in frames:
                self.err.print(
                    f'  File "{escape(f["file"])}", line {f["line"]}, in {escape(f["function"])}'
                )
                if f.get("code"):
                    self.err.print(f"    [bold]{escape(f['code'])}[/]")
        elif where:
            self.err.print(f"  at {escape(where)}")
        if error.hint:
            self.err.print(f"[yellow]hint:[/] {escape(error.hint)}")
        for field_error in error.details.get("errors") or []:
            self.err.print(
                f"  - {escape(str(field_error.get('field')))}: {escape(field_error['message'])}"
            )

    def finish(self) -> None:
        self._end_line()
