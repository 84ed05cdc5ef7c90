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
