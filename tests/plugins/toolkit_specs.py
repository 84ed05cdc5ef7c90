"""
title: Toolkit exercising the tool-spec rules
"""

from typing import Optional

from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        api_key: str = ""

    class Helper:
        """A nested class: not a tool."""

        def run(self) -> str:
            return "helper"

    def __init__(self):
        self.valves = self.Valves()
        self.citation = True

    def _helper(self) -> str:
        return "private"

    def search_web(
        self,
        query: str,
        max_results: int = 5,
        site: Optional[str] = None,
        __user__: dict = {},
        __event_emitter__=None,
    ) -> str:
        """
        Search the web for a query.
          Returns the top results as text.

        :param query: What to search for.
        :param max_results: How many results
            to return at most.
        :param site: Restrict to one site.
        :param __user__: Injected by the host.
        :return: The results, one per line.
        """
        return query

    async def convert_units(self, value: float, unit, to_unit: str = "m") -> str:
        """Convert a value between units.
        :param value: The number to convert.
        """
        return f"{value}{unit}->{to_unit}"

    def get_time(self, __id__: str = "") -> str:
        return "12:00"

    def create_note(self, title: str, body: str = "", __metadata__: dict = {}) -> str:
        """Create a note.

        :param title: The note's title.
        """
        return title

    def tag_items(self, items: list[str], flags: Optional[list[int]] = None) -> str:
        """Tag items."""
        return ",".join(items)
