"""Hiding secret values in what leaves the server: error messages, stream frames, events, logs.

One `Redactor` knows a set of secret values and hides each of them, and any run of
`FRAGMENT` or more of their characters (a plugin that quotes "the first 12 characters of your
key" gives away most of it). It is built only when an error is about to leave, never per
request or per chunk: the cost is one set lookup per character of the text redacted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pipehouse.plugin.errors import PluginError

MASK = "********"
FRAGMENT = 8  # any run of this many characters of a secret is hidden
SHORTEST = 4  # shorter values are never hidden: they would hide ordinary words


class Redactor:
    """Hides every given secret, and every `FRAGMENT`-character piece of one, in text."""

    __slots__ = ("_grams", "_whole")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        grams: set[str] = set()
        whole: set[str] = set()
        for secret in secrets:
            if not isinstance(secret, str) or len(secret.strip()) < SHORTEST:
                continue
            if len(secret) < FRAGMENT:
                whole.add(secret)
            else:
                grams.update(secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1))
        self._grams = frozenset(grams)
        self._whole = sorted(whole, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._grams or self._whole)

    def text(self, text: str) -> str:
        """`text` with every secret, and every run of `FRAGMENT` characters of one, masked."""
        if not text or not self:
            return text
        if self._grams:
            text = self._mask_runs(text)
        for secret in self._whole:
            text = text.replace(secret, MASK)
        return text

    def _mask_runs(self, text: str) -> str:
        grams, size = self._grams, FRAGMENT
        spans: list[list[int]] = []
        for i in range(len(text) - size + 1):
            if text[i : i + size] in grams:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + size
                else:
                    spans.append([i, i + size])
        if not spans:
            return text
        parts: list[str] = []
        last = 0
        for start, end in spans:
            parts += (text[last:start], MASK)
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def value(self, value: Any) -> Any:
        """Plain data (an event, an error body) with every string in it redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value

    def error(self, error: PluginError) -> PluginError:
        """A copy of a plugin's error with its message, hint, traceback and details redacted."""
        if not self:
            return error
        return dataclasses.replace(
            error,
            message=self.text(error.message),
            hint=self.text(error.hint) if error.hint else error.hint,
            traceback=self.text(error.traceback),
            details=self.value(error.details),
        )


NOTHING = Redactor()
