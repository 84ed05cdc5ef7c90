from tests.conftest import content_of


async def test_str(harness):
    await harness.add("returns_str")
    payloads = await harness.stream(harness.body("returns_str"))
    assert content_of(payloads) == "plain answer"
    assert payloads[-1] == "[DONE]"
    result = await harness.complete(harness.body("returns_str"))
    assert result["choices"][0]["message"]["content"] == "plain answer"
