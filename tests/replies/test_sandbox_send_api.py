"""The sandbox's Send API refuses what Facebook refuses, with Facebook's codes (§5.1-5.7)."""

from __future__ import annotations

import time

import pytest

from infra.local.sandbox import create_sandbox, page_token_for, sandbox_of

PAGE = "100000000000001"
PSID = "2000000000000001"
HOUR = 3600 * 1000


def text(**extra):
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
            "message": {"text": "Hi"}, **extra}


def generic(count):
    elements = [{"title": f"Card {i}"} for i in range(count)]
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {
        "attachment": {"type": "template",
                       "payload": {"template_type": "generic", "elements": elements}}}}


CASES = [
    # body, hours since the person's last message, expected (code, subcode) or None
    (text(), 1, None),
    (text(), 25, (10, 2018278)),
    ({**text(), "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, 25, None),
    ({**text(), "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, 24 * 7 + 1,
     (10, 2018278)),
    ({**text(), "messaging_type": "MESSAGE_TAG", "tag": "POST_PURCHASE_UPDATE"}, 1, (100, None)),
    ({**text(), "messaging_type": "MESSAGE_TAG", "tag": "SHIPPING_UPDATE"}, 1, (100, None)),
    ({**text(), "messaging_type": "MESSAGE_TAG"}, 1, (100, None)),
    ({**text(), "tag": "HUMAN_AGENT"}, 1, (100, None)),
    ({"recipient": {"id": PSID}, "message": {"text": "Hi"}}, 1, (100, None)),
    ({**text(), "message": {"text": "x" * 2001}}, 1, (100, None)),
    ({**text(), "message": {"text": "Hi", "attachment": {"type": "image"}}}, 1, (100, None)),
    ({**text(), "message": {"text": "Pick", "quick_replies": [
        {"content_type": "text", "title": f"Q{i}", "payload": "P"} for i in range(14)]}}, 1,
     (100, None)),
    ({**text(), "message": {"attachment": {"type": "image", "payload": {"url": "ftp://x"}}}},
     1, (100, 2018008)),
    (generic(10), 1, None),
    (generic(11), 1, (100, None)),
    ({"recipient": {"id": PSID}, "sender_action": "typing_on"}, 1, None),
    ({"recipient": {"id": PSID}, "sender_action": "typing_on"}, 25, (10, 2018278)),
    ({"recipient": {"id": PSID}, "sender_action": "mark_seen", "message": {"text": "x"}}, 1,
     (100, None)),
    ({"recipient": {"id": PSID}, "sender_action": "wave"}, 1, (100, None)),
]


@pytest.mark.parametrize(("body", "hours", "refusal"), CASES)
def test_send_api_rules(body, hours, refusal):
    app = create_sandbox(app_secret="s")
    sandbox_of(app).set_last_message(PAGE, PSID, int(time.time() * 1000) - hours * HOUR)

    answer = app.test_client().post(f"/v25.0/me/messages?access_token={page_token_for(PAGE)}",
                                    json=body)

    if refusal is None:
        assert answer.status_code == 200, answer.json
        assert answer.json["recipient_id"] == PSID
        assert ("message_id" in answer.json) == ("sender_action" not in body)
    else:
        error = answer.json["error"]
        assert (answer.status_code, error["code"], error.get("error_subcode")) == (
            400, *refusal)


def test_a_send_echoes_back_with_the_app_id_and_metadata():
    app = create_sandbox(app_secret="s")
    state = sandbox_of(app)
    state.set_last_message(PAGE, PSID, int(time.time() * 1000))
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {
        "attachment": {"type": "image", "payload": {"url": "https://x/y.jpg",
                                                    "is_reusable": False}},
        "metadata": "inbox:123"}}

    answer = app.test_client().post(f"/v25.0/me/messages?access_token={page_token_for(PAGE)}",
                                    json=body)

    (webhook,) = state.take_page_webhooks()
    (event,) = webhook["entry"][0]["messaging"]
    assert (event["sender"], event["recipient"]) == ({"id": PAGE}, {"id": PSID})
    assert event["message"] == {"is_echo": True, "app_id": 900000000000001,
                                "mid": answer.json["message_id"], "metadata": "inbox:123",
                                "attachments": [{"type": "image",
                                                 "payload": {"url": "https://x/y.jpg"}}]}
