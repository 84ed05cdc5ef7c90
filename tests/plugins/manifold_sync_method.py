"""
title: A manifold whose pipes() is a sync method
"""

import threading


class Pipe:
    def __init__(self):
        self.name = "Sync: "
        self.pipes_threads = []

    def pipes(self):
        self.pipes_threads.append(threading.get_ident())
        return [{"id": "one", "name": "One"}, {"id": "two", "name": "Two"}]

    def pipe(self, body: dict) -> str:
        return body["model"]
