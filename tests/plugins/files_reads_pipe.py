"""
title: Reads the files it gets as __files__ (their text, and their bytes at their path) and echoes them
"""

import json
from pathlib import Path
from typing import Optional


class Pipe:
    async def pipe(self, body: dict, __files__: Optional[list] = None) -> str:
        seen = []
        for item in __files__ or []:
            record = item.get("file") or {}
            path = record.get("path")
            seen.append(
                {
                    "item": {k: v for k, v in item.items() if k != "file"},
                    "record_keys": sorted(record),
                    "user_id": record.get("user_id"),
                    "meta": record.get("meta"),
                    "content": (record.get("data") or {}).get("content"),
                    "path": path,
                    "bytes_at_path": Path(path).read_text() if path else None,
                }
            )
        return json.dumps({"files": seen, "body_files": body.get("files")})
