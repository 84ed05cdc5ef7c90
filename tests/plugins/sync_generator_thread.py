"""
title: A sync generator reports the thread each item is produced on
"""

import json
import threading


class Pipe:
    def pipe(self, body: dict):
        for _ in range(3):
            yield json.dumps({"thread": threading.get_ident()}) + "\n"
