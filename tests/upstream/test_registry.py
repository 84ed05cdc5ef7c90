"""Several upstreams behind one model list: prefixes, allow-lists, caching, dead neighbours."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from pipehouse.upstream.connections import Connection
from pipehouse.upstream.registry import UpstreamRegistry
from tests.support.mock_upstream import MockUpstream, dead_base_url
from tests.support.polling import eventually_async

KEY = "sk-registry-secret-abcdef"


class Clock:
    """A clock the test moves by hand, so cache expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ollama() -> Iterator[MockUpstream]:
    with MockUpstream(models=["llama3", {"id": "qwen", "name": "Qwen 2.5"}]) as mock:
        yield mock


@pytest.fixture
def cloud() -> Iterator[MockUpstream]:
    with MockUpstream(api_key=KEY, models=["gpt-4o", "gpt-4o-mini"]) as mock:
        yield mock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def registry(clock) -> AsyncIterator[UpstreamRegistry]:
    registry = UpstreamRegistry(ttl=60, clock=clock, read_timeout=5)
    yield registry
    await registry.close()


def ids(models: list[dict]) -> list[str]:
    return [m["id"] for m in models]


async def test_lists_every_connection_with_prefixes_applied(registry, ollama, cloud):
    registry.set_connections(
        [
            Connection("ollama", ollama.base_url),
            Connection("cloud", cloud.base_url, api_key=KEY, prefix="cloud"),
        ]
    )
    models = await registry.models()
    assert ids(models) == ["llama3", "qwen", "cloud.gpt-4o", "cloud.gpt-4o-mini"]
    qwen, gpt = models[1], models[2]
    assert qwen["name"] == "Qwen 2.5" and qwen["connection"] == "ollama"
    assert gpt == {
        "id": "cloud.gpt-4o",
        "object": "model",
        "name": "gpt-4o",
        "created": 1_700_000_000,
        "owned_by": "mock",
        "connection": "cloud",
        "upstream_id": "gpt-4o",
    }


async def test_an_allow_list_limits_the_models_offered(registry, ollama):
    registry.set_connections([Connection("ollama", ollama.base_url, models=("qwen", "mistral"))])
    models = await registry.models()
    assert ids(models) == ["qwen", "mistral"]  # mistral is allowed even if not listed
    assert models[0]["name"] == "Qwen 2.5"  # the listing still supplies names


async def test_an_allow_listed_model_is_served_without_listing(registry, ollama):
    registry.set_connections([Connection("ollama", ollama.base_url, models=("qwen",))])
    found = await registry.find("qwen")
    assert found is not None and found.upstream_id == "qwen"
    assert ollama.models_calls == 0
    assert await registry.find("llama3") is None  # listed upstream, but not allowed


async def test_an_allow_list_is_offered_when_listing_fails(registry, ollama, caplog):
    ollama.models_status = 500
    registry.set_connections([Connection("ollama", ollama.base_url, models=("llama3",))])
    assert ids(await registry.models()) == ["llama3"]
    assert "listing the models of upstream 'ollama' failed" in caplog.text


async def test_listings_are_cached_for_the_ttl(registry, ollama, clock):
    registry.set_connections([Connection("ollama", ollama.base_url)])
    await registry.models()
    await registry.models()
    await registry.find("llama3")
    assert ollama.models_calls == 1
    clock.now += 61
    ollama.models = ["llama3", "phi4"]
    assert ids(await registry.models()) == ["llama3", "phi4"]
    assert ollama.models_calls == 2


async def test_a_model_object_edited_by_its_caller_leaves_the_listing_as_it_was(registry, ollama):
    """Answers come from a cached index: what one request (or a plugin's `__model__`) does to
    its model object must not reach the next request or the model list."""
    registry.set_connections([Connection("ollama", ollama.base_url)])
    listed = await registry.models()
    listed[0]["filters"] = ["a-filter"]
    found = await registry.find("llama3")
    assert found is not None and "filters" not in found.model
    found.model["name"] = "edited"
    again = await registry.find("llama3")
    assert again is not None and again.model["name"] == "llama3"
    assert [m["name"] for m in await registry.models()] == ["llama3", "Qwen 2.5"]
    assert ollama.models_calls == 1


async def test_concurrent_callers_share_one_listing(registry, ollama):
    ollama.models_delay = 0.2
    registry.set_connections([Connection("ollama", ollama.base_url)])
    results = await asyncio.gather(*(registry.models() for _ in range(5)))
    assert all(ids(r) == ["llama3", "qwen"] for r in results)
    assert ollama.models_calls == 1


async def test_connections_are_listed_concurrently(registry, ollama, cloud):
    # Neither upstream answers until both were asked: listing one after the other never would.
    ollama.models_gate = cloud.models_gate = gate = threading.Event()
    registry.set_connections(
        [Connection("ollama", ollama.base_url), Connection("cloud", cloud.base_url, api_key=KEY)]
    )
    listing = asyncio.create_task(registry.models())
    try:
        await eventually_async(
            lambda: ollama.models_calls == 1 and cloud.models_calls == 1,
            what="both upstreams asked at once",
        )
    finally:
        gate.set()
    assert len(await listing) == 4


async def test_a_dead_connection_does_not_hide_the_others(registry, ollama, caplog):
    registry.set_connections(
        [
            Connection("dead", dead_base_url(), api_key=KEY),
            Connection("ollama", ollama.base_url),
        ]
    )
    assert ids(await registry.models()) == ["llama3", "qwen"]
    assert "upstream 'dead'" in caplog.text and "unreachable" in caplog.text
    assert KEY not in caplog.text


async def test_a_rejected_key_is_logged_without_the_key(registry, cloud, caplog):
    registry.set_connections([Connection("cloud", cloud.base_url, api_key="sk-wrong-key-4242")])
    assert await registry.models() == []
    assert "rejected the connection's API key" in caplog.text
    assert "sk-wrong-key-4242" not in caplog.text


async def test_a_connection_that_goes_down_keeps_its_last_good_listing(registry, ollama, clock):
    registry.set_connections([Connection("ollama", ollama.base_url)])
    await registry.models()
    ollama.models_status = 503
    clock.now += 61
    assert ids(await registry.models()) == ["llama3", "qwen"]
    assert ollama.models_calls == 2
    await registry.models()
    assert ollama.models_calls == 2  # the failure is remembered, not retried on every call


async def test_the_first_connection_wins_a_shared_model_id(registry, ollama, caplog):
    with MockUpstream(models=["llama3", "gemma"]) as other:
        registry.set_connections(
            [Connection("ollama", ollama.base_url), Connection("other", other.base_url)]
        )
        models = await registry.models()
        await registry.models()
        assert ids(models) == ["llama3", "qwen", "gemma"]
        assert models[0]["connection"] == "ollama"
        found = await registry.find("llama3")
        assert found is not None and found.client.connection.id == "ollama"
    warnings = [r for r in caplog.records if r.name == "pipehouse.upstream.registry"]
    assert len(warnings) == 1 and "'other' also offers model 'llama3'" in warnings[0].message


async def test_disabled_connections_are_not_listed(registry, ollama):
    registry.set_connections([Connection("ollama", ollama.base_url, enabled=False)])
    assert await registry.models() == []
    assert await registry.find("llama3") is None
    assert ollama.models_calls == 0


async def test_find_returns_a_client_that_reaches_the_right_upstream(registry, ollama, cloud):
    registry.set_connections(
        [
            Connection("ollama", ollama.base_url),
            Connection("cloud", cloud.base_url, api_key=KEY, prefix="cloud"),
        ]
    )
    found = await registry.find("cloud.gpt-4o-mini")
    assert found is not None
    assert found.upstream_id == "gpt-4o-mini" and found.model["id"] == "cloud.gpt-4o-mini"
    cloud.reply("from the cloud")
    messages = [{"role": "user", "content": "hi"}]
    completion = await found.client.complete({"model": found.upstream_id, "messages": messages})
    assert completion["choices"][0]["message"]["content"] == "from the cloud"
    assert cloud.chat_requests[0].authorization == f"Bearer {KEY}"
    assert ollama.chat_requests == []


async def test_a_model_pulled_since_the_last_listing_is_found(registry, ollama):
    registry.set_connections([Connection("ollama", ollama.base_url)])
    await registry.models()
    ollama.models.append("phi4")
    found = await registry.find("phi4")
    assert found is not None and found.upstream_id == "phi4"
    assert ollama.models_calls == 2


async def test_an_unknown_model_is_none_after_one_fresh_listing(registry, ollama):
    registry.set_connections([Connection("ollama", ollama.base_url)])
    await registry.models()
    assert await registry.find("nonexistent") is None
    assert ollama.models_calls == 2


async def test_changing_a_connection_drops_its_cached_listing(registry, ollama, cloud):
    unchanged = Connection("ollama", ollama.base_url)
    registry.set_connections([unchanged, Connection("cloud", cloud.base_url, api_key=KEY)])
    await registry.models()
    registry.set_connections(
        [unchanged, Connection("cloud", cloud.base_url, api_key=KEY, prefix="c")]
    )
    assert ids(await registry.models()) == ["llama3", "qwen", "c.gpt-4o", "c.gpt-4o-mini"]
    assert (ollama.models_calls, cloud.models_calls) == (1, 2)
    registry.set_connections([unchanged])
    assert ids(await registry.models()) == ["llama3", "qwen"]
    assert await registry.find("c.gpt-4o") is None
