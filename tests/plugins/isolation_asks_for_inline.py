"""
title: Quick Echo
author: pipehouse tests
author_url: https://github.com/example/quick-echo
version: 0.3.1
license: MIT
description: Echoes the last message, fast. Asks to run in the server's process, which a
  plugin file must not be able to choose; says which process answered.
isolation: inline
"""

import json
import os

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        PREFIX: str = Field(default="echo: ", description="Put before the echoed text.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        last = body["messages"][-1]["content"]
        return json.dumps({"pid": os.getpid(), "text": f"{self.valves.PREFIX}{last}"})
