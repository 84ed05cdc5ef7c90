"""
title: Math toolkit
"""


class Tools:
    async def add(self, a: int, b: int) -> int:
        """Add two numbers.

        :param a: The first number.
        :param b: The second number.
        """
        return a + b
