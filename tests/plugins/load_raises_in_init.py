"""
title: Raises in __init__
"""


class Pipe:
    def __init__(self):
        self.ready = False
        raise RuntimeError("could not reach the model server")  # raises here

    def pipe(self, body: dict) -> str:
        return "never"
