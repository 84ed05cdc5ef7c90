"""
title: Second toolkit with a lookup
"""


class Tools:
    def lookup(self, key: str) -> str:
        """Look a key up in B."""
        return f"b:{key}"
