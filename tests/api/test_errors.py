"""Validation errors: what the server sends on a 422 is what `/openapi.json` says it sends, so a
client generated from the schema (or a fuzzer) and the server agree."""

from __future__ import annotations


def test_a_422_is_field_message_type_and_the_schema_says_so(server):
    admin = server.client()
    reply = admin.get("/api/v1/files/?page=0")
    assert reply.status_code == 422
    [error] = reply.json()["detail"]
    assert set(error) == {"field", "message", "type"}
    assert error["field"] == "page" and error["type"] == "greater_than_equal"

    schema = admin.get("/openapi.json").json()
    documented = schema["components"]["schemas"]["ValidationError"]
    assert sorted(documented["required"]) == ["field", "message", "type"]
    assert set(documented["properties"]) == set(error)
    operation = schema["paths"]["/api/v1/files/"]["get"]
    answer = operation["responses"]["422"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/HTTPValidationError"}
    listed = schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    assert listed["items"] == {"$ref": "#/components/schemas/ValidationError"}


def test_a_body_that_is_missing_is_named_by_an_empty_field(server):
    reply = server.client().request("DELETE", "/pipelines/delete")
    assert reply.status_code == 422
    assert reply.json()["detail"] == [{"field": "", "message": "Field required", "type": "missing"}]


def test_every_error_answer_is_documented_on_every_operation_and_matches(server):
    import jsonschema

    admin = server.client()
    schema = admin.get("/openapi.json").json()
    error_answer = {"$ref": "#/components/schemas/ErrorAnswer"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("4XX", "5XX"):
                content = operation["responses"][status]["content"]
                assert content["application/json"]["schema"] == error_answer, (method, path)
    documented = schema["components"]["schemas"]["ErrorAnswer"]

    broken = '"""\ntitle: Broken\n"""\n\nclass Pipe:\n    def pipe(self, body) -> str\n'
    answers = [
        admin.get("/api/v1/functions/id/no_such_function"),  # 404, {detail}
        server.client(key=None).get("/api/v1/functions/"),  # 401
        admin.post("/v1/chat/completions", json={"model": 5, "messages": []}),  # 400, OpenAI
        admin.post("/v1/chat/completions", json={"model": "no_such", "messages": []}),  # 404
        admin.post(  # 400, a load error: detail is an object naming plugin and line
            "/api/v1/functions/create",
            json={"id": "broken", "name": "Broken", "content": broken, "meta": {}},
        ),
    ]
    assert [a.status_code for a in answers] == [404, 401, 400, 404, 400]
    for answer in answers:
        jsonschema.validate(answer.json(), documented)
    assert answers[2].json()["error"]["param"] == "model"
    assert answers[4].json()["detail"]["plugin_id"] == "broken"
