"""
title: Weather Function Calling Pipeline
author: pipehouse tests
date: 2026-12-02
version: 1.0
license: MIT
description: A filter built on the Pipelines server's function-calling blueprint, as the
  official function_calling_filter_pipeline example is: its tools answer weather questions.
requirements:
"""

import os
from typing import Literal

from blueprints.function_calling_blueprint import Pipeline as FunctionCallingBlueprint


class Pipeline(FunctionCallingBlueprint):
    class Valves(FunctionCallingBlueprint.Valves):
        UNITS: Literal["metric", "imperial"] = "metric"

    class Tools:
        def __init__(self, pipeline) -> None:
            self.pipeline = pipeline

        def get_current_weather(self, city: str) -> str:
            """
            Get the current weather for a city.
            :param city: The city to get the weather for.
            """
            units = self.pipeline.valves.UNITS
            return f"Sunny and 21 degrees ({units}) in {city}"

        def get_nothing(self) -> str:
            """
            A tool that finds nothing.
            """
            return ""

    def __init__(self):
        super().__init__()
        self.name = "Weather Function Calling"
        self.valves = self.Valves(
            **{
                **self.valves.model_dump(),
                "pipelines": ["*"],
                "TASK_MODEL": os.getenv("WEATHER_TASK_MODEL", "task_picks_weather"),
                "TEMPLATE": "Known facts: {{CONTEXT}}",
            }
        )
        self.tools = self.Tools(self)
