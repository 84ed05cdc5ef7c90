"""File names: the client's name is only ever a label. Paths and storage keys are made from
the file's id, so no name a client sends can reach the file system."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME = 255
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}")
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()+,=@-]")


def display_name(raw: str | None) -> str:
    """The name to show and keep as metadata: the last path segment (either slash), without
    control characters, trimmed, at most 255 characters; "file" when nothing is left."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "file"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and stem and len(ext) <= 16 else ""
        name = name[: MAX_NAME - len(keep)] + keep
    return name


def extension(name: str) -> str:
    """A short alphanumeric extension of `name` (".txt"), lowercased, or "" when there is none
    that is safe to put in a storage key."""
    _, dot, ext = name.rpartition(".")
    candidate = f".{ext}" if dot else ""
    return candidate.lower() if _EXTENSION.fullmatch(candidate) else ""


def storage_key(file_id: str, name: str) -> str:
    """Where the bytes are kept: the id, plus the extension so that tools which look at a
    path's suffix (plugins do) still can."""
    return f"{file_id}{extension(name)}"


def content_disposition(kind: str, name: str) -> str:
    """`inline` or `attachment` with the name as an ASCII fallback and as RFC 5987 UTF-8, so
    no quote, semicolon or line break in a name can break out of the header."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = _UNSAFE_ASCII.sub("_", ascii_name).strip() or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
