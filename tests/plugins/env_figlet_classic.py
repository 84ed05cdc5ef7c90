"""
title: Classic Banner
author: pipehouse tests
description: Writes the prompt as an ASCII-art banner with an old pyfiglet.
version: 0.1.0
requirements: pyfiglet==0.8.post1
"""

import pyfiglet
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        FONT: str = Field(default="standard", description="figlet font")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        prompt = body["messages"][-1]["content"]
        banner = pyfiglet.figlet_format(prompt, font=self.valves.FONT)
        return f"pyfiglet {pyfiglet.__version__}\n{banner}"
