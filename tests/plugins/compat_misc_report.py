"""
title: Open WebUI helpers (utils.misc, constants, env, config), reported as JSON
"""

import copy
import json
import logging

from open_webui.config import UPLOAD_DIR
from open_webui.constants import TASKS
from open_webui.env import AIOHTTP_CLIENT_TIMEOUT, SRC_LOG_LEVELS, VERSION
from open_webui.utils.misc import (
    add_or_update_system_message,
    add_or_update_user_message,
    deep_update,
    get_last_assistant_message,
    get_last_user_message,
    get_last_user_message_item,
    get_message_list,
    get_system_message,
    openai_chat_completion_message_template,
    pop_system_message,
    prepend_to_first_user_message_content,
)
from utils.misc import get_messages_content  # a pre-0.5 short import, rewritten on load

log = logging.getLogger(__name__)
log.setLevel(SRC_LOG_LEVELS["MAIN"])  # a KeyError on Open WebUI 0.12.4; works here


class Pipe:
    def pipe(self, body: dict, __task__=None) -> str:  # sync: runs on a worker thread
        messages = body["messages"]
        system, without_system = pop_system_message(messages)
        # the helpers edit the messages in place, as Open WebUI's do: work on copies
        edited = add_or_update_system_message("Be brief.", copy.deepcopy(messages))
        appended = add_or_update_user_message("(thanks)", copy.deepcopy(without_system))
        prepended = prepend_to_first_user_message_content("Q:", copy.deepcopy(messages))
        history = {
            "a": {"id": "a", "parentId": None, "content": "first"},
            "b": {"id": "b", "parentId": "a", "content": "second"},
        }
        report = {
            "last_user": get_last_user_message(messages),
            "last_user_item": get_last_user_message_item(messages),
            "last_assistant": get_last_assistant_message(messages),
            "system": system,
            "system_again": get_system_message(messages),
            "without_system": without_system,
            "edited_system": edited[0],
            "appended_user": appended[-1],
            "prepended": prepended[1]["content"] if len(prepended) > 1 else None,
            "content": get_messages_content(without_system),
            "chain": [m["content"] for m in get_message_list(history, "b")],
            "merged": deep_update({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}),
            "completion": openai_chat_completion_message_template("m", "hi")["choices"][0],
            "task_is_default": __task__ in (None, TASKS.DEFAULT()),
            "title_task": str(TASKS.TITLE_GENERATION),
            "version": VERSION,
            "timeout": AIOHTTP_CLIENT_TIMEOUT,
            "upload_dir_exists": UPLOAD_DIR.is_dir(),
        }
        return json.dumps(report)
