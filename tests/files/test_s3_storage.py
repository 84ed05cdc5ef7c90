"""The S3-compatible backend against a real S3 API: moto's server on a loopback port.

moto is the test double, as the mock upstream is for model servers; the backend talks HTTP to
it through boto3 exactly as it would to AWS or MinIO (fixtures `s3_endpoint`, `s3_bucket` in
tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipehouse.files.s3 import S3Storage, connect
from pipehouse.files.storage import Storage

DATA = b"abc" * 50_000


@pytest.fixture
def storage(s3_endpoint, s3_bucket, tmp_path) -> S3Storage:
    return connect(
        s3_bucket, tmp_path / "cache", endpoint_url=s3_endpoint, region="us-east-1", prefix="ph/"
    )


def staged(tmp_path: Path, data: bytes = DATA) -> Path:
    path = tmp_path / "incoming.part"
    path.write_bytes(data)
    return path


def object_keys(storage: S3Storage) -> list[str]:
    listing = storage.client.list_objects_v2(Bucket=storage.bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


async def test_put_get_open_delete(storage, tmp_path):
    backend: Storage = storage
    source = staged(tmp_path)
    await backend.put("f1.txt", source)
    assert not source.exists()  # taken, as LocalStorage moves it
    assert object_keys(storage) == ["ph/f1.txt"]  # under the prefix
    assert await backend.get("f1.txt") == DATA
    chunks = [c async for c in await backend.open("f1.txt", chunk_size=4096)]
    assert len(chunks) > 1 and b"".join(chunks) == DATA
    assert await backend.delete("f1.txt") is True
    assert object_keys(storage) == []
    assert await backend.delete("f1.txt") is False


async def test_missing_keys(storage):
    with pytest.raises(FileNotFoundError):
        await storage.open("nothing.txt")  # at once, before any chunk is asked for
    with pytest.raises(FileNotFoundError):
        await storage.get("nothing.txt")
    with pytest.raises(FileNotFoundError):
        await storage.fetch("nothing.txt")
    assert not storage.local_path("nothing.txt").exists()  # no partial copy left
    assert list(storage.cache_dir.glob("*.part")) == []


async def test_local_path_is_a_copy_downloaded_on_first_use(storage, tmp_path):
    await storage.put("f2.bin", staged(tmp_path))
    path = storage.local_path("f2.bin")
    assert path == (tmp_path / "cache" / "f2.bin").resolve() and not path.exists()
    assert await storage.fetch("f2.bin") == path
    assert path.read_bytes() == DATA
    assert await storage.fetch("f2.bin") == path  # the copy is reused
    assert await storage.delete("f2.bin") is True
    assert not path.exists()  # deleting the object removes the copy


async def test_keys_are_checked(storage, tmp_path):
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            storage.local_path(bad)
        with pytest.raises(ValueError):
            await storage.put(bad, staged(tmp_path))
    assert object_keys(storage) == []


def test_a_clear_error_without_boto3(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_boto3(name, *args, **kwargs):
        if name == "boto3":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_boto3)
    with pytest.raises(RuntimeError, match=r"pip install 'pipehouse\[s3\]'"):
        connect("bucket", tmp_path)
