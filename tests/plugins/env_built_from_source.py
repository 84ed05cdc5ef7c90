"""
title: Source Greeter
author: pipehouse tests
description: Greets with a helper package installed from a local source checkout.
version: 0.1.0
requirements: pipehouse-fixture-greeting @ file:///SOURCE_CHECKOUT
"""

import pipehouse_fixture_greeting
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        NAME: str = Field(default="world", description="who to greet")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return pipehouse_fixture_greeting.greet(self.valves.NAME)
