"""`/api/v1/files`: uploads, as Open WebUI 0.12.4 serves them (docs/files.md).

The form is read here as it arrives (`files/multipart.py`, over python-multipart): the file goes
to disk as it arrives and the upload stops at `PIPEHOUSE_MAX_UPLOAD_MB` (413) without the body
ever being held in memory.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from pipehouse.api.params import Page, PathId
from pipehouse.api.principal import Principal, admin_user, current_user
from pipehouse.files.names import content_disposition
from pipehouse.files.text import media_type
from pipehouse.files.upload import upload_form
from pipehouse.service.files import FileService

router = APIRouter(prefix="/api/v1/files", tags=["files"])
# The upload's paths: they stream to disk and keep their own limit (PIPEHOUSE_MAX_UPLOAD_MB)
# rather than PIPEHOUSE_MAX_BODY (api/body_limit.py).
UPLOAD_PATHS = frozenset({"/api/v1/files", "/api/v1/files/"})

UPLOAD_FORM = upload_form(
    metadata={"type": "string", "description": "a JSON object, kept as meta.data"}
)


def service(request: Request) -> FileService:
    return request.app.state.files


@router.post("", include_in_schema=False)
@router.post("/", openapi_extra=UPLOAD_FORM)
async def upload_file(request: Request, user: Principal = Depends(current_user)) -> dict[str, Any]:
    """Upload one file (multipart field `file`, optional `metadata` JSON). Text files get their
    text in `data.content`. 413 past the size limit. `process` query flags are accepted and
    ignored: the file is ready when this answers."""
    files = service(request)
    files.check_declared_size(request.headers.get("content-length"))
    row = await files.upload(user, request.stream(), request.headers.get("content-type"))
    return {"status": True, **files.model_view(row, with_path=user.is_admin)}


@router.get("", include_in_schema=False)
@router.get("/")
async def list_files(
    request: Request,
    page: Page = 1,
    content: bool = Query(True),
    user: Principal = Depends(current_user),
) -> dict[str, Any]:
    """`{items, total}`, newest first, 50 a page: your files (an admin's: everyone's);
    `content=false` leaves out the extracted text."""
    return await service(request).page(user, page, content)


@router.delete("/all")
async def delete_all_files(request: Request, _: Principal = Depends(admin_user)) -> dict[str, str]:
    """Admins: remove every file, records and bytes."""
    await service(request).delete_all()
    return {"message": "All files deleted successfully"}


@router.get("/{file_id}")
async def get_file(
    request: Request, file_id: PathId, user: Principal = Depends(current_user)
) -> dict[str, Any]:
    """The file's record (`path` for admins only); 404 for a file that is not yours."""
    files = service(request)
    return files.model_view(await files.get(user, file_id), with_path=user.is_admin)


@router.get("/{file_id}/data/content")
async def get_file_text(
    request: Request, file_id: PathId, user: Principal = Depends(current_user)
) -> dict[str, str]:
    """`{content}`: the text extracted at upload ("" for files that are not text)."""
    row = await service(request).get(user, file_id)
    return {"content": (row.data or {}).get("content", "")}


@router.get("/{id}/content")
async def get_file_content_by_id(
    request: Request,
    id: PathId,
    attachment: bool = Query(False),
    user: Principal = Depends(current_user),
) -> StreamingResponse:
    """The bytes, with the content type given at upload. As in Open WebUI, PDFs and plain text
    show inline and anything else downloads (`attachment=true`: always a download). Named and
    parametrised as Open WebUI's route, which plugins find with
    `request.app.url_path_for("get_file_content_by_id", id=...)`."""
    row, chunks = await service(request).content(user, id)
    content_type = (row.meta or {}).get("content_type") or "application/octet-stream"
    name = (row.meta or {}).get("name") or row.filename
    media = media_type(content_type)
    if attachment:
        kind = "attachment"
    elif media == "application/pdf" or name.lower().endswith(".pdf"):
        kind, content_type = "inline", "application/pdf"
    else:
        kind = "inline" if media == "text/plain" else "attachment"
    headers = {
        "Content-Disposition": content_disposition(kind, name),
        "X-Content-Type-Options": "nosniff",  # never rendered as anything it did not say it is
    }
    return StreamingResponse(chunks, media_type=content_type, headers=headers)


@router.delete("/{file_id}")
async def delete_file(
    request: Request, file_id: PathId, user: Principal = Depends(current_user)
) -> dict[str, str]:
    """Remove a file you uploaded (admins: any file); 404 for one that is not yours."""
    await service(request).delete(user, file_id)
    return {"message": "File deleted successfully"}
