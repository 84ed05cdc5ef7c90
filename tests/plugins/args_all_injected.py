"""
title: A pipe declaring every injected argument; answers with a JSON report of what it got
"""

import json

from starlette.requests import Request


class Pipe:
    async def pipe(
        self,
        body: dict,
        __user__: dict,
        __metadata__: dict,
        __chat_id__,
        __session_id__,
        __message_id__,
        __files__,
        __task__,
        __task_body__,
        __event_emitter__,
        __event_call__,
        __request__,
        __tools__,
        __oauth_token__,
    ) -> str:
        report = {
            "body": body,
            "user": {k: v for k, v in __user__.items() if k != "valves"},
            "user_has_valves": "valves" in __user__,
            "metadata": {
                k: __metadata__.get(k)
                for k in ("chat_id", "message_id", "session_id", "user_id", "files", "task")
            },
            "chat_id": __chat_id__,
            "session_id": __session_id__,
            "message_id": __message_id__,
            "files": __files__,
            "task": __task__,
            "task_body": __task_body__,
            "emitter_callable": callable(__event_emitter__),
            "caller_callable": callable(__event_call__),
            "request_is_starlette": isinstance(__request__, Request),
            "request_method": __request__.method,
            "tools": __tools__,
            "oauth_token": __oauth_token__,
        }
        __user__["name"] = "changed by the pipe"  # must not leak into the caller's user dict
        return json.dumps(report)
