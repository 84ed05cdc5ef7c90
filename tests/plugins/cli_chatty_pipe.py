"""
title: Chatty Pipe
author: pipehouse tests
version: 0.1.0
description: Prints at import, in __init__ and while it answers, as many community plugins do.
"""

import subprocess

from pydantic import BaseModel, Field

print("chatty_pipe: module imported")


class Pipe:
    class Valves(BaseModel):
        GREETING: str = Field(default="Hi", description="What the answer starts with.")

    def __init__(self):
        self.valves = self.Valves()
        print(f"chatty_pipe: ready, greeting={self.valves.GREETING}")

    def pipe(self, body: dict) -> str:
        print("chatty_pipe: answering")
        subprocess.run(["echo", "chatty_pipe: from a subprocess"], check=False)
        return f"{self.valves.GREETING}, {body['messages'][-1]['content']}"
