"""`blueprints.function_calling_blueprint`: the Pipelines server's prompt-based tool calling, a
filter base class that Pipelines files subclass with a `Tools` object on `self.tools`.

Its inlet asks a task model to pick one of the tools as JSON, runs it and puts `TEMPLATE`, with
`{{CONTEXT}}` replaced by the tool's result, into the system message. The Pipelines server asks
the task model with a blocking `requests.post` to `OPENAI_API_BASE_URL`; here the question goes
to the model of that id that pipehouse serves (a pipe or an upstream model, without filters, so
this filter does not run again), and only a model pipehouse does not serve is asked at
`OPENAI_API_BASE_URL`, without blocking the server. See docs/compatibility.md.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from typing import Any

import httpx
from pydantic import BaseModel

from pipehouse import host
from pipehouse.compat.errors import missing_names
from pipehouse.runtime.errors import ModelNotFound
from pipehouse.runtime.serving import serving

__all__ = ["DEFAULT_SYSTEM_PROMPT", "Pipeline"]
__getattr__ = missing_names(__name__)

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = """Tools: {}

If a function tool doesn't match the query, return an empty string. Else, pick a
function tool, fill in the parameters from the function tool's schema, and
return it in the format {{ "name": \"functionName\", "parameters": {{ "key":
"value" }} }}. Only pick a function if the user asks.  Only return the object. Do not return \
any other text."
"""

DEFAULT_TEMPLATE = """Use the following context as your learned knowledge, inside \
<context></context> XML tags.
<context>
    {{CONTEXT}}
</context>

When answer to user:
- If you don't know, just say that you don't know.
- If you don't know when you are not sure, ask for clarification.
Avoid mentioning that you obtained the information from the context.
And answer according to the language of the user's question."""


def _helpers() -> Any:
    # Served under its Pipelines name (never importable as pipehouse.compat.pipelines...).
    import utils.pipelines.main as helpers

    return helpers


async def ask_task_model(
    body: dict[str, Any], base_url: str, api_key: str, user: dict[str, Any] | None
) -> dict[str, Any]:
    """The completion of `body`: from the model pipehouse serves under that id when it serves
    one, else from the OpenAI-compatible server at `base_url`."""
    if serving.get() is not None:
        try:
            reply = await host.generate_chat_completion(body, user, bypass_filter=True)
        except ModelNotFound:
            pass
        else:
            if isinstance(reply, dict):
                return reply
            raise TypeError("the task model answered with a stream")
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{base_url}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        response.raise_for_status()
        return response.json()


class Pipeline:
    class Valves(BaseModel):
        pipelines: list[str] = []
        priority: int = 0
        OPENAI_API_BASE_URL: str
        OPENAI_API_KEY: str
        TASK_MODEL: str
        TEMPLATE: str

    def __init__(self, prompt: str | None = None) -> None:
        self.type = "filter"
        self.name = "Function Calling Blueprint"
        self.prompt = prompt or DEFAULT_SYSTEM_PROMPT
        self.tools: object = None
        self.valves = self.Valves(
            pipelines=["*"],
            OPENAI_API_BASE_URL=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            OPENAI_API_KEY=os.getenv("OPENAI_API_KEY", "YOUR_OPENAI_API_KEY"),
            TASK_MODEL=os.getenv("TASK_MODEL", "gpt-3.5-turbo"),
            TEMPLATE=os.getenv("TEMPLATE", DEFAULT_TEMPLATE),
        )

    async def on_startup(self) -> None:
        pass

    async def on_shutdown(self) -> None:
        pass

    async def inlet(self, body: dict, user: dict | None = None) -> dict:
        if body.get("title", False):  # a title-generation request: leave it alone
            return body
        helpers = _helpers()
        user_message = helpers.get_last_user_message(body["messages"])
        prompt = self.prompt.format(json.dumps(helpers.get_tools_specs(self.tools), indent=2))
        history = "\n".join(
            f"{message['role']}: {message['content']}" for message in body["messages"][::-1][:4]
        )
        content = f"History:\n{history}Query: {user_message}"
        result = await self.run_completion(prompt, content, user)
        messages = await self.call_function(result, body["messages"])
        return {**body, "messages": messages}

    async def call_function(self, result: dict, messages: list[dict]) -> list[dict]:
        """Run the tool the task model picked; its result goes into the system message. The
        messages come back unchanged when no tool ran or it returned nothing (the Pipelines
        server returns None there, emptying the request's messages)."""
        if "name" not in result:
            return messages
        function = getattr(self.tools, result["name"], None)
        function_result = None
        try:
            function_result = function(**result.get("parameters", {}))  # type: ignore[misc]
            if inspect.isawaitable(function_result):
                function_result = await function_result
        except Exception as exc:  # as on the Pipelines server: a failed tool adds nothing
            log.warning("function calling: tool %r failed: %s", result["name"], exc)
        if not function_result:
            return messages
        system_prompt = self.valves.TEMPLATE.replace("{{CONTEXT}}", str(function_result))
        return _helpers().add_or_update_system_message(system_prompt, messages)

    async def run_completion(
        self, system_prompt: str, content: str, user: dict | None = None
    ) -> dict:
        """The task model's choice as `{"name", "parameters"}`, or `{}` when it chose none or
        could not be asked (logged, as the Pipelines server prints it)."""
        body = {
            "model": self.valves.TASK_MODEL,
            "messages": [
                {"role": "system", "content": system_prompt},
                {"role": "user", "content": content},
            ],
            "stream": False,
        }
        try:
            reply = await ask_task_model(
                body,
                self.valves.OPENAI_API_BASE_URL,
                self.valves.OPENAI_API_KEY,
                user if isinstance(user, dict) else None,
            )
            text = reply["choices"][0]["message"]["content"] or ""
            text = text[text.find("{") : text.rfind("}") + 1]
            if text:
                return json.loads(text)
        except Exception as exc:
            log.warning("function calling: the task model gave no usable answer: %s", exc)
        return {}
