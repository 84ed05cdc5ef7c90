"""
title: Raises while its module is executed, at line 9
"""

import os

SETTINGS = {"home": os.sep}

TIMEOUT = SETTINGS["timeout"]


class Pipe:
    def pipe(self, body: dict) -> str:
        return "never"
