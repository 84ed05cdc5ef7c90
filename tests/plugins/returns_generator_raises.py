"""
title: A sync generator raises after yielding some text
"""


class Pipe:
    def pipe(self, body: dict):
        yield "partial "
        raise RuntimeError("the stream broke halfway")
