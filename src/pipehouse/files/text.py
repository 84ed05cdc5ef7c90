"""Text content of an upload, for `data.content` as Open WebUI fills it. Only files that are
text already (UTF-8) get one: pipehouse has no document parsers (PDF, Office, ...), and a
plugin can always read the bytes from the file's `path`."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from pipehouse.files.names import extension

MAX_TEXT_BYTES = 8 * 1024 * 1024  # larger text files get no `data.content`
TEXT_TYPES = frozenset(
    (
        "application/json",
        "application/x-ndjson",
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/sql",
        "application/x-sh",
        "application/x-python",
        "application/csv",
    )
)
TEXT_EXTENSIONS = frozenset(
    (
        *(".txt", ".md", ".markdown", ".rst", ".tex", ".log", ".srt", ".vtt"),
        *(".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".xml", ".yaml", ".yml", ".toml"),
        *(".ini", ".cfg", ".conf", ".html", ".htm", ".css", ".js", ".mjs", ".py", ".sh", ".sql"),
    )
)
UNKNOWN_TYPES = ("", "application/octet-stream")
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(\s*;[ -~]*)?")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def content_type_for(given: str | None, name: str) -> str | None:
    """The client's content type, or one guessed from the name when it gave none that says
    anything (`application/octet-stream`) or one that is not a valid header value."""
    if given is not None and not _CONTENT_TYPE.fullmatch(given):
        given = None
    if media_type(given) not in UNKNOWN_TYPES:
        return given
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None and extension(name) in TEXT_EXTENSIONS:
        guessed = "text/plain"
    return guessed or given or None


def is_text(content_type: str | None, name: str) -> bool:
    media = media_type(content_type)
    if media.startswith("text/") or media in TEXT_TYPES:
        return True
    if media.endswith(("+json", "+xml")):
        return True
    return media in UNKNOWN_TYPES and extension(name) in TEXT_EXTENSIONS


def read_text(path: Path, size: int) -> str | None:
    """The file as text when it is valid UTF-8 (a byte-order mark is dropped) and not larger
    than MAX_TEXT_BYTES; None otherwise. Blocking: run it on a thread."""
    if size > MAX_TEXT_BYTES:
        return None
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
