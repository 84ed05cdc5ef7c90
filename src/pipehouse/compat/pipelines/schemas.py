"""`schemas`: the request models of the Pipelines server, which Pipelines files import for type
hints (`messages: List[OpenAIChatMessage]`) and to build bodies. Extra fields are kept, as there;
`stream` defaults to True, as the Pipelines server's does (an OpenAI client's default is False)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pipehouse.compat.errors import missing_names

__all__ = ["FilterForm", "OpenAIChatCompletionForm", "OpenAIChatMessage"]
__getattr__ = missing_names(__name__)


class OpenAIChatMessage(BaseModel):
    role: str
    content: str | list

    model_config = ConfigDict(extra="allow")


class OpenAIChatCompletionForm(BaseModel):
    stream: bool = True
    model: str
    messages: list[OpenAIChatMessage]

    model_config = ConfigDict(extra="allow")


class FilterForm(BaseModel):
    body: dict
    user: dict | None = None

    model_config = ConfigDict(extra="allow")
