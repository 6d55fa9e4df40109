"""The OpenAPI document: public, valid JSON, the routes, token or API key where needed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PUBLIC = {"/api/auth/login", "/api/auth/new-password", "/api/auth/refresh"}
ROUTES = {
    ("post", "/api/auth/login"),
    ("post", "/api/auth/new-password"),
    ("post", "/api/auth/refresh"),
    ("get", "/api/members"),
    ("post", "/api/members"),
    ("get", "/api/members/{member_id}"),
    ("patch", "/api/members/{member_id}"),
    ("delete", "/api/members/{member_id}"),
    ("put", "/api/members/me/status"),
    ("get", "/api/settings"),
    ("put", "/api/settings"),
    ("get", "/api/api-keys"),
    ("post", "/api/api-keys"),
    ("delete", "/api/api-keys/{key_id}"),
    ("post", "/api/conversations/{conversation_id}/pick-up"),
    ("post", "/api/conversations/{conversation_id}/transfer"),
    ("post", "/api/conversations/{conversation_id}/close"),
    ("post", "/api/conversations/{conversation_id}/reopen"),
    ("get", "/api/conversations/{conversation_id}/timeline"),
    ("patch", "/api/pages/{page_id}"),
    ("get", "/api/conversations"),
    ("get", "/api/conversations/{conversation_id}"),
    ("get", "/api/conversations/{conversation_id}/messages"),
    ("get", "/api/contacts/{contact_id}"),
    ("get", "/api/pages"),
    ("post", "/api/pages"),
    ("delete", "/api/pages/{page_id}"),
}


def test_the_document_is_public_json_listing_every_route(api):
    answer = api("GET", "/api/openapi.json")

    assert answer.status == 200
    document = answer.body
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    routes = {(method, path) for path, item in document["paths"].items() for method in item}
    # Other parts add their own routes; these are the ones this suite knows must be there.
    assert ROUTES <= routes
    schemes = document["components"]["securitySchemes"]
    bearer = schemes["bearerAuth"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")
    assert (schemes["apiKey"]["in"], schemes["apiKey"]["name"]) == ("header", "X-Api-Key")


def test_every_route_but_sign_in_requires_a_token_or_an_api_key(api):
    paths = api("GET", "/api/openapi.json").body["paths"]

    for path, item in paths.items():
        for method, operation in item.items():
            expected = [] if path in PUBLIC else [{"bearerAuth": []}, {"apiKey": []}]
            assert operation.get("security", []) == expected, (method, path)


def test_cors_headers_are_on_errors_too(api):
    answer = api("GET", "/api/conversations", headers={"origin": "https://inbox.example"})

    assert answer.status == 401
    assert "Access-Control-Allow-Origin" in answer.headers


def test_a_request_off_the_document_is_answered_as_the_document_says(api):
    # The document's Error requires code and message; each `detail` entry loc, msg and type.
    answer = api("POST", "/api/auth/login", body={"email": "a@b.example", "password": 5})

    assert answer.status == 422
    assert answer.body["code"] == "invalid_input"
    (error,) = answer.body["detail"]
    assert (error["loc"], error["type"]) == (["body", "password"], "string_type")
    assert error["msg"]


def test_a_body_that_is_not_json_by_its_content_type_is_refused_like_other_errors(api):
    from functions.api.app import handler
    from tests.api.conftest import _lambda_context, http_event

    event = http_event("POST", "/api/auth/login", body={"email": "a@b.example", "password": "x"})
    event["headers"]["content-type"] = "text/plain"

    answer = handler(event, _lambda_context())

    assert answer["statusCode"] == 415
    assert json.loads(answer["body"]) == {"code": "unsupported_media_type",
                                          "message": "send the body as application/json"}


NO_CONTENT = {
    ("post", "/api/conversations/{conversation_id}/typing"),
    ("post", "/api/conversations/{conversation_id}/seen"),
    ("post", "/api/conversations/{conversation_id}/read"),
    ("delete", "/api/pages/{page_id}"),
    ("delete", "/api/catalog/products/{product_id}"),
}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_routes_answering_no_content_are_documented_as_204_without_a_body(api):
    document = api("GET", "/api/openapi.json").body
    found = {(m, p): o["responses"] for m, p, o in _operations(document) if (m, p) in NO_CONTENT}

    assert set(found) == NO_CONTENT
    for route, responses in found.items():
        assert "200" not in responses, route
        assert not responses["204"].get("content"), route


def test_created_answers_are_documented_with_their_shape(api):
    paths = api("GET", "/api/openapi.json").body["paths"]

    reply = paths["/api/conversations/{conversation_id}/messages"]["post"]["responses"]
    product = paths["/api/catalog/products"]["post"]["responses"]

    assert reply["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReplyList"}
    assert product["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductOut"}
    assert "200" not in reply and "200" not in product


def test_every_route_documents_its_errors_with_the_one_error_body(api):
    document = api("GET", "/api/openapi.json").body
    error = {"$ref": "#/components/schemas/Error"}

    assert set(document["components"]["schemas"]["Error"]["required"]) == {"code", "message"}
    for method, path, operation in _operations(document):
        statuses = {int(s) for s in operation["responses"]}
        expected = {401, 422} if path in PUBLIC else {401, 403, 404, 409, 422}
        if "requestBody" in operation:
            expected |= {400, 415}
        assert expected <= statuses, (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == error, (
                    method, path, status)


def test_a_body_that_is_not_utf8_is_a_client_error(api):
    from functions.api.app import handler
    from tests.api.conftest import _lambda_context, http_event

    event = http_event("POST", "/api/auth/login", body={})
    # Base64 of the bytes ff 81 ff: not UTF-8, as schemathesis sent it.
    event.update(body="/4H/", isBase64Encoded=True)

    answer = handler(event, _lambda_context())

    assert answer["statusCode"] == 400


README = Path(__file__).resolve().parents[2] / "README.md"
# A route as the README writes it: `GET /api/conversations/{conversation_id}`.
README_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/[^`\s]*)`")


def _route_shape(method: str, path: str) -> tuple[str, str]:
    # Prose may name a parameter more briefly (`{id}`) than the document does.
    return method.lower(), re.sub(r"\{[^}]+\}", "{}", path)


def test_the_readme_lists_every_route_and_no_other(api):
    paths = api("GET", "/api/openapi.json").body["paths"]
    documented = {_route_shape(method, path) for path, item in paths.items() for method in item}
    written = {_route_shape(m, p) for m, p in README_ROUTE.findall(README.read_text())}

    # The document itself is left out of the document.
    written.discard(("get", "/api/openapi.json"))
    assert documented - written == set(), "routes the README's list lacks"
    assert written - documented == set(), "routes the README names that do not exist"
