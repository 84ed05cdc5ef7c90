"""
title: A syntax error in the pipe method
"""


class Pipe:
    def pipe(self, body: dict) -> str  # missing colon
        return "never runs"
