"""
title: Helpers only, no plugin class
"""


class Helper:
    def help(self) -> str:
        return "helping"
