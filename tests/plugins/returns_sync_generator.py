"""
title: Returns a sync generator of text
"""


class Pipe:
    def pipe(self, body: dict):
        yield "Hel"
        yield "lo, "
        yield "world"
