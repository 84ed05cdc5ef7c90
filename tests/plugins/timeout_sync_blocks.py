"""
title: A sync pipe that blocks longer than the call timeout
"""

import time


class Pipe:
    def pipe(self, body: dict) -> str:
        time.sleep(1)
        return "too late"
