"""`open_webui.storage.provider`: `Storage`, Open WebUI's local storage provider, over the
directory where pipehouse's files service keeps uploads (`UPLOAD_DIR`).

Its methods are plain functions in every Open WebUI release, so there is one call style.
`upload_file` returns a path to give `Files.insert_new_file` (as `FileForm.path`), which
then records the file under that name. Under `pipehouse run` the directory is a scratch one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, BinaryIO

from pipehouse.compat import paths
from pipehouse.compat.bridge import Table
from pipehouse.compat.errors import missing_names
from pipehouse.compat.paths import storage_name

__all__ = ["LocalStorageProvider", "Storage", "StorageProvider"]
__getattr__ = missing_names(__name__)

log = logging.getLogger(__name__)


class StorageProvider(Table):
    """Open WebUI's interface; `LocalStorageProvider` is the one pipehouse has."""


class LocalStorageProvider(StorageProvider):
    @staticmethod
    def upload_file(file: BinaryIO, filename: str, tags: dict[str, Any]) -> tuple[bytes, str]:
        """Store the bytes read from `file`; returns them and the path they were written to.
        An unsafe character in `filename` becomes `_`."""
        contents = file.read()
        if not contents:
            raise ValueError(
                "The content provided is empty. Please ensure that there is text "
                "or data present before proceeding."
            )
        target = paths.upload_dir() / storage_name(filename)
        target.write_bytes(contents)
        return contents, str(target)

    @staticmethod
    def get_file(file_path: str) -> str:
        """A local path to read the file from (local storage: the path itself)."""
        path = Path(file_path)
        if not path.is_absolute():  # a bare storage name, as pipehouse's records keep them
            path = paths.upload_dir() / path
        return str(path)

    @staticmethod
    def delete_file(file_path: str) -> None:
        """Remove the file of that name from the upload directory (only from there)."""
        target = paths.upload_dir() / Path(file_path).name
        if target.is_file():
            target.unlink()
        else:
            log.warning("File %s not found in local storage.", target)


Storage = LocalStorageProvider()
