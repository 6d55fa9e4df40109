"""The Facebook sandbox answers like the Graph API and sends webhooks signed like Facebook."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from infra.local.sandbox import (
    create_sandbox,
    encode_like_facebook,
    page_token_for,
    sandbox_of,
    start_sandbox,
)

APP_SECRET = "test-app-secret"
PAGE_ID = "100000000000001"
PSID = "2000000000000001"
TOKEN = page_token_for(PAGE_ID)


def proof(token: str, secret: str = APP_SECRET) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class _Receiver:
    """A stand-in for the product's webhook: keeps the raw bytes and headers it was sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), raw))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/facebook"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    found = _Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def sandbox_app(receiver: _Receiver):
    return create_sandbox(app_secret=APP_SECRET, webhook_url=receiver.url)


@pytest.fixture
def base_url(sandbox_app) -> Iterator[str]:
    url, stop = start_sandbox(sandbox_app)
    yield url
    stop()


def graph(base_url: str, method: str, path: str, token: str = TOKEN, **params):
    query = {"access_token": token, "appsecret_proof": proof(token)}
    if method == "GET":
        return requests.get(f"{base_url}/v25.0/{path}", params={**query, **params}, timeout=5)
    return requests.request(
        method, f"{base_url}/v25.0/{path}", params=query, json=params or None, timeout=5
    )


def test_profile_of_a_known_person_has_the_fields_asked_for(base_url: str) -> None:
    answer = graph(base_url, "GET", PSID, fields="first_name,last_name,name,profile_pic")

    assert answer.status_code == 200
    profile = answer.json()
    assert {k: profile[k] for k in ("id", "first_name", "last_name", "name")} == {
        "id": PSID,
        "first_name": "Alex",
        "last_name": "Sample",
        "name": "Alex Sample",
    }
    assert profile["profile_pic"].startswith(base_url + "/_sandbox/avatars/")
    assert requests.get(profile["profile_pic"], timeout=5).status_code == 200


@pytest.mark.parametrize("psid", ["2000000000000099", "2000000000000009"])
def test_profile_of_an_unknown_or_hidden_person_is_refused_like_facebook(
    base_url: str, psid: str
) -> None:
    answer = graph(base_url, "GET", psid, fields="first_name,last_name,name,profile_pic")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["error_subcode"]) == (
        "OAuthException",
        100,
        2018218,
    )
    assert error["message"] and error["fbtrace_id"]


def test_any_version_is_served(base_url: str) -> None:
    for version in ("v19.0", "v25.0", "v26.1"):
        answer = requests.get(
            f"{base_url}/{version}/me",
            timeout=5,
            params={"access_token": TOKEN, "fields": "id,name"},
        )
        assert answer.json() == {"id": PAGE_ID, "name": "Demo Shop"}
    assert requests.get(f"{base_url}/latest/me", timeout=5).status_code == 404


def test_me_with_a_page_token_is_that_page(base_url: str) -> None:
    answer = graph(base_url, "GET", "me", fields="id,name,picture").json()

    assert (answer["id"], answer["name"]) == (PAGE_ID, "Demo Shop")
    assert answer["picture"]["data"]["url"].endswith(f"/{PAGE_ID}.svg")


def test_subscribed_apps_post_get_delete(base_url: str) -> None:
    fields = "messages,message_echoes,feed"

    posted = graph(base_url, "POST", f"{PAGE_ID}/subscribed_apps", subscribed_fields=fields)
    listed = graph(base_url, "GET", f"{PAGE_ID}/subscribed_apps").json()
    deleted = graph(base_url, "DELETE", f"{PAGE_ID}/subscribed_apps")
    after = graph(base_url, "GET", f"{PAGE_ID}/subscribed_apps").json()

    assert posted.json() == {"success": True}
    assert listed["data"][0]["id"] == "900000000000001"
    assert listed["data"][0]["subscribed_fields"] == ["messages", "message_echoes", "feed"]
    assert deleted.json() == {"success": True}
    assert after == {"data": []}


def test_subscribed_fields_are_also_taken_from_the_query(base_url: str) -> None:
    answer = requests.post(
        f"{base_url}/v25.0/{PAGE_ID}/subscribed_apps",
        timeout=5,
        params={"access_token": TOKEN, "subscribed_fields": "messages,feed"},
    )

    assert answer.json() == {"success": True}
    listed = graph(base_url, "GET", f"{PAGE_ID}/subscribed_apps").json()
    assert listed["data"][0]["subscribed_fields"] == ["messages", "feed"]


def test_an_unknown_token_and_a_missing_token_are_refused(base_url: str) -> None:
    unknown = graph(base_url, "GET", "me", token="EAAnotissued")
    missing = requests.get(f"{base_url}/v25.0/me", timeout=5)

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, 190)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, 104)


def test_a_wrong_appsecret_proof_is_refused_and_none_is_accepted(base_url: str) -> None:
    wrong = requests.get(
        f"{base_url}/v25.0/me",
        timeout=5,
        params={"access_token": TOKEN, "appsecret_proof": proof(TOKEN, "another-secret")},
    )
    without = requests.get(f"{base_url}/v25.0/me", timeout=5, params={"access_token": TOKEN})

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, 100)
    assert without.status_code == 200


def test_an_expired_token_gets_code_190_on_every_call(base_url: str) -> None:
    expired = requests.post(
        f"{base_url}/_sandbox/tokens/expire", json={"page_id": PAGE_ID}, timeout=5
    )

    me = graph(base_url, "GET", "me")
    profile = graph(base_url, "GET", PSID)

    assert expired.json() == {"expired": 1}
    for answer in (me, profile):
        error = answer.json()["error"]
        assert (answer.status_code, error["type"], error["code"]) == (400, "OAuthException", 190)


def test_a_newly_issued_token_works(base_url: str) -> None:
    issued = requests.post(f"{base_url}/_sandbox/pages/{PAGE_ID}/tokens", timeout=5).json()

    assert graph(base_url, "GET", "me", token=issued["access_token"]).json()["id"] == PAGE_ID


@pytest.mark.parametrize("code", [4, 80006])
def test_an_injected_rate_limit_refuses_the_next_calls_then_clears(
    base_url: str, code: int
) -> None:
    requests.post(
        f"{base_url}/_sandbox/rate-limit", timeout=5, json={"code": code, "calls": 2, "minutes": 7}
    )

    first, second, third = (graph(base_url, "GET", "me") for _ in range(3))

    for answer in (first, second):
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, code)
        usage = json.loads(answer.headers["X-Business-Use-Case-Usage"])
        assert usage[PAGE_ID][0]["estimated_time_to_regain_access"] == 7
    assert third.status_code == 200


def test_a_rate_limit_without_count_lasts_until_cleared(base_url: str) -> None:
    requests.post(f"{base_url}/_sandbox/rate-limit", json={"code": 80006}, timeout=5)
    assert graph(base_url, "GET", "me").status_code == 400

    requests.delete(f"{base_url}/_sandbox/rate-limit", timeout=5)

    assert graph(base_url, "GET", "me").status_code == 200


def test_calls_are_recorded_without_the_token_and_can_be_reset(base_url: str) -> None:
    graph(base_url, "GET", PSID, fields="first_name,last_name,name,profile_pic")
    graph(base_url, "POST", f"{PAGE_ID}/subscribed_apps", subscribed_fields=["messages"])

    calls = requests.get(f"{base_url}/_sandbox/calls", timeout=5).json()["calls"]
    requests.delete(f"{base_url}/_sandbox/calls", timeout=5)
    after = requests.get(f"{base_url}/_sandbox/calls", timeout=5).json()["calls"]

    assert [(c["method"], c["path"], c["query"], c["json"], c["status"]) for c in calls] == [
        ("GET", f"/{PSID}", {"fields": "first_name,last_name,name,profile_pic"}, None, 200),
        ("POST", f"/{PAGE_ID}/subscribed_apps", {}, {"subscribed_fields": ["messages"]}, 200),
    ]
    assert all(c["page_id"] == PAGE_ID and c["appsecret_proof"] for c in calls)
    assert TOKEN not in json.dumps(calls)
    assert after == []


def test_send_api_returns_a_message_id_and_keeps_the_message(base_url: str) -> None:
    # Facebook lets a page message only someone who wrote to it (inside the window).
    requests.post(f"{base_url}/_sandbox/messenger/last-message", timeout=5,
                  json={"page_id": PAGE_ID, "psid": PSID, "hours_ago": 0})
    answer = graph(
        base_url,
        "POST",
        "me/messages",
        recipient={"id": PSID},
        messaging_type="RESPONSE",
        message={"text": "Hi"},
    )

    assert answer.json()["recipient_id"] == PSID
    outbox = requests.get(f"{base_url}/_sandbox/outbox", timeout=5).json()["messages"]
    assert [(m["mid"], m["message"]) for m in outbox] == [
        (answer.json()["message_id"], {"text": "Hi"})
    ]


def test_a_message_webhook_is_signed_and_shaped_like_facebook(
    base_url: str, receiver: _Receiver
) -> None:
    answer = requests.post(
        f"{base_url}/_sandbox/messages",
        timeout=5,
        json={"page_id": PAGE_ID, "psid": PSID, "text": "Olá! Envia para Lisboa? 🙂"},
    )

    assert answer.json()["statuses"] == [200]
    ((headers, raw),) = receiver.requests
    expected = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == "sha256=" + expected
    assert headers["Content-Type"] == "application/json"
    assert raw.isascii() and b"\\ud83d\\ude42" in raw
    body = json.loads(raw)
    entry = body["entry"][0]
    event = entry["messaging"][0]
    assert body["object"] == "page" and entry["id"] == PAGE_ID
    assert event["sender"] == {"id": PSID} and event["recipient"] == {"id": PAGE_ID}
    assert event["message"] == {
        "mid": answer.json()["mids"][0],
        "text": "Olá! Envia para Lisboa? 🙂",
    }
    assert event["timestamp"] <= entry["time"]


def test_text_and_image_arrive_as_two_messages(base_url: str, receiver: _Receiver) -> None:
    requests.post(
        f"{base_url}/_sandbox/messages",
        timeout=5,
        json={
            "page_id": PAGE_ID,
            "psid": PSID,
            "text": "See this",
            "image_url": "https://example.invalid/photo.jpg",
        },
    )

    messages = [
        json.loads(raw)["entry"][0]["messaging"][0]["message"] for _, raw in receiver.requests
    ]
    assert [m.get("text") for m in messages] == ["See this", None]
    assert messages[1]["attachments"] == [
        {"type": "image", "payload": {"url": "https://example.invalid/photo.jpg"}}
    ]
    assert b"https:\\/\\/example.invalid\\/photo.jpg" in receiver.requests[1][1]


def test_a_comment_webhook_is_signed_and_shaped_like_facebook(
    base_url: str, receiver: _Receiver
) -> None:
    answer = requests.post(
        f"{base_url}/_sandbox/comments",
        timeout=5,
        json={"page_id": PAGE_ID, "person_id": PSID, "text": "How much is shipping?"},
    ).json()

    ((headers, raw),) = receiver.requests
    assert (
        headers["X-Hub-Signature-256"]
        == "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    )
    entry = json.loads(raw)["entry"][0]
    change = entry["changes"][0]
    value = change["value"]
    assert change["field"] == "feed" and entry["id"] == PAGE_ID
    assert value["from"] == {"id": "2500000000000001", "name": "Alex Sample"}
    assert (value["item"], value["verb"], value["message"]) == (
        "comment",
        "add",
        "How much is shipping?",
    )
    assert value["post_id"] == value["parent_id"] == "100000000000001_300000000000001"
    assert value["comment_id"] == answer["comment_id"]
    assert value["comment_id"].startswith("300000000000001_")
    assert value["post"]["id"] == value["post_id"]
    # Feed times are epoch seconds, unlike Messenger's milliseconds.
    assert entry["time"] == value["created_time"] < 10**11


def test_the_sandbox_state_is_reachable_from_the_app(sandbox_app) -> None:
    sandbox = sandbox_of(sandbox_app)

    assert list(sandbox.pages) == [PAGE_ID]
    assert sandbox.pages[PAGE_ID].token == TOKEN


def test_sandbox_page_ids_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SANDBOX_PAGE_IDS", "100000000000001, 100000000000002")

    pages = sandbox_of(create_sandbox(app_secret=APP_SECRET)).pages

    assert list(pages) == ["100000000000001", "100000000000002"]
    assert pages["100000000000002"].post_ids == ["100000000000002_300000000000002"]


def test_the_player_page_is_served(base_url: str) -> None:
    answer = requests.get(f"{base_url}/sandbox/", timeout=5)

    assert answer.status_code == 200 and "<title>Facebook sandbox</title>" in answer.text


def test_encoding_matches_the_sample_bytes() -> None:
    sample = (Path(__file__).resolve().parents[3] / "shared" / "facebook" / "webhooks"
              / "24-standby-message.json")
    try:
        with open(sample, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        pytest.skip("the shared samples are not on this machine")

    assert encode_like_facebook(json.loads(raw)) == raw
