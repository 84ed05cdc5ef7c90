"""
title: Remember Me
author: pipehouse tests
version: 0.3.0
required_open_webui_version: 0.5.0
description: Keeps facts about the user in Open WebUI's memories and recalls the ones that
  match a question, the way community memory plugins do (Memories and the memories router).
"""

import json

from open_webui.models.memories import Memories, MemoryModel
from open_webui.models.users import Users
from open_webui.routers.memories import (
    AddMemoryForm,
    QueryMemoryForm,
    add_memory,
    query_memory,
)
from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        top_k: int = 2

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict, __request__=None) -> str:
        user = await Users.get_user_by_id(__user__["id"])
        tea = await Memories.insert_new_memory(user.id, "Ada likes green tea")
        # Older releases' style: no await, inside async code.
        city = Memories.insert_new_memory(user.id, "Ada lives in Paris", "user", "home/city")
        cat = await add_memory(
            request=__request__,
            form_data=AddMemoryForm(content="  Ada's cat is called Tom "),
            user=user,
        )
        found = await query_memory(
            request=__request__,
            form_data=QueryMemoryForm(content="Which tea does Ada like?", k=self.valves.top_k),
            user=user,
        )
        edited = await Memories.update_memory_by_id_and_user_id(
            tea.id, user.id, "Ada likes jasmine tea", meta={"edited": True}
        )
        not_theirs = await Memories.update_memory_by_id_and_user_id(tea.id, "someone", "x")
        removed = await Memories.delete_memory_by_id_and_user_id(city.id, user.id)
        kept = await Memories.delete_memory_by_id_and_user_id(cat.id, "someone")
        mine = await Memories.get_memories_by_user_id(user.id)
        return json.dumps(
            {
                "is_model": isinstance(tea, MemoryModel),
                "city": [city.type, city.path],
                "cat": [cat.content, cat.meta],
                "found": found.documents[0],
                "scores": found.distances[0],
                "edited": [edited.content, edited.meta],
                "not_theirs": not_theirs,
                "removed": removed,
                "kept": kept,
                "mine": [memory.content for memory in mine],
                "by_id": (await Memories.get_memory_by_id(cat.id)).content,
            }
        )
