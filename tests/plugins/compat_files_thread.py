"""
title: Uploads from sync code on a worker thread, with upload_file's older argument order
"""

import io
import json

from fastapi import UploadFile
from open_webui.models.files import Files
from open_webui.models.users import Users
from open_webui.routers.files import upload_file


class Pipe:
    def pipe(self, body: dict, __user__: dict, __request__=None) -> str:
        user = Users.get_user_by_id(__user__["id"])
        upload = UploadFile(file=io.BytesIO(b"hello from a thread"), filename="thread.txt")
        result = upload_file(__request__, upload, user, {"source": "thread"})
        record = Files.get_file_by_id(result["id"])
        return json.dumps(
            {
                "status": result["status"],
                "id": record.id,
                "content": record.data.get("content"),
                "metadata": record.meta["data"],
                "listed": [f.id for f in Files.get_files_by_user_id(user.id)],
            }
        )
