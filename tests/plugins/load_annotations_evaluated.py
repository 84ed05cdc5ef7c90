"""
title: Word Counter
author: open-webui-community
version: 0.1.0
description: Counts the words of the last message; its annotations are plain types.
"""

from typing import Optional

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        prefix: str = Field(default="words: ", description="Put before the count")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: Optional[dict] = None) -> str:
        text = body["messages"][-1]["content"]
        return f"{self.valves.prefix}{len(text.split())}"
