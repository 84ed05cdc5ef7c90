"""The application's own routing rules."""

from __future__ import annotations


def test_a_path_with_a_newline_matches_no_route(server):
    # Starlette's route patterns end in `$`, which also matches before a final newline: without
    # the app's check, `/api/v1/chats/\n` is answered by the chat list instead of a chat.
    admin = server.client()
    assert admin.get("/api/v1/chats/").status_code == 200
    for path in ("/api/v1/chats/%0A", "/api/v1/functions/%0A", "/health%0A"):
        reply = admin.get(path)
        assert reply.status_code == 404, path
        assert reply.json() == {"detail": "Not Found"}
