"""
title: ASCII Banner
author: open-webui-community
version: 0.3.0
description: Draws the last message as a banner; like pyfiglet's figlet_format(), the banner is a str subclass.
"""

from pydantic import BaseModel, Field


class Banner(str):
    """Text with drawing helpers, as pyfiglet's FigletString."""

    def reverse(self) -> "Banner":
        return Banner("\n".join(line[::-1] for line in self.splitlines()))


def banner_format(text: str, border: str) -> Banner:
    edge = border * (len(text) + 4)
    return Banner(f"{edge}\n{border} {text} {border}\n{edge}")


class Pipe:
    class Valves(BaseModel):
        border: str = Field(default="#", description="Character drawn around the text")
        stream_lines: bool = Field(default=False, description="Yield the banner line by line")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict):
        art = banner_format(body["messages"][-1]["content"], self.valves.border)
        if not self.valves.stream_lines:
            return art
        return (Banner(line + "\n") for line in art.splitlines())
