"""
title: Fast Tokenizer (ctypes)
author: pipehouse tests
version: 0.1.3
description: Counts tokens with a native tokenizer through ctypes; a null pointer from the
  library is read as a string, which crashes the process with a segmentation fault.
"""

import ctypes

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        VOCAB: str = Field(default="cl100k", description="vocabulary name")

    def __init__(self):
        self.valves = self.Valves()

    def _native_vocab(self) -> int:
        return 0  # the library returned NULL: the vocabulary is not installed

    async def pipe(self, body: dict) -> str:
        name = ctypes.string_at(self._native_vocab())
        return f"vocabulary {name!r}"
