"""
title: Raises while the module is executed, like a legacy SRC_LOG_LEVELS["MAIN"] lookup
"""

SRC_LOG_LEVELS: dict = {}
LEVEL = SRC_LOG_LEVELS["MAIN"]  # raises here


class Pipe:
    def pipe(self, body: dict) -> str:
        return "never"
