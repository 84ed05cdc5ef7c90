"""`multipart/form-data` bodies (RFC 7578) read as they arrive, by python-multipart's streaming
parser (the one FastAPI's `UploadFile`, and so Open WebUI, read uploads with).

The parser's callbacks become events: a `Part` when a part's headers are complete, `bytes` of its
body (any number of pieces), `PART_END` when the part is over; the caller decides where the bytes
go (an upload goes straight to disk and stops at its size limit), so no body is ever whole in
memory. The header parameters are read here (`header_params`): python-multipart's own reader
keeps only the last path segment of a Windows file name and ignores `filename*`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser as _StreamingParser

MAX_HEADERS = 16  # per part; a browser sends two or three
MAX_HEADER_BYTES = 8 * 1024  # per header line
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:\\.|[^"\\])*"|[^;]*)')


class MultipartError(ValueError):
    """The body is not a well-formed multipart/form-data body."""


@dataclass(frozen=True)
class Part:
    name: str | None
    filename: str | None  # None: a plain form field
    content_type: str | None


class _PartEnd(enum.Enum):
    """One value, so that `event is PART_END` tells a type checker what `event` is."""

    PART_END = "PART_END"

    def __repr__(self) -> str:
        return "PART_END"


PART_END = _PartEnd.PART_END
Event = Part | bytes | Literal[_PartEnd.PART_END]


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """`form-data; name="file"; filename="a.txt"` -> ("form-data", {"name": ..., ...}), names
    lowercased. `filename*` (RFC 5987, `UTF-8''...`) wins over `filename`. Inside quotes only
    `\\"` and `\\\\` are escapes, so a Windows path keeps its backslashes."""
    head, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if key.endswith("*"):
            charset, _, encoded = raw.partition("''")
            try:
                raw = unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
            key = key[:-1]
            params[key] = raw
        else:
            params.setdefault(key, raw)
    return head.strip().lower(), params


def boundary_of(content_type: str | None) -> bytes:
    media, params = header_params(content_type or "")
    if media != "multipart/form-data":
        raise MultipartError("expected a multipart/form-data body (a form with a 'file' field)")
    boundary = params.get("boundary", "")
    if not 0 < len(boundary) <= 200:
        raise MultipartError("the multipart/form-data Content-Type has no usable boundary")
    return boundary.encode("latin-1", errors="replace")


class MultipartParser:
    """Feed a form's bytes as they arrive; get the events they complete."""

    def __init__(self, boundary: bytes) -> None:
        self._events: list[Event] = []
        self._headers: dict[str, str] = {}
        self._name = bytearray()
        self._value = bytearray()
        self._done = False
        self._parser = _StreamingParser(
            boundary,
            {
                "on_part_begin": self._headers.clear,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
            max_header_count=MAX_HEADERS,
            max_header_size=MAX_HEADER_BYTES,
        )

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, data: bytes) -> list[Event]:
        if self._done:  # whatever follows the closing boundary is ignored
            return []
        try:
            self._parser.write(data)
        except MultipartParseError as error:
            raise MultipartError(f"malformed multipart/form-data body: {error}") from None
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        """The body has ended: an error unless the closing boundary came."""
        if not self._done:
            raise MultipartError("the form ended before its closing boundary")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._name.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("utf-8", errors="replace").strip()
        self._name.clear()
        self._value.clear()

    def _on_headers_finished(self) -> None:
        disposition, params = header_params(self._headers.get("content-disposition", ""))
        if disposition != "form-data":
            raise MultipartError("a part lacks 'Content-Disposition: form-data'")
        self._events.append(
            Part(params.get("name"), params.get("filename"), self._headers.get("content-type"))
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(bytes(data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append(PART_END)

    def _on_end(self) -> None:
        self._done = True
