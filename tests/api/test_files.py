"""Uploads (`/api/v1/files`) against a real server, and the files reaching a pipe as `__files__`
(docs/files.md): shapes as Open WebUI 0.12.4 gives them, per-user access (404 for anyone
else's file, in the API and in a chat), the size limit, names that cannot reach a path."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from tests.api.conftest import start_server

API = "/api/v1/files"
NOT_FOUND = "We could not find what you're looking for :/"
FILE_MODEL = {
    "id",
    "user_id",
    "hash",
    "filename",
    "path",
    "data",
    "meta",
    "created_at",
    "updated_at",
}
NOTES = "first line\nsecond line: ünïcödé\n"


@pytest.fixture
def server_plugins():
    return ["files_reads_pipe"]


def upload(client, name: str = "notes.txt", content: bytes | str = NOTES, **kw):
    """`kw`: `content_type` of the file, or httpx arguments (`data=` for other form fields)."""
    raw = content.encode() if isinstance(content, str) else content
    content_type = kw.pop("content_type", "text/plain")
    return client.post(f"{API}/", files={"file": (name, raw, content_type)}, **kw)


def uploaded(client, name: str = "notes.txt", content: bytes | str = NOTES, **kw) -> dict:
    reply = upload(client, name, content, **kw)
    assert reply.status_code == 200, reply.text
    return reply.json()


def chat(client, **extra):
    return client.post(
        "/v1/chat/completions",
        json={"model": "files_reads_pipe", "messages": [{"role": "user", "content": "hi"}]} | extra,
    )


def seen_by_pipe(client, **extra) -> dict:
    reply = chat(client, **extra)
    assert reply.status_code == 200, reply.text
    return json.loads(reply.json()["choices"][0]["message"]["content"])


def stored_files(server) -> list[Path]:
    root = server.data_dir / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def staged_files(server) -> list[Path]:
    root = server.data_dir / "cache" / "uploads"
    return sorted(root.iterdir()) if root.exists() else []


# -- the API ------------------------------------------------------------------------------------
def test_upload_list_get_download_and_delete(server):
    ada = server.client(server.user_key("ada@example.com"))
    row = uploaded(ada, data={"metadata": json.dumps({"purpose": "tests"})})
    assert set(row) == FILE_MODEL | {"status"} and row["status"] is True
    assert uuid.UUID(row["id"]).version == 4
    assert row["filename"] == "notes.txt"
    assert row["path"] is None  # paths on the server are for admins
    assert row["hash"] == hashlib.sha256(NOTES.encode()).hexdigest()
    assert row["data"] == {"status": "completed", "content": NOTES}
    assert row["meta"] == {
        "name": "notes.txt",
        "content_type": "text/plain",
        "size": len(NOTES.encode()),
        "file_hash": row["hash"],
        "data": {"purpose": "tests"},
    }
    assert row["created_at"] == row["updated_at"] > 0
    [on_disk] = stored_files(server)
    assert on_disk.name == f"{row['id']}.txt" and on_disk.read_text() == NOTES
    assert staged_files(server) == []

    listed = ada.get(f"{API}/").json()
    assert listed["total"] == 1
    [item] = listed["items"]
    assert set(item) == FILE_MODEL - {"path"} and item["data"]["content"] == NOTES
    assert ada.get(API, params={"content": "false"}).json()["items"][0]["data"] == {
        "status": "completed"
    }

    got = ada.get(f"{API}/{row['id']}").json()
    assert got == {k: v for k, v in row.items() if k != "status"}
    assert ada.get(f"{API}/{row['id']}/data/content").json() == {"content": NOTES}

    download = ada.get(f"{API}/{row['id']}/content")
    assert download.status_code == 200
    assert download.content == NOTES.encode()
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"].startswith("inline;")
    assert download.headers["x-content-type-options"] == "nosniff"
    attachment = ada.get(f"{API}/{row['id']}/content", params={"attachment": "true"})
    assert attachment.headers["content-disposition"] == (
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    )

    deleted = ada.delete(f"{API}/{row['id']}")
    assert deleted.json() == {"message": "File deleted successfully"}
    assert ada.get(f"{API}/{row['id']}").status_code == 404
    assert ada.get(f"{API}/").json() == {"items": [], "total": 0}
    assert stored_files(server) == []


def test_admins_see_every_file_and_its_path(server):
    admin = server.client()
    ada = server.client(server.user_key("ada@example.com"))
    row = uploaded(ada)
    mine = uploaded(admin, "mine.md", "# admin's")
    assert mine["path"] == str((server.data_dir / "uploads" / f"{mine['id']}.md").resolve())
    listed = admin.get(f"{API}/").json()
    assert listed["total"] == 2
    assert {i["id"] for i in listed["items"]} == {row["id"], mine["id"]}
    got = admin.get(f"{API}/{row['id']}").json()
    assert got["user_id"] == row["user_id"] and got["path"].endswith(f"{row['id']}.txt")
    assert admin.get(f"{API}/{row['id']}/content").content == NOTES.encode()


def test_another_user_is_told_the_file_does_not_exist(server):
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    row = uploaded(ada)
    for reply in (
        bob.get(f"{API}/{row['id']}"),
        bob.get(f"{API}/{row['id']}/content"),
        bob.get(f"{API}/{row['id']}/data/content"),
        bob.delete(f"{API}/{row['id']}"),
    ):
        assert (reply.status_code, reply.json()) == (404, {"detail": NOT_FOUND})
    # the same answer as for a file that never existed: ids cannot be probed
    missing = bob.get(f"{API}/{uuid.uuid4()}")
    assert (missing.status_code, missing.json()) == (404, {"detail": NOT_FOUND})
    assert bob.get(f"{API}/").json() == {"items": [], "total": 0}
    assert ada.get(f"{API}/{row['id']}/content").content == NOTES.encode()  # still there


def test_only_admins_delete_everything(server):
    admin = server.client()
    ada = server.client(server.user_key("ada@example.com"))
    uploaded(ada)
    uploaded(admin, "other.txt")
    assert ada.delete(f"{API}/all").status_code == 403
    assert admin.get(f"{API}/").json()["total"] == 2
    done = admin.delete(f"{API}/all")
    assert done.json() == {"message": "All files deleted successfully"}
    assert admin.get(f"{API}/").json() == {"items": [], "total": 0}
    assert stored_files(server) == []


def test_unsafe_names_are_labels_only(server):
    admin = server.client()
    for name, shown in (
        ("../../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.txt", "evil.txt"),
        ("..", "file"),
        ("résumé; final.txt", "résumé; final.txt"),
        ('say "hi".txt', "say %22hi%22.txt"),  # clients send a quote as %22 (HTML's rule)
    ):
        row = uploaded(admin, name, "x")
        assert row["filename"] == row["meta"]["name"] == shown
        stored = Path(row["path"])
        assert stored.parent == (server.data_dir / "uploads").resolve()
        assert stored.name.startswith(row["id"])
        disposition = admin.get(f"{API}/{row['id']}/content", params={"attachment": "true"})
        header = disposition.headers["content-disposition"]
        assert header.count('"') == 2 and "\n" not in header  # the name cannot break out
    assert not (server.data_dir / "etc").exists()
    assert len(stored_files(server)) == 5


def test_bad_forms_are_refused(server):
    admin = server.client()
    not_a_form = admin.post(f"{API}/", json={"file": "x"})
    assert not_a_form.status_code == 400 and "multipart/form-data" in not_a_form.json()["detail"]
    no_file = admin.post(f"{API}/", data={"metadata": "{}"}, files={"other": ("a", b"b")})
    assert no_file.status_code == 422
    assert no_file.json()["detail"][0]["field"] == "file"
    bad_metadata = upload(admin, data={"metadata": "{not json"})
    assert (bad_metadata.status_code, bad_metadata.json()) == (
        400,
        {"detail": "Invalid metadata format"},
    )
    cut_short = admin.post(
        f"{API}/",
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert cut_short.status_code == 400
    assert stored_files(server) == [] and staged_files(server) == []


def test_binary_files_have_no_text_content(server):
    admin = server.client()
    row = uploaded(admin, "pixel.png", b"\x89PNG\r\n\x1a\n\x00\xff", content_type="image/png")
    assert row["data"] == {"status": "completed"}
    assert row["meta"]["content_type"] == "image/png"
    download = admin.get(f"{API}/{row['id']}/content")
    assert download.content == b"\x89PNG\r\n\x1a\n\x00\xff"
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    guessed = uploaded(admin, "data.json", '{"a": 1}', content_type="application/octet-stream")
    assert guessed["meta"]["content_type"] == "application/json"
    assert guessed["data"]["content"] == '{"a": 1}'


# -- the size limit -----------------------------------------------------------------------------
@pytest.fixture
def small_server(tmp_path, database_url):
    # 64 KiB
    yield from start_server(tmp_path, database_url, [], max_upload_mb=1 / 16)


def multipart(boundary: str, data: bytes) -> bytes:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode()


def test_uploads_past_the_limit_are_refused_with_413(small_server):
    admin = small_server.client()
    message = (
        "Oops! The file you're trying to upload is too large. Please upload a file that is "
        "less than 0.0625 MB."
    )
    just_fits = uploaded(admin, "fits.bin", b"x" * 65536, content_type="application/octet-stream")
    assert just_fits["meta"]["size"] == 65536

    # declared small enough to be read, refused while it streams in
    over = upload(admin, "over.bin", b"x" * 65537, content_type="application/octet-stream")
    assert (over.status_code, over.json()) == (413, {"detail": message})

    # no declared length at all (chunked): the same
    def chunks():
        body = multipart("b0undary", b"y" * 300_000)
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    chunked = admin.post(
        f"{API}/",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert (chunked.status_code, chunked.json()) == (413, {"detail": message})

    # declared far too large: refused before a byte of it is read
    huge = admin.post(
        f"{API}/",
        content=multipart("b0undary", b"z" * 3_000_000),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert (huge.status_code, huge.json()) == (413, {"detail": message})

    assert [p.name for p in stored_files(small_server)] == [f"{just_fits['id']}.bin"]
    assert staged_files(small_server) == []
    assert admin.get(f"{API}/").json()["total"] == 1


# -- __files__ ----------------------------------------------------------------------------------
def check_seen(seen: dict, row: dict, owner: dict, **client_keys) -> None:
    [got] = seen["files"]
    assert got["item"] == {
        "type": "file",
        "id": row["id"],
        "url": f"/api/v1/files/{row['id']}",
        "name": "notes.txt",
        "status": "uploaded",
        "size": len(NOTES.encode()),
        **client_keys,
    }
    assert got["record_keys"] == sorted(FILE_MODEL | {"status"})
    assert got["user_id"] == owner["id"]
    assert got["meta"]["content_type"] == "text/plain"
    assert got["content"] == NOTES
    assert got["bytes_at_path"] == NOTES
    assert Path(got["path"]).is_absolute()
    assert Path(got["path"]).name == f"{row['id']}.txt"


def whoami(server, key: str) -> dict:
    return server.call(server.app.state.auth.principal(f"Bearer {key}")).user


def test_a_pipe_reads_an_uploaded_file_through_dunder_files(server):
    key = server.user_key("ada@example.com")
    ada = server.client(key)
    row = uploaded(ada)
    owner = whoami(server, key)
    check_seen(seen_by_pipe(ada, files=[{"type": "file", "id": row["id"]}]), row, owner)
    # as an OpenAI SDK sends it (metadata), and as Open WebUI's UI does (the whole item)
    check_seen(seen_by_pipe(ada, metadata={"files": [{"id": row["id"]}]}), row, owner)
    ui_item = {"type": "file", "id": row["id"], "file": row, "itemId": "x1"}
    seen = seen_by_pipe(ada, files=[ui_item])
    check_seen(seen, row, owner, itemId="x1")  # the client's other keys stay
    assert seen["body_files"] is None  # as in Open WebUI, the pipe's body has no `files`


def test_a_streamed_chat_gets_the_files_too(server):
    ada = server.client(server.user_key("ada@example.com"))
    row = uploaded(ada)
    with ada.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "files_reads_pipe",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "files": [{"type": "file", "id": row["id"]}],
        },
    ) as reply:
        assert reply.status_code == 200
        text = "".join(
            (json.loads(line[6:])["choices"] or [{}])[0].get("delta", {}).get("content") or ""
            for line in reply.iter_lines()
            if line.startswith("data: {")
        )
    assert json.loads(text)["files"][0]["content"] == NOTES


def test_a_client_cannot_point_a_plugin_at_a_path(server):
    ada = server.client(server.user_key("ada@example.com"))
    row = uploaded(ada)
    # the record of an upload is always the server's, whatever the client sent with it
    spoofed = {"type": "file", "id": row["id"], "file": {"path": "/etc/passwd"}}
    [got] = seen_by_pipe(ada, files=[spoofed])["files"]
    assert got["path"].endswith(f"{row['id']}.txt") and got["bytes_at_path"] == NOTES
    # items that are not uploads pass as sent, but never with a path
    foreign = chat(ada, files=[{"type": "file", "id": "elsewhere", "file": {"path": "/etc"}}])
    assert foreign.status_code == 400 and "carries a path" in foreign.json()["detail"]
    passed = seen_by_pipe(ada, files=[{"type": "file", "id": "elsewhere", "name": "n"}])
    assert passed["files"][0]["item"] == {"type": "file", "id": "elsewhere", "name": "n"}


def test_another_users_file_cannot_be_used_in_a_chat(server):
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    row = uploaded(ada)
    for extra in (
        {"files": [{"type": "file", "id": row["id"]}]},
        {"metadata": {"files": [{"id": row["id"]}]}},
        {"files": [{"type": "file", "id": str(uuid.uuid4())}]},  # one that never existed
    ):
        reply = chat(bob, **extra)
        assert reply.status_code == 404, reply.text
        assert "not found" in reply.json()["detail"] and NOTES not in reply.text
    wanted = chat(bob, files=[{"type": "file", "id": row["id"]}])
    assert wanted.json()["detail"] == f"file {row['id']} not found"
    assert wanted.json()["error"]["type"] == "not_found_error"
    # an admin may use it, as Open WebUI lets admins read every file
    assert seen_by_pipe(server.client(), files=[{"id": row["id"]}])["files"][0]["content"] == NOTES


@pytest.mark.parametrize("server_plugins", [["files_reads_pipe", "filter_file_handler"]])
def test_files_reach_dunder_files_after_a_file_handler_removed_them(server):
    ada = server.client(server.user_key("ada@example.com"))
    row = uploaded(ada)
    seen = seen_by_pipe(ada, files=[{"type": "file", "id": row["id"]}])
    assert seen["body_files"] is None
    [got] = seen["files"]
    assert (got["content"], got["bytes_at_path"]) == (NOTES, NOTES)


def test_plugins_find_the_content_route_by_open_webuis_name(server):
    path = server.app.url_path_for("get_file_content_by_id", id="abc")
    assert path == "/api/v1/files/abc/content"


# -- S3-compatible storage ----------------------------------------------------------------------
@pytest.fixture
def s3_server(tmp_path, s3_endpoint, s3_bucket):
    yield from start_server(
        tmp_path,
        None,
        ["files_reads_pipe"],
        s3_bucket=s3_bucket,
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
        s3_prefix="uploads/",
    )


def test_uploads_can_live_in_an_s3_bucket(s3_server, s3_bucket, s3_endpoint):
    import boto3

    key = s3_server.user_key("ada@example.com")
    ada = s3_server.client(key)
    row = uploaded(ada)
    assert stored_files(s3_server) == [] and staged_files(s3_server) == []  # nothing on disk
    bucket = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    listing = bucket.list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [item["Key"] for item in listing] == [f"uploads/{row['id']}.txt"]

    reply = ada.get(f"{API}/{row['id']}/content")
    assert reply.status_code == 200 and reply.content == NOTES.encode()

    # the pipe gets a local path, with the object downloaded there
    seen = seen_by_pipe(ada, files=[{"type": "file", "id": row["id"]}])
    check_seen(seen, row, whoami(s3_server, key))
    assert Path(seen["files"][0]["path"]).parent == (s3_server.data_dir / "cache" / "s3").resolve()

    assert ada.delete(f"{API}/{row['id']}").status_code == 200
    assert "Contents" not in bucket.list_objects_v2(Bucket=s3_bucket)
    assert ada.get(f"{API}/{row['id']}/content").status_code == 404
