"""
title: First toolkit with a lookup
"""


class Tools:
    def lookup(self, key: str) -> str:
        """Look a key up in A."""
        return f"a:{key}"

    def only_a(self) -> str:
        """Only in A."""
        return "a"
