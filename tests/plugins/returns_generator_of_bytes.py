"""
title: Yields bytes, plain and as SSE data lines
"""


class Pipe:
    def pipe(self, body: dict):
        yield b"by"
        yield "tes \u00e9".encode()
        yield b'data: {"choices": [{"index": 0, "delta": {"content": "!"}}]}\n\n'
