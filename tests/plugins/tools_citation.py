"""
title: Toolkit with citations
"""


class Tools:
    def __init__(self):
        self.citation = True

    def fetch(self, url: str) -> str:
        """Fetch a page."""
        return f"content of {url}"

    def nothing(self) -> str:
        """Return nothing worth citing."""
        return ""
