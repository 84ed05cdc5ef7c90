"""
title: Prompt text that contains the words Open WebUI rewrites
"""

PROMPT = """Answer from configuration files only.
from mainframe logs, quote nothing;
quote from utils docs and from apps listings verbatim."""


class Pipe:
    def pipe(self, body: dict) -> str:
        return PROMPT
