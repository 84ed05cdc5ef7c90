"""
title: Document Embedder
author: pipehouse tests
version: 0.3.0
description: Loads a whole embedding matrix into memory before answering; with a big
  vocabulary that is far more memory than the server allows one plugin.
"""

import time

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        MATRIX_MB: int = Field(default=600, description="size of the embedding matrix")

    def __init__(self):
        self.valves = self.Valves()
        self.matrix = None

    def pipe(self, body: dict) -> str:
        self.matrix = b"\x01" * (self.valves.MATRIX_MB * 1024 * 1024)  # pages really touched
        time.sleep(60)  # "indexing"
        return f"embedded with {len(self.matrix)} bytes"
