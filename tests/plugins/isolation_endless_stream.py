"""
title: Endless stream
author: pipehouse tests
description: A sync generator that never ends by itself; when it is closed, it writes the file
  its valve names, so a test outside its process can tell.
version: 0.1.0
"""

from pathlib import Path

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        CLOSED_MARKER: str = ""

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict):
        marker = self.valves.CLOSED_MARKER
        try:
            n = 0
            while True:
                n += 1
                yield f"tick{n} "
        finally:
            if marker:
                Path(marker).write_text("closed")
