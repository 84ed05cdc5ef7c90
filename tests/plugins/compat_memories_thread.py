"""
title: Memory Notes (sync)
author: pipehouse tests
version: 0.1.0
description: A sync pipe that writes and lists the user's memories from a worker thread, in
  the older style where Memories' methods were plain functions.
"""

import json

from open_webui.models.memories import Memories


class Pipe:
    def pipe(self, body: dict, __user__: dict) -> str:
        note = body["messages"][-1]["content"]
        Memories.insert_new_memory(__user__["id"], note)
        mine = Memories.get_memories_by_user_id(__user__["id"])
        everyone = Memories.get_memories()
        return json.dumps(
            {"mine": [m.content for m in mine], "everyone": len(everyone)}
        )
