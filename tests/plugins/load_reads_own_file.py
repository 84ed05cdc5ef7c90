"""
title: Reads its own source file when called
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        with open(__file__, encoding="utf-8") as handle:
            return handle.read()
