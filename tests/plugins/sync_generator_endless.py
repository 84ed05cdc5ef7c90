"""
title: A sync generator that never ends by itself; records when its finally runs
"""

import threading


class Pipe:
    def __init__(self):
        self.closed = threading.Event()

    def pipe(self, body: dict):
        self.closed.clear()
        try:
            n = 0
            while True:
                n += 1
                yield f"tick{n} "
        finally:
            self.closed.set()
