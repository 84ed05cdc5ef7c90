"""
title: Toolkit that raises
"""


class Tools:
    def explode(self, reason: str) -> str:
        """Raise an error with the given reason."""
        raise ValueError(reason)
