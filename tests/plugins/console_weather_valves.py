"""
title: River Weather
author: pipehouse tests
version: 0.3.1
description: Reports the weather as its valves describe it; each user picks a greeting.
license: MIT
"""

from typing import Literal

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        units: Literal["metric", "imperial"] = Field(
            default="metric", description="Units for temperatures."
        )
        show_wind: bool = Field(default=False, description="Add the wind speed to the report.")
        city: str = Field(default="Oslo", description="Where the report is from.")
        WEATHER_API_KEY: str = Field(default="", description="The weather service's key.")

    class UserValves(BaseModel):
        greeting: str = Field(default="Hello", description="How the report greets you.")
        shout: bool = Field(default=False, description="Answer in capitals.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: dict) -> str:
        mine = __user__.get("valves") or self.UserValves()
        temperature = "12 C" if self.valves.units == "metric" else "54 F"
        report = f"{mine.greeting}! {self.valves.city}: {temperature}"
        if self.valves.show_wind:
            report += ", wind 5 m/s"
        return report.upper() if mine.shout else report
