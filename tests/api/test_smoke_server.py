import pytest


@pytest.fixture
def server_plugins():
    return ["cli_status_pipe"]


def test_models_and_completion(server):
    client = server.client()
    models = client.get("/v1/models").json()["data"]
    assert [m["id"] for m in models] == ["cli_status_pipe"]
    reply = client.post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": [{"role": "user", "content": "x"}]},
    )
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == "echo: x [user]"
    assert server.client(key=None).get("/v1/models").status_code == 401
    user = server.client(key=server.user_key())
    assert user.get("/v1/models").status_code == 200
    assert user.get("/metrics").status_code == 403
