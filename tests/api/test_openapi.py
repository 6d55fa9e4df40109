"""The OpenAPI document: public, valid JSON, every route, bearer security where needed."""

from __future__ import annotations

ROUTES = {
    ("post", "/api/auth/login"),
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
    assert routes == ROUTES
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_every_route_but_login_requires_the_bearer_token(api):
    paths = api("GET", "/api/openapi.json").body["paths"]

    for path, item in paths.items():
        for method, operation in item.items():
            expected = [] if path == "/api/auth/login" else [{"bearerAuth": []}]
            assert operation.get("security", []) == expected, (method, path)


def test_cors_headers_are_on_errors_too(api):
    answer = api("GET", "/api/conversations", headers={"origin": "https://inbox.example"})

    assert answer.status == 401
    assert "Access-Control-Allow-Origin" in answer.headers
