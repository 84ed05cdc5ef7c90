"""
title: Conversation Digest Pipeline
author: pipehouse tests
date: 2026-12-02
version: 1.0
license: MIT
description: A Pipelines-server pipe written like the official examples: it imports the server's
  own `schemas` and `utils.pipelines.main` helpers and reports what they give.
requirements:
"""

import json
from typing import Generator, Iterator, List, Union

from pydantic import BaseModel
from schemas import FilterForm, OpenAIChatCompletionForm, OpenAIChatMessage
from utils.pipelines.main import (
    add_or_update_system_message,
    get_last_assistant_message,
    get_last_user_message,
    get_tools_specs,
    pop_system_message,
    stream_message_template,
)


class Pipeline:
    class Valves(BaseModel):
        PREFIX: str = "digest"

    class Tools:
        def lookup(self, city: str, units: str = "metric") -> str:
            """
            Look up a city.
            :param city: The name of the city.
            """
            return city

    def __init__(self):
        self.name = "Conversation Digest"
        self.valves = self.Valves()

    async def on_startup(self):
        print(f"on_startup:{__name__}")

    async def on_shutdown(self):
        print(f"on_shutdown:{__name__}")

    def pipe(
        self, user_message: str, model_id: str, messages: List[dict], body: dict
    ) -> Union[str, Generator, Iterator]:
        typed = [OpenAIChatMessage(**message) for message in messages]
        system, rest = pop_system_message(messages)
        if body.get("stream"):
            return iter(
                [stream_message_template(model_id, word + " ") for word in user_message.split()]
            )
        return json.dumps(
            {
                "roles": [message.role for message in typed],
                "extra_kept": typed[-1].model_dump().get("name"),
                "form_stream_default": OpenAIChatCompletionForm(
                    model=model_id, messages=[]
                ).stream,
                "filter_form_user": FilterForm(body={}).user,
                "last_user": get_last_user_message(messages),
                "last_assistant": get_last_assistant_message(messages),
                "system": system,
                "rest_roles": [message["role"] for message in rest],
                "updated": add_or_update_system_message(" and brief", [dict(system)])[0],
                "inserted": add_or_update_system_message("new", [dict(rest[0])])[0],
                "chunk": stream_message_template(model_id, "hi"),
                "specs": get_tools_specs(self.Tools()),
            }
        )
