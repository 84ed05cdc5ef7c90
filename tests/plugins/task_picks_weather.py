"""
title: Task model that picks the weather tool
author: pipehouse tests
version: 0.1.0
description: Stands in for a task model: answers a function-calling prompt with the JSON choice a
  model would make, when the prompt offers the weather tool and the query asks about weather.
"""

import json

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        pass

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict) -> str:
        system = body["messages"][0]["content"]
        query = body["messages"][-1]["content"]
        offered = "get_current_weather" in system and "The city to get the weather for" in system
        if offered and "weather" in query.lower():
            city = query.rsplit(" ", 1)[-1].strip("?")
            choice = {"name": "get_current_weather", "parameters": {"city": city}}
            return "Sure: " + json.dumps(choice)
        if "nothing" in query.lower():
            return json.dumps({"name": "get_nothing", "parameters": {}})
        return ""
