"""
title: Admin toolkit
description: Weather lookups, with an admin key and a per-user city.
"""

from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        api_key: str = ""
        units: str = "metric"

    class UserValves(BaseModel):
        password: str = ""
        city: str = "Paris"

    def __init__(self):
        self.valves = self.Valves()

    def get_weather(self, city: str) -> str:
        """Today's weather in a city.

        :param city: The city to look up.
        """
        return f"sunny in {city} ({self.valves.units})"
