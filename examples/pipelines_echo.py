"""
title: Pipelines Echo
author: pipehouse
version: 0.1.0
description: A Pipelines-server plugin (class Pipeline) that streams your message back word by word.
license: MIT
"""

# This file uses the format of the separate Open WebUI *Pipelines server*, not of Open WebUI
# Functions. pipehouse runs both, so existing Pipelines files keep working. The differences:
#
#   - the class is called `Pipeline`, and the model id is the file name (don't set `self.id`);
#   - `on_startup` / `on_shutdown` are awaited when the server loads and unloads the file,
#     and `on_valves_updated` after the admin saves new valves;
#   - `pipe()` is a plain (sync) method called with keyword arguments: the last user message
#     as text, the model id, the messages, and the whole request body;
#   - there are no injected `__user__`/`__event_emitter__` arguments and no UserValves; when
#     Open WebUI is the caller, `body["user"]` holds {id, email, name, role}.
#
# Set `self.type = "manifold"` (with a `pipelines` list) to offer several models, or
# `self.type = "filter"` (with `inlet`/`outlet` and a `pipelines` valve) for a filter.

from typing import Generator, Iterator, List, Union

from pydantic import BaseModel, Field


class Pipeline:
    class Valves(BaseModel):
        prefix: str = Field(default="You said:", description="Text put before the echo.")

    def __init__(self):
        self.name = "Pipelines Echo"
        # Pipelines valves are one object kept for the plugin's lifetime (stored in
        # valves.json next to the file), unlike Functions valves which are rebuilt per call.
        self.valves = self.Valves()

    async def on_startup(self):
        # Open connections, load files, warm caches... Runs once the file is loaded.
        print(f"{self.name}: started")

    async def on_shutdown(self):
        # Release whatever on_startup acquired. Runs before the file is reloaded or removed.
        print(f"{self.name}: stopped")

    async def on_valves_updated(self):
        # Rebuild anything derived from the valves (clients, headers, ...).
        pass

    def pipe(
        self, user_message: str, model_id: str, messages: List[dict], body: dict
    ) -> Union[str, Generator, Iterator]:
        # Return a string for a one-piece answer, or a generator of strings to stream.
        # Whether the client asked to stream is in body["stream"]; a generator works for both,
        # the pieces are joined when it did not.
        words = (user_message or "(nothing)").split()

        def generate() -> Generator[str, None, None]:
            yield self.valves.prefix
            for word in words:
                yield " " + word

        return generate()
