"""
title: Local Llama (native backend)
author: pipehouse tests
version: 0.2.0
description: Runs a local model through a native backend; like some C libraries, the backend
  calls exit() on a configuration it cannot load, which ends the whole process at once.
"""

import os

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        MODEL_PATH: str = Field(default="/models/missing.gguf", description="GGUF file to load")

    def __init__(self):
        self.valves = self.Valves()

    def _load_backend(self) -> None:
        if not os.path.exists(self.valves.MODEL_PATH):
            os._exit(1)  # what the native loader does: no exception, no cleanup

    def pipe(self, body: dict) -> str:
        self._load_backend()
        return "never reached"
