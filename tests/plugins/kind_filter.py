"""
title: Plain filter
"""


class Filter:
    def inlet(self, body: dict) -> dict:
        return {**body, "module": __name__}

    def outlet(self, body: dict) -> dict:
        return body
