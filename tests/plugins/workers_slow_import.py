"""
title: Slow import
description: Imports something heavy (a sleep stands in for it) before it can answer.
"""

import time

time.sleep(3.5)  # as importing a large library from a cold disk does


class Pipe:
    def pipe(self, body: dict) -> str:
        return "loaded after a slow import"
