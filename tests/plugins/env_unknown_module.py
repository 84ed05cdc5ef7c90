"""
title: Weather Report
author: pipehouse tests
version: 0.1.0
"""

from pipehouse_fixture_weather_sdk import forecast


class Pipe:
    def pipe(self, body: dict) -> str:
        return forecast("Paris")
