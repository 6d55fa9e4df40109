"""The local gateway hands requests to the functions as the function URL and HTTP API do."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from infra.local.gateway import Function, LocalGateway, load_handler
from infra.local.sandbox import create_sandbox, sign


class Recorder:
    """A stand-in handler that keeps each event and answers what it was told to."""

    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.answer = answer or {
            "statusCode": 200,
            "headers": {"content-type": "text/plain"},
            "body": "EVENT_RECEIVED",
        }

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def serve(app: Any) -> tuple[str, Any]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", stop


@pytest.fixture
def webhook() -> Recorder:
    return Recorder()


@pytest.fixture
def api() -> Recorder:
    return Recorder(
        {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": '{"openapi":"3.1.0"}',
        }
    )


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    return tmp_path / "dist"


@pytest.fixture
def base_url(webhook: Recorder, api: Recorder, web_dist: Path) -> Iterator[str]:
    gateway = LocalGateway(
        webhook=Function("test-webhook", webhook),
        api=Function("test-api", api),
        fallback=create_sandbox(app_secret="s"),
        web_dist=web_dist,
        links={"Facebook sandbox": "/sandbox/"},
    )
    url, stop = serve(gateway)
    yield url
    stop()


def test_a_signed_webhook_reaches_the_function_with_its_exact_bytes(
    base_url: str, webhook: Recorder
) -> None:
    raw = b'{"object":"page","entry":[{"id":"1","t":"caf\\u00e9 \\/ \xc3\xa9"}]}'
    headers = {"Content-Type": "application/json", **sign("s", raw)}

    answer = requests.post(f"{base_url}/webhooks/facebook", data=raw, headers=headers, timeout=5)

    assert (answer.status_code, answer.text) == (200, "EVENT_RECEIVED")
    (event,) = webhook.events
    assert event["routeKey"] == "$default" and event["rawPath"] == "/webhooks/facebook"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["x-hub-signature-256"] == headers["X-Hub-Signature-256"]
    sent = (
        base64.b64decode(event["body"])
        if event["isBase64Encoded"]
        else event["body"].encode("utf-8")
    )
    assert sent == raw
    assert webhook.contexts[0].function_name == "test-webhook"


def test_the_verify_challenge_reaches_the_function_with_its_query(
    base_url: str, webhook: Recorder
) -> None:
    requests.get(
        f"{base_url}/webhooks/facebook",
        timeout=5,
        params={"hub.mode": "subscribe", "hub.verify_token": "t", "hub.challenge": "42"},
    )

    (event,) = webhook.events
    assert event["queryStringParameters"] == {
        "hub.mode": "subscribe",
        "hub.verify_token": "t",
        "hub.challenge": "42",
    }


def test_api_routes_reach_the_api_with_http_api_events(base_url: str, api: Recorder) -> None:
    answer = requests.get(f"{base_url}/api/openapi.json", timeout=5)
    requests.get(f"{base_url}/api", timeout=5)

    assert answer.json() == {"openapi": "3.1.0"}
    assert answer.headers["content-type"] == "application/json"
    proxy, root = api.events
    assert proxy["routeKey"] == "ANY /api/{proxy+}"
    assert proxy["pathParameters"] == {"proxy": "openapi.json"}
    assert root["routeKey"] == "ANY /api"


def test_a_failing_function_answers_500_like_api_gateway(base_url: str, api: Recorder) -> None:
    api.answer = RuntimeError("boom")

    answer = requests.get(f"{base_url}/api/pages", timeout=5)

    assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})


def test_the_api_gets_the_path_as_sent_with_its_percent_encoding(
    base_url: str, api: Recorder
) -> None:
    requests.post(f"{base_url}/api/conversations/c1/messages/17%2300-ab/retry", timeout=5)

    (event,) = api.events
    assert event["rawPath"] == "/api/conversations/c1/messages/17%2300-ab/retry"


def test_sandbox_routes_fall_through_to_the_sandbox(base_url: str) -> None:
    assert "Facebook sandbox" in requests.get(f"{base_url}/sandbox/", timeout=5).text
    me = requests.get(
        f"{base_url}/v25.0/me", timeout=5, params={"access_token": "EAASANDBOX100000000000001"}
    )
    assert me.json()["id"] == "100000000000001"


def test_root_links_to_the_sandbox_until_the_web_inbox_is_built(
    base_url: str, web_dist: Path
) -> None:
    before = requests.get(f"{base_url}/", timeout=5)
    web_dist.mkdir()
    (web_dist / "index.html").write_text("<title>Inbox</title>")
    (web_dist / "app.js").write_text("console.log(1)")

    after = requests.get(f"{base_url}/", timeout=5)
    script = requests.get(f"{base_url}/app.js", timeout=5)
    escape = requests.get(f"{base_url}/../../etc/passwd", timeout=5)

    assert 'href="/sandbox/"' in before.text
    assert after.text == "<title>Inbox</title>"
    assert script.text == "console.log(1)" and "javascript" in script.headers["content-type"]
    assert escape.status_code == 404


def test_the_inbox_gets_its_config_and_its_page_at_any_address(
    base_url: str, web_dist: Path
) -> None:
    web_dist.mkdir()
    (web_dist / "index.html").write_text("<title>Inbox</title>")
    browser = {"Accept": "text/html,application/xhtml+xml"}

    config = requests.get(f"{base_url}/config.json", timeout=5)
    deep_link = requests.get(f"{base_url}/conversations/c1", headers=browser, timeout=5)
    missing_file = requests.get(f"{base_url}/assets/gone.js", headers=browser, timeout=5)
    sandbox = requests.get(f"{base_url}/sandbox/", headers=browser, timeout=5)

    assert config.json() == {"api_base": "", "ws_url": ""}
    assert config.headers["Cache-Control"] == "no-store"
    assert deep_link.text == "<title>Inbox</title>"
    assert missing_file.status_code == 404
    assert "Facebook sandbox" in sandbox.text


def test_handlers_load_by_path_under_unique_names(tmp_path: Path) -> None:
    for name, answer in (("one", 1), ("two", 2)):
        folder = tmp_path / "functions" / name
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(f"def handler(event, context):\n    return {answer}\n")

    one, two = load_handler("one", root=tmp_path), load_handler("two", root=tmp_path)

    assert (one({}, None), two({}, None)) == (1, 2)
    assert one.__module__ != two.__module__
