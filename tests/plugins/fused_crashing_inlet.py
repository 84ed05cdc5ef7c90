"""
title: PII scrubber (native)
author: pipehouse tests
version: 0.1.0
description: Scrubs personal data with a native library; like some C libraries, it calls exit()
  when its model file is missing, which ends the whole process at once.
"""

import os

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        MODEL_PATH: str = Field(default="/models/missing-pii.bin", description="model file")

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict) -> dict:
        if not os.path.exists(self.valves.MODEL_PATH):
            os._exit(3)  # what the native loader does: no exception, no cleanup
        return body
