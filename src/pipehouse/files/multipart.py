"""A streaming `multipart/form-data` parser (RFC 7578), fed chunk by chunk as they arrive.

pipehouse does not depend on python-multipart, which FastAPI's `UploadFile` needs; this parser
also lets an upload go straight to disk and stop at the size limit without the whole body
ever being in memory. It hands out events: a `Part` when a part's headers are complete,
`bytes` of its body (any number of pieces), `PART_END` when the part is over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

MAX_HEADER_BYTES = 16 * 1024
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:\\.|[^"\\])*"|[^;]*)')


class MultipartError(ValueError):
    """The body is not a well-formed multipart/form-data body."""


@dataclass(frozen=True)
class Part:
    name: str | None
    filename: str | None  # None: a plain form field
    content_type: str | None


class _PartEnd:
    def __repr__(self) -> str:
        return "PART_END"


PART_END = _PartEnd()
Event = Part | bytes | _PartEnd


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


def _part(raw: bytes) -> Part:
    headers: dict[str, str] = {}
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise MultipartError(f"malformed part header: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    disposition, params = header_params(headers.get("content-disposition", ""))
    if disposition != "form-data":
        raise MultipartError("a part lacks 'Content-Disposition: form-data'")
    return Part(params.get("name"), params.get("filename"), headers.get("content-type"))


_PREAMBLE, _AFTER_BOUNDARY, _HEADERS, _BODY, _DONE = range(5)


class MultipartParser:
    def __init__(self, boundary: bytes) -> None:
        self._delimiter = b"\r\n--" + boundary
        self._buffer = bytearray(b"\r\n")  # the first boundary has no line break before it
        self._state = _PREAMBLE

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> list[Event]:
        buffer, delimiter = self._buffer, self._delimiter
        buffer += data
        events: list[Event] = []
        while True:
            state = self._state
            if state in (_PREAMBLE, _BODY):
                at = buffer.find(delimiter)
                if at < 0:
                    # keep what could be the start of a delimiter split across chunks
                    safe = len(buffer) - len(delimiter) + 1
                    if safe > 0:
                        if state == _BODY:
                            events.append(bytes(buffer[:safe]))
                        del buffer[:safe]
                    return events
                if state == _BODY:
                    if at:
                        events.append(bytes(buffer[:at]))
                    events.append(PART_END)
                del buffer[: at + len(delimiter)]
                self._state = _AFTER_BOUNDARY
            elif state == _AFTER_BOUNDARY:
                if len(buffer) < 2:
                    return events
                if buffer[:2] == b"--":
                    self._state = _DONE
                    continue
                end = buffer.find(b"\r\n")
                if end < 0 or buffer[:end].strip(b" \t"):
                    if end < 0 and len(buffer) < 256 and not buffer.strip(b" \t"):
                        return events  # transport padding; the line break is still to come
                    raise MultipartError("malformed boundary line")
                del buffer[: end + 2]
                self._state = _HEADERS
            elif state == _HEADERS:
                if buffer.startswith(b"\r\n"):
                    end, raw = 0, b""
                else:
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        if len(buffer) > MAX_HEADER_BYTES:
                            raise MultipartError("a part's headers are larger than 16 KiB")
                        return events
                    raw = bytes(buffer[:end])
                    end += 2
                del buffer[: end + 2]
                events.append(_part(raw))
                self._state = _BODY
            else:  # done: whatever follows the closing boundary is ignored
                buffer.clear()
                return events

    def close(self) -> None:
        """The body has ended: an error unless the closing boundary came."""
        if self._state != _DONE:
            raise MultipartError("the form ended before its closing boundary")
