"""
title: Image Generator
author: pipehouse tests
version: 1.2.0
required_open_webui_version: 0.6.0
description: Turns the image an image API returned (a data URL) into a file of the chat, the way
  community image-generation pipes store their results with upload_image.
"""

import base64
import json

from open_webui.models.users import Users
from open_webui.routers.images import get_image_data, upload_image
from pydantic import BaseModel

# What an image API hands back: a (very small) PNG as a data URL.
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


class Pipe:
    class Valves(BaseModel):
        model: str = "image-model"

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict, __request__=None, __metadata__=None) -> str:
        user = await Users.get_user_by_id(__user__["id"])
        data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
        image_data, content_type = await get_image_data(data_url)
        bare_data, bare_type = await get_image_data(base64.b64encode(PNG).decode())
        broken = await get_image_data("abc")  # not base64: no image
        file_item, image = await upload_image(
            __request__, image_data, content_type, {"prompt": "a cat"}, user
        )
        return json.dumps(
            {
                "content_type": content_type,
                "bare_type": bare_type,
                "same_bytes": image_data == bare_data,
                "broken": list(broken),
                "image": image,
                "file_id": file_item.id,
                "meta_data": (file_item.meta or {}).get("data"),
                "markdown": f"![image]({image['url']})",
            }
        )
