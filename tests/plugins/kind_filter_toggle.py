"""
title: Toggleable file-handling filter
icon_url: data:image/svg+xml;base64,PHN2Zy8+
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 5
        prefix: str = ">> "

    def __init__(self):
        self.valves = self.Valves()
        self.toggle = True
        self.file_handler = True

    def inlet(self, body: dict) -> dict:
        return body

    def stream(self, event: dict) -> dict:
        return event

    def outlet(self, body: dict) -> dict:
        return body
