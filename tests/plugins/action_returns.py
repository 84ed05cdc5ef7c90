"""
title: Returns what it is asked to
"""

from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel


class Result(BaseModel):
    ok: bool = True


class Action:
    async def action(self, body: dict):
        wanted = body.get("returns")
        if wanted == "none":
            return None
        if wanted == "text":
            return "plain text"
        if wanted == "model":
            return Result()
        if wanted == "embed":
            return HTMLResponse("<b>hi</b>", headers={"Content-Disposition": "inline"})
        if wanted == "embed_with_context":
            page = HTMLResponse("<b>hi</b>", headers={"Content-Disposition": "inline"})
            return page, {"shown": "a greeting"}
        if wanted == "headers":
            return "<i>page</i>", {"Content-Type": "text/html", "Content-Disposition": "inline"}
        if wanted == "location":
            return "", {"Location": "https://example.com/x", "Content-Disposition": "inline"}
        if wanted == "page":
            return HTMLResponse("<p>page</p>", status_code=201)
        if wanted == "plain_response":
            return PlainTextResponse("just text")
        if wanted == "messages":
            return {"messages": [{"id": body["id"], "role": "assistant", "content": "rewritten"}]}
        return body
