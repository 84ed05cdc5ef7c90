"""
title: Saved with a byte-order mark
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        return "bom ok"
