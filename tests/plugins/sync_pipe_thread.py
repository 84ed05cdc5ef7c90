"""
title: A sync pipe reports the thread it runs on
"""

import json
import threading


class Pipe:
    def pipe(self, body: dict) -> str:
        return json.dumps(
            {
                "thread": threading.get_ident(),
                "main": threading.current_thread() is threading.main_thread(),
            }
        )
