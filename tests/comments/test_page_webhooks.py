"""The page's own webhooks as Facebook sends them: signed, after the answer, sometimes first."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, request
from werkzeug.serving import make_server

from tests.api.conftest import APP_SECRET
from tests.comments.helpers import (
    comment,
    conversation_of,
    deliver_page_webhooks,
    messages,
)
from tests.ingest.helpers import drain, post_webhook


def _receiver() -> tuple[str, list[tuple[bytes, dict[str, str]]], Any]:
    """A webhook URL that keeps what it is sent, as the product's function URL would get it."""
    received: list[tuple[bytes, dict[str, str]]] = []
    app = Flask("receiver")

    @app.post("/webhooks/facebook")
    def hook() -> str:
        received.append((request.get_data(), dict(request.headers)))
        return "EVENT_RECEIVED"

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}/webhooks/facebook", received, stop


def test_with_a_webhook_url_the_reply_webhook_arrives_signed_and_adds_nothing(
        api, stack, facebook, page_a, personas):
    from infra.local.sandbox import sign

    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    url, received, stop = _receiver()
    facebook.webhook_url = url
    try:
        answer = api("POST", f"/api/conversations/{conversation_of()}/comments/{comment_id}/"
                     "reply", token=owner.token, body={"text": "See https://shop.example/p"})
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()

    assert answer.status == 200, answer.body
    [(raw, headers)] = received
    assert headers["X-Hub-Signature-256"] == sign(APP_SECRET, raw)["X-Hub-Signature-256"]
    # Facebook's byte style: `/` escaped inside strings.
    assert b"https:\\/\\/shop.example\\/p" in raw
    before = messages(api, owner.token, conversation_of())
    assert post_webhook(raw, sign_with=APP_SECRET)["statusCode"] == 200
    drain(stack)
    assert messages(api, owner.token, conversation_of()) == before


def test_a_reply_whose_webhook_overtakes_the_answer_is_still_shown_once(
        api, stack, facebook, page_a, personas, monkeypatch):
    from inbox.actions import comments

    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    mark_sent = comments._mark_reply_sent

    def webhook_first(reply: Any, facebook_id: str) -> Any:
        # Ingested before the inbox records Facebook's answer: stored as the page's comment.
        deliver_page_webhooks(stack, facebook)
        return mark_sent(reply, facebook_id)

    monkeypatch.setattr(comments, "_mark_reply_sent", webhook_first)

    answer = api("POST", f"/api/conversations/{conversation_of()}/comments/{comment_id}/reply",
                 token=owner.token, body={"text": "4.90 EUR"})

    assert answer.status == 200, answer.body
    # The copy ingestion stored (keyed by the comment id) became ours; the pending one went.
    assert answer.body["id"].endswith("~" + answer.body["facebook_id"])
    outbound = [m for m in messages(api, owner.token, conversation_of())
                if m["direction"] == "out"]
    assert [(m["id"], m["facebook_id"], m["origin"], m["author_id"], m["status"])
            for m in outbound] == [(answer.body["id"], answer.body["facebook_id"], "inbox",
                                    owner.member_id, "sent")]


def test_a_reply_recorded_while_its_webhook_is_being_ingested_is_shown_once(
        api, stack, facebook, page_a, personas, monkeypatch):
    from inbox.actions import comments, inbound

    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    mark_sent, find_alias = comments._mark_reply_sent, inbound._alias
    recorded: list[Any] = []

    def answer_during_ingest(reply: Any, facebook_id: str) -> Any:
        def stale_alias(wanted: str) -> Any:
            if wanted == facebook_id and not recorded:
                # Ingestion looked and found nothing; then the answer is recorded.
                recorded.append(mark_sent(reply, facebook_id))
                return None
            return find_alias(wanted)

        monkeypatch.setattr(inbound, "_alias", stale_alias)
        deliver_page_webhooks(stack, facebook)
        return recorded[0]

    monkeypatch.setattr(comments, "_mark_reply_sent", answer_during_ingest)

    answer = api("POST", f"/api/conversations/{conversation_of()}/comments/{comment_id}/reply",
                 token=owner.token, body={"text": "Yes, in red too!"})

    assert answer.status == 200, answer.body
    outbound = [m for m in messages(api, owner.token, conversation_of())
                if m["direction"] == "out"]
    assert [(m["id"], m["origin"], m["status"]) for m in outbound] == [
        (answer.body["id"], "inbox", "sent")]
