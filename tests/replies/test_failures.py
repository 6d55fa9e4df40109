"""Every way a send fails: what Facebook was asked, what is stored, what is refused next."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.replies.conftest import CONVERSATION, HOUR_MS, PAGE_A, PSID, now_ms


def reply(api: Any, persona: Any, text: str = "Hello", **extra: Any) -> Any:
    return api("POST", f"/api/conversations/{CONVERSATION}/messages", token=persona.token,
               body={"text": text, **extra})


def retry_path(message_id: str) -> str:
    return f"/api/conversations/{CONVERSATION}/messages/{quote(message_id, safe='')}/retry"


def stored(message_id: str) -> Any:
    from inbox.models import Message, conversation_pk, sk_from_message_id

    return Message.get(conversation_pk(CONVERSATION), sk_from_message_id(message_id))


def test_a_rate_limit_is_retried_and_the_send_succeeds(api, personas, facebook, conversation,
                                                       waits):
    facebook.set_rate_limit(code=80006, calls=1, minutes=0, page_id=PAGE_A)

    answer = reply(api, personas["agent"])

    assert [c["status"] for c in facebook.calls] == [400, 200]
    assert facebook.calls[0]["json"] == facebook.calls[1]["json"]
    assert len(waits) == 1 and 0 < waits[0] <= 2
    assert answer.body["items"][0]["status"] == "sent"


def test_a_rate_limit_that_lasts_fails_the_message_with_its_code(api, personas, facebook,
                                                                 conversation, waits,
                                                                 published):
    facebook.set_rate_limit(code=613, minutes=0, page_id=PAGE_A)

    answer = reply(api, personas["agent"])

    assert len(facebook.calls) == 3 and len(waits) == 2
    (item,) = answer.body["items"]
    assert (answer.status, item["status"]) == (201, "failed")
    assert item["error"]["code"] == "graph_rate_limited"
    assert item["error"]["graph_code"] == 613
    assert stored(item["id"]).send_error["graph_code"] == 613
    assert published[-1].detail["status"] == "failed"


def test_a_long_throttle_is_not_waited_for_inside_the_request(api, personas, facebook,
                                                              conversation, waits):
    facebook.set_rate_limit(code=80006, minutes=5, page_id=PAGE_A)

    answer = reply(api, personas["agent"])

    # The usage header says 5 minutes: calling again meanwhile would only count against us.
    assert len(facebook.calls) == 1 and waits == []
    assert answer.body["items"][0]["error"]["retry_after"] == 300


def test_an_expired_token_flags_the_page_and_refuses_later_sends(api, personas, facebook,
                                                                 conversation, published,
                                                                 aws_calls):
    from inbox.models import PAGES_PK, Page

    facebook.expire_token(page_id=PAGE_A)

    first = reply(api, personas["agent"])

    (item,) = first.body["items"]
    assert item["status"] == "failed"
    assert (item["error"]["code"], item["error"]["graph_code"], item["error"]["graph_subcode"],
            item["error"]["reason"]) == ("page_token_invalid", 190, 463, "reconnect_needed")
    assert Page.get(PAGES_PK, PAGE_A).reconnect_needed is True
    flagged = [e for e in published if e.name == "page.reconnect_needed"]
    assert [e.detail for e in flagged] == [{"page_id": PAGE_A, "graph_code": 190,
                                            "graph_subcode": 463}]
    pages = api("GET", "/api/pages", token=personas["owner"].token).body["items"]
    assert [p["reconnect_needed"] for p in pages if p["id"] == PAGE_A] == [True]

    facebook.reset_calls()
    published.clear()
    aws_calls.recording = True
    second = reply(api, personas["agent"], "Again")
    typing = api("POST", f"/api/conversations/{CONVERSATION}/typing",
                 token=personas["agent"].token, body={})

    assert (second.status, second.body["code"], second.body["reason"]) == (
        409, "page_token_invalid", "reconnect_needed")
    assert typing.status == 409
    assert facebook.calls == [] and published == [] and aws_calls.writes() == []


def test_reconnecting_the_page_clears_the_flag_and_sends_again(api, personas, facebook,
                                                               conversation):
    facebook.expire_token(page_id=PAGE_A)
    failed = reply(api, personas["agent"]).body["items"][0]

    connected = api("POST", "/api/pages", token=personas["owner"].token,
                    body={"access_token": facebook.issue_token(PAGE_A)})
    retried = api("POST", retry_path(failed["id"]),
                  token=personas["agent"].token)

    assert connected.body["reconnect_needed"] is False
    assert (retried.status, retried.body["status"], retried.body["error"]) == (200, "sent",
                                                                               None)
    assert stored(failed["id"]).send_error is None


def test_facebook_refusing_the_window_fails_the_message(api, personas, facebook,
                                                        conversation):
    # The inbox thinks the window is open; Facebook knows of nothing for 2 days.
    facebook.set_last_message(PAGE_A, PSID, now_ms() - 48 * HOUR_MS)

    item = reply(api, personas["agent"]).body["items"][0]

    assert (item["status"], item["error"]["code"], item["error"]["graph_code"],
            item["error"]["graph_subcode"]) == ("failed", "graph_outside_window", 10, 2018278)


def test_a_person_who_blocked_the_page_is_unavailable(api, personas, facebook, conversation):
    facebook.set_unavailable(PAGE_A, PSID)

    item = reply(api, personas["agent"]).body["items"][0]

    assert (item["error"]["code"], item["error"]["graph_code"],
            item["error"]["graph_subcode"]) == ("graph_user_unavailable", 551, 1545041)
    assert len(facebook.calls) == 1


def test_an_invalid_parameter_is_not_retried(api, personas, facebook, conversation, waits):
    facebook.fail_sends(100, "(#100) Param message[attachment][payload][url] is invalid",
                        subcode=2018047)

    item = reply(api, personas["agent"]).body["items"][0]

    assert (item["error"]["code"], item["error"]["graph_code"]) == (
        "graph_invalid_parameter", 100)
    assert item["error"]["message"] == "(#100) Param message[attachment][payload][url] is " \
                                       "invalid"
    assert len(facebook.calls) == 1 and waits == []


def test_a_missing_permission_is_its_own_error(api, personas, facebook, conversation):
    facebook.fail_sends(200, "(#200) The page lacks the pages_messaging permission")

    item = reply(api, personas["agent"]).body["items"][0]

    assert (item["error"]["code"], item["error"]["graph_code"]) == (
        "graph_permission_missing", 200)


def test_a_failed_part_leaves_the_rest_of_the_reply_unsent(api, personas, facebook,
                                                           conversation):
    facebook.fail_sends(100, "(#100) Invalid parameter")

    answer = reply(api, personas["agent"], "Photos:",
                   attachments=[{"type": "image", "url": "https://cdn.example.com/a.jpg"}])

    assert [i["status"] for i in answer.body["items"]] == ["failed", "failed"]
    assert len(facebook.calls) == 1


def test_retry_resends_a_failed_reply_with_the_same_request(api, personas, facebook,
                                                            conversation):
    facebook.fail_sends(2, "(#2) Service temporarily unavailable", calls=3)
    failed = reply(api, personas["agent"], quick_replies=[
        {"content_type": "text", "title": "Yes", "payload": "Y"}]).body["items"][0]
    first_body = facebook.calls[0]["json"]

    again = api("POST", retry_path(failed["id"]),
                token=personas["agent"].token)

    assert failed["status"] == "failed" and len(facebook.calls) == 4
    assert facebook.calls[-1]["json"] == first_body
    assert (again.status, again.body["status"]) == (200, "sent")
    assert again.body["facebook_id"] == facebook.outbox[-1]["mid"]


def test_only_a_failed_reply_can_be_retried(api, personas, facebook, conversation):
    sent = reply(api, personas["agent"]).body["items"][0]

    again = api("POST", retry_path(sent["id"]),
                token=personas["agent"].token)
    missing = api("POST", retry_path("123#x"),
                  token=personas["agent"].token)

    assert (again.status, again.body["code"]) == (409, "conflict")
    assert missing.status == 404
    assert len(facebook.calls) == 1


def test_a_reply_costs_three_writes_one_graph_call_and_two_events(api, personas, facebook,
                                                                  conversation, published,
                                                                  aws_calls):
    aws_calls.recording = True

    reply(api, personas["agent"], "Yes, we ship to Spain.")

    # The message (pending), the conversation's activity, the outcome (sent + mid).
    assert aws_calls.writes() == ["PutItem", "UpdateItem", "UpdateItem"]
    # The member (auth), the conversation (access), the page (reconnect flag); the page
    # token is read once per process and cached.
    assert aws_calls.dynamodb("GetItem", "Query", "Scan", "BatchGetItem") == [
        "GetItem", "GetItem", "GetItem"]
    assert len(facebook.calls) == 1
    assert [e.name for e in published] == ["message.created", "message.status_changed"]



def test_the_sandbox_takes_messenger_faults_over_http():
    """`make dev` users play the same faults through the sandbox's control routes."""
    from infra.local.sandbox import create_sandbox, page_token_for, sandbox_of

    app = create_sandbox(app_secret="s")
    client, state = app.test_client(), sandbox_of(app)
    token = page_token_for("100000000000001")
    send = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
            "message": {"text": "Hi"}}

    client.post("/_sandbox/messenger/last-message",
                json={"page_id": "100000000000001", "psid": PSID, "hours_ago": 30})
    late = client.post(f"/v25.0/me/messages?access_token={token}", json=send)
    client.post("/_sandbox/messenger/last-message",
                json={"page_id": "100000000000001", "psid": PSID, "hours_ago": 1})
    client.post("/_sandbox/send-failures", json={"code": 100, "message": "(#100) Bad"})
    refused = client.post(f"/v25.0/me/messages?access_token={token}", json=send)
    client.post("/_sandbox/messenger/unavailable",
                json={"page_id": "100000000000001", "psid": PSID})
    blocked = client.post(f"/v25.0/me/messages?access_token={token}", json=send)

    assert (late.status_code, late.json["error"]["error_subcode"]) == (400, 2018278)
    assert refused.json["error"]["code"] == 100
    assert (blocked.json["error"]["code"], blocked.json["error"]["error_subcode"]) == (
        551, 1545041)
    assert state.outbox == []
