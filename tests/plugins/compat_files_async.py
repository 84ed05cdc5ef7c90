"""
title: Stores a generated file the Open WebUI 0.12.4 way (Storage, then await Files.insert_new_file)
"""

import io
import json
import uuid
from pathlib import Path

from open_webui.config import UPLOAD_DIR
from open_webui.models.files import FileForm, Files
from open_webui.storage.provider import Storage
from open_webui.utils.misc import get_last_user_message


class Pipe:
    async def pipe(self, body: dict, __user__: dict) -> str:
        data = get_last_user_message(body["messages"]).encode()
        file_id = str(uuid.uuid4())
        name = "generated note.txt"
        contents, path = Storage.upload_file(
            io.BytesIO(data), f"{file_id}_{name}", {"OpenWebUI-User-Id": __user__["id"]}
        )
        record = await Files.insert_new_file(
            __user__["id"],
            FileForm(
                id=file_id,
                filename=name,
                path=path,
                meta={"name": name, "content_type": "text/plain", "size": len(contents)},
            ),
        )
        found = await Files.get_file_by_id(file_id)
        await Files.update_file_data_by_id(file_id, {"status": "completed"})
        updated = await Files.get_file_by_id(file_id)
        mine = await Files.get_files_by_user_id(__user__["id"])
        return json.dumps(
            {
                "id": record.id,
                "url": f"/api/v1/files/{record.id}/content",
                "in_upload_dir": Path(path).parent == UPLOAD_DIR,
                "upload_dir": str(UPLOAD_DIR),
                "read_back": Path(Storage.get_file(found.path)).read_text(),
                "data": updated.data,
                "meta": updated.meta,
                "mine": [f.id for f in mine],
                "missing_is_none": await Files.get_file_by_id("no-such-file") is None,
            }
        )
