"""Local storage, safe names, text extraction and receiving a form onto disk."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from pipehouse.files import storage as storage_module
from pipehouse.files.multipart import MultipartError
from pipehouse.files.names import content_disposition, display_name, extension, storage_key
from pipehouse.files.storage import LocalStorage, Storage
from pipehouse.files.text import content_type_for, is_text, read_text
from pipehouse.files.upload import UploadTooLarge, receive_form


def staged(tmp_path: Path, data: bytes, name: str = "incoming.part") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- storage ------------------------------------------------------------------------------------
async def test_put_get_open_delete(tmp_path):
    storage: Storage = LocalStorage(tmp_path / "uploads")
    source = staged(tmp_path, b"abc" * 50_000)
    await storage.put("f1.txt", source)
    assert not source.exists()  # moved, not copied
    assert storage.local_path("f1.txt") == (tmp_path / "uploads" / "f1.txt").resolve()
    assert await storage.get("f1.txt") == b"abc" * 50_000
    chunks = [c async for c in await storage.open("f1.txt", chunk_size=4096)]
    assert len(chunks) > 1 and b"".join(chunks) == b"abc" * 50_000
    assert await storage.delete("f1.txt") is True
    assert await storage.delete("f1.txt") is False
    with pytest.raises(FileNotFoundError):
        await storage.open("f1.txt")  # at once, before any chunk is asked for
    with pytest.raises(FileNotFoundError):
        await storage.get("f1.txt")


@pytest.mark.parametrize(
    "key", ["../escape", "a/b", "/etc/passwd", ".hidden", "", "a..b", "a\\b", "x" * 201]
)
async def test_keys_that_could_leave_the_root_are_refused(tmp_path, key):
    storage = LocalStorage(tmp_path / "uploads")
    with pytest.raises(ValueError, match="not a storage key"):
        await storage.put(key, staged(tmp_path, b"x"))
    with pytest.raises(ValueError):
        await storage.get(key)


async def test_put_across_file_systems_copies(tmp_path, monkeypatch):
    real_replace = os.replace

    def cross_device(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(storage_module.os, "replace", cross_device)
    storage = LocalStorage(tmp_path / "uploads")
    source = staged(tmp_path, b"moved")
    await storage.put("k", source)
    monkeypatch.setattr(storage_module.os, "replace", real_replace)
    assert await storage.get("k") == b"moved" and not source.exists()


# -- names --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\report.pdf", "report.pdf"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("a\x00b\r\nc.txt", "abc.txt"),
        ("  spaced  ", "spaced"),
        ("é" * 300 + ".txt", "é" * 251 + ".txt"),
    ],
)
def test_display_name(raw, name):
    assert display_name(raw) == name


def test_storage_keys_come_from_the_id():
    assert storage_key("id1", "Report.PDF") == "id1.pdf"
    assert storage_key("id1", "no extension") == "id1"
    assert storage_key("id1", "weird.t/x") == "id1"
    assert storage_key("id1", "evil.txt;rm -rf") == "id1"
    assert extension("archive.tar.gz") == ".gz"


def test_content_disposition_cannot_be_broken_out_of():
    header = content_disposition("attachment", 'a"b;\r\nc é.txt')
    assert (
        header
        == "attachment; filename=\"a_b___c e.txt\"; filename*=UTF-8''a%22b%3B%0D%0Ac%20%C3%A9.txt"
    )
    assert content_disposition("inline", "日本.txt").startswith('inline; filename=".txt"')


# -- text ---------------------------------------------------------------------------------------
def test_text_detection_and_content_types():
    assert is_text("text/plain; charset=utf-8", "a")
    assert is_text("application/json", "a") and is_text("application/ld+json", "a")
    assert is_text(None, "notes.md") and is_text("application/octet-stream", "x.csv")
    assert not is_text("image/png", "a.txt") and not is_text("application/pdf", "a.pdf")
    assert content_type_for("application/octet-stream", "a.json") == "application/json"
    assert content_type_for(None, "a.md") in ("text/markdown", "text/plain")
    assert content_type_for(None, "unknown.zzz") is None
    assert content_type_for("image/png", "a.txt") == "image/png"
    assert content_type_for("not a type\u00e9", "a.pdf") == "application/pdf"


def test_read_text(tmp_path):
    assert read_text(staged(tmp_path, "\ufeffhé".encode()), 5) == "hé"
    assert read_text(staged(tmp_path, b"\xff\xfe\x00"), 3) is None
    assert read_text(staged(tmp_path, b"x"), 9 * 1024 * 1024) is None  # too large to keep


# -- receiving a form ---------------------------------------------------------------------------
def form(*parts: tuple[str, str | None, bytes], boundary: str = "bnd") -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


async def chunks_of(body: bytes, size: int = 1000):
    for start in range(0, len(body), size):
        yield body[start : start + size]


CONTENT_TYPE = "multipart/form-data; boundary=bnd"


async def test_receive_form_stages_the_file_and_keeps_fields(tmp_path):
    data = os.urandom(50_000)
    body = form(("file", "../x.bin", data), ("metadata", None, b'{"k": "v"}'), ("skip", "s", b"z"))
    received = await receive_form(chunks_of(body), CONTENT_TYPE, tmp_path / "staging", 50_000)
    staged_file = received.file
    assert staged_file is not None and staged_file.name == "x.bin"
    assert staged_file.path.parent == tmp_path / "staging"
    assert staged_file.path.read_bytes() == data
    assert (staged_file.size, staged_file.sha256) == (50_000, hashlib.sha256(data).hexdigest())
    assert received.fields == {"metadata": '{"k": "v"}'}
    staged_file.discard()
    assert list((tmp_path / "staging").iterdir()) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (form(("file", "a", b"x" * 1001)), UploadTooLarge),
        (form(("file", "a", b"x"), ("file", "b", b"y")), MultipartError),
        (form(("file", "a", b"x"))[:-10], MultipartError),
        (form(("file", "a", b"x"), ("big", None, b"m" * 300_000)), UploadTooLarge),
    ],
)
async def test_nothing_stays_on_disk_when_a_form_is_refused(tmp_path, body, error):
    with pytest.raises(error):
        await receive_form(chunks_of(body, 100), CONTENT_TYPE, tmp_path, 1000)
    assert list(tmp_path.iterdir()) == []


async def test_a_form_without_a_file(tmp_path):
    received = await receive_form(
        chunks_of(form(("metadata", None, b"{}"))), CONTENT_TYPE, tmp_path, None
    )
    assert received.file is None and received.fields == {"metadata": "{}"}
