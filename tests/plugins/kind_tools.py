"""
title: Plain toolkit
"""


class Tools:
    def module_name(self) -> str:
        """The name this module runs under."""
        return __name__
