"""
title: Saves an image the 0.5/0.6 way (sync calls inside async code), like community image pipes
"""

import io
import json

from fastapi import UploadFile
from open_webui.models.files import Files
from open_webui.models.users import User, Users
from open_webui.routers.files import upload_file_handler


class Pipe:
    def _save(self, request, image_data: bytes, user: User) -> str:
        file = UploadFile(
            file=io.BytesIO(image_data),
            filename="generated-image.png",
            headers={"content-type": "image/png"},
        )
        file_item = upload_file_handler(
            request=request, file=file, metadata={"source": "legacy"}, process=False, user=user
        )
        return file_item.id

    async def pipe(self, body: dict, __user__: dict, __request__=None) -> str:
        user = Users.get_user_by_id(__user__["id"])
        file_id = self._save(__request__, b"\x89PNG not really", user)
        record = Files.get_file_by_id(file_id)
        awaited_later = Files.get_file_by_id(file_id)
        return json.dumps(
            {
                "id": file_id,
                "owner": record.user_id,
                "meta": record.meta,
                "url": f"/api/v1/files/{file_id}/content",
                "awaitable_too": (await awaited_later).id == file_id,
            }
        )
