"""`open_webui.routers.images`: reading image data and storing generated images as files.

`upload_image` stores the bytes through pipehouse's files service, as `upload_file_handler`
does, under Open WebUI's name for a generated image (`generated-image.png` ...), and answers as
Open WebUI 0.12.4 does: the file and `{id, url, name, content_type}`, with the URL that serves
the bytes. pipehouse generates no images itself: `image_generations` is not provided.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import mimetypes
from typing import Any

import httpx

from pipehouse.compat.bridge import dual
from pipehouse.compat.errors import DOCS, CompatError, missing_names
from pipehouse.compat.services import Backend

__all__ = ["IMAGE_FILE_EXTENSIONS", "get_image_data", "upload_image"]
_NO_GENERATION = (
    "pipehouse generates no images (it has no image generation backend); call the image "
    f"model's API from the plugin and store the result with upload_image ({DOCS})"
)
__getattr__ = missing_names(
    __name__,
    {
        name: f"open_webui.routers.images.{name}: {_NO_GENERATION}"
        for name in ("image_generations", "generate_images", "GenerateImageForm")
    },
)

log = logging.getLogger(__name__)

IMAGE_FILE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/mpo": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
}
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF8": "image/gif",
}


def _sniff(data: bytes) -> str:
    """The image type its first bytes show; PNG when they show none (as Open WebUI falls back)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    found = (kind for magic, kind in _SIGNATURES.items() if data.startswith(magic))
    return next(found, "image/png")


async def get_image_data(
    data: str, headers: dict | None = None, trusted_base_url: str | None = None
) -> tuple[bytes | None, str | None]:
    """`(bytes, content type)` of an image given as an http(s) URL, a `data:` URL or bare
    base64; `(None, None)` when it cannot be read or the URL does not point to an image."""
    try:
        if data.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:
                response = await client.get(data, headers=headers)
                response.raise_for_status()
            content_type = response.headers.get("content-type", "")
            if content_type.split("/")[0] != "image":
                log.error("Url does not point to an image.")
                return None, None
            return response.content, content_type
        if "," in data:
            header, encoded = data.split(",", 1)
            return base64.b64decode(encoded), header.split(";")[0].removeprefix("data:")
        decoded = base64.b64decode(data)
        return decoded, _sniff(decoded)
    except (httpx.HTTPError, binascii.Error, ValueError) as exc:
        log.error("Error loading image data: %s", exc)
        return None, None


class _Upload:
    """What `upload_file_handler` reads from an `UploadFile`."""

    def __init__(self, data: bytes, content_type: str) -> None:
        extension = (
            IMAGE_FILE_EXTENSIONS.get(content_type.lower())
            or mimetypes.guess_extension(content_type)
            or ".png"
        )
        self.file = io.BytesIO(data)
        self.filename = f"generated-image{extension}"
        self.content_type = content_type
        self.headers = {"content-type": content_type}


class _Routes:
    @dual(label="upload_image")
    async def upload_image(
        backend: Backend,
        request: Any = None,
        image_data: Any = None,
        content_type: Any = None,
        metadata: Any = None,
        user: Any = None,
        db: Any = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Open WebUI 0.12.4's order `(request, image_data, content_type, metadata, user)`;
        the 0.5 order `(request, image_metadata, image_data, content_type, user)` is read so."""
        if isinstance(image_data, dict) and isinstance(content_type, bytes | bytearray):
            image_data, content_type, metadata = content_type, metadata, image_data
        if image_data is None or content_type is None:
            raise ValueError("Failed to retrieve image data from the generation backend")
        from open_webui.routers.files import _store

        upload = _Upload(bytes(image_data), str(content_type))
        item = await _store(backend, upload, dict(metadata or {}), False, user)
        if item is None or not getattr(item, "id", None):
            raise CompatError("upload_image(): the image was not stored")
        meta = item.meta or {}
        return item, {
            "id": item.id,
            "url": f"/api/v1/files/{item.id}/content",
            "name": meta.get("name") or item.filename,
            "content_type": meta.get("content_type"),
        }


upload_image = _Routes().upload_image
