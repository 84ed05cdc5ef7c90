"""
title: Web Scrape
author: open-webui-community
version: 0.4.1
description: Fetches a page; extra options pass through **kwargs, as many community toolkits do.
"""

from pydantic import BaseModel, Field


class Tools:
    class Valves(BaseModel):
        user_agent: str = Field(default="Mozilla/5.0", description="User agent to send")

    def __init__(self):
        self.valves = self.Valves()

    async def scrape_page(self, url: str, __event_emitter__=None, **kwargs) -> str:
        """
        Fetch a web page and return its text.
        :param url: The address of the page.
        """
        return f"{url} {sorted(kwargs.items())}"

    def join_words(self, *words, separator: str = " ") -> str:
        """Join words with a separator."""
        return separator.join(words)
