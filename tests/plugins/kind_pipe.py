"""
title: Plain pipe
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        return __name__
