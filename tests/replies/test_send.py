"""Sending replies through the API: the exact Send API requests and what is stored."""

from __future__ import annotations

import re
from typing import Any

from tests.replies.conftest import (
    CONVERSATION,
    HOUR_MS,
    PAGE_A,
    PSID,
    contact_writes,
    hand_to,
    now_ms,
    send_calls,
)

SEND_PATH = "/v25.0/me/messages"


def reply(api: Any, persona: Any, body: dict[str, Any], conversation: str = CONVERSATION) -> Any:
    return api("POST", f"/api/conversations/{conversation}/messages", token=persona.token,
               body=body)


def stored(message_id: str) -> Any:
    from inbox.models import Message, conversation_pk, sk_from_message_id

    return Message.get(conversation_pk(CONVERSATION), sk_from_message_id(message_id))


def metadata(answer: Any, index: int = 0) -> str:
    return "inbox:" + answer.body["items"][index]["id"]


def test_text_reply_is_sent_as_a_response_and_stored_sent(api, personas, facebook,
                                                          conversation, published):
    answer = reply(api, personas["agent"], {"text": "Yes, we ship to Spain."})

    assert answer.status == 201
    (item,) = answer.body["items"]
    assert send_calls(facebook) == [{"method": "POST", "path": SEND_PATH, "json": {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Yes, we ship to Spain.", "metadata": metadata(answer)},
    }}]
    assert facebook.calls[0]["appsecret_proof"] is True
    mid = facebook.outbox[0]["mid"]
    assert (item["status"], item["facebook_id"], item["direction"], item["origin"]) == (
        "sent", mid, "out", "inbox")
    assert item["author_id"] == personas["agent"].member_id
    message = stored(item["id"])
    assert (message.send_status, message.facebook_id, message.text) == (
        "sent", mid, "Yes, we ship to Spain.")
    assert message.send_error is None and message.messaging_tag is None
    assert [e.name for e in published] == ["message.created", "message.status_changed"]
    assert published[1].detail == {"conversation_id": CONVERSATION, "page_id": PAGE_A,
                                   "message_id": item["id"], "status": "sent",
                                   "facebook_id": mid}


def test_the_conversation_shows_the_reply_as_its_latest(api, personas, conversation):
    from inbox.models import CONVERSATION_SK, Conversation, conversation_pk

    assert Conversation.get(conversation_pk(CONVERSATION), CONVERSATION_SK).awaiting_reply_since

    reply(api, personas["agent"], {"text": "On its way"})

    # The contact has an answer: routing's unanswered hand-back no longer applies.
    assert Conversation.get(conversation_pk(CONVERSATION),
                            CONVERSATION_SK).awaiting_reply_since is None

    shown = api("GET", f"/api/conversations/{CONVERSATION}", token=personas["agent"].token)

    assert shown.body["last_message_preview"] == "On its way"
    assert shown.body["last_message_direction"] == "out"
    assert shown.body["window"]["state"] == "open"


def test_each_media_kind_goes_by_a_short_lived_url_of_the_upload(api, personas, facebook,
                                                                 conversation, stack):
    kinds = {"image": "image/jpeg", "audio": "audio/mpeg", "video": "video/mp4",
             "file": "application/pdf"}
    for kind, content_type in kinds.items():
        upload = api("POST", "/api/uploads", token=personas["agent"].token,
                     body={"content_type": content_type, "filename": f"a {kind}.bin",
                           "size": 1000})
        assert upload.status == 200, upload.body
        assert upload.body["attachment_type"] == kind
        assert upload.body["fields"]["Content-Type"] == content_type
        media_url = upload.body["media_url"]
        assert media_url.startswith(f"s3://{stack['MEDIA_BUCKET']}/uploads/")
        put_upload(stack, media_url, content_type)

        answer = reply(api, personas["agent"], {"attachments": [{"type": kind,
                                                                 "url": media_url}]})

        assert answer.status == 201, answer.body
        body = facebook.calls[-1]["json"]
        attachment = body["message"]["attachment"]
        assert body["messaging_type"] == "RESPONSE"
        assert attachment["type"] == kind
        assert attachment["payload"]["is_reusable"] is False
        key = media_url.split("/", 3)[3]
        url = attachment["payload"]["url"]
        assert url.startswith(f"https://{stack['MEDIA_BUCKET']}.s3.amazonaws.com/{key}?")
        assert re.search(r"X-Amz-Expires=900&", url) and "X-Amz-Signature=" in url
        assert body["message"]["metadata"] == metadata(answer)
        (item,) = answer.body["items"]
        assert (item["type"], item["status"]) == ("attachment", "sent")
        # The member's screen opens the upload through a short-lived signed link.
        (shown,) = item["attachments"]
        assert shown.pop("url").startswith(
            f"https://{stack['MEDIA_BUCKET']}.s3.amazonaws.com/{key}?")
        assert shown == {"type": kind, "title": None, "payload": None,
                         "original_url": media_url, "media_status": None,
                         "media_error": None, "content_type": None, "size": None}
    assert len(facebook.calls) == 4


def put_upload(stack: Any, media_url: str, content_type: str) -> None:
    """What the browser does with the pre-signed POST: the file lands in the bucket."""
    import boto3

    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=stack["MEDIA_BUCKET"], Key=media_url.split("/", 3)[3], Body=b"x" * 1000,
        ContentType=content_type)


def _upload_slot(api: Any, personas: Any, content_type: str) -> str:
    answer = api("POST", "/api/uploads", token=personas["agent"].token,
                 body={"content_type": content_type, "filename": "photo.png", "size": 1000})
    return str(answer.body["media_url"])


def test_a_reply_naming_an_upload_that_never_arrived_is_refused_before_facebook(
        api, personas, facebook, conversation, stack):
    media_url = _upload_slot(api, personas, "image/png")

    answer = reply(api, personas["agent"], {"attachments": [{"type": "image",
                                                             "url": media_url}]})

    assert (answer.status, answer.body["code"]) == (422, "invalid_input")
    assert answer.body["field"] == "attachments[0].url"
    assert facebook.calls == []


def test_an_upload_sent_as_another_kind_is_refused_with_its_type(
        api, personas, facebook, conversation, stack):
    media_url = _upload_slot(api, personas, "image/png")
    put_upload(stack, media_url, "image/png")

    answer = reply(api, personas["agent"], {"attachments": [{"type": "video",
                                                             "url": media_url}]})

    assert (answer.status, answer.body["code"]) == (422, "invalid_input")
    assert (answer.body["field"], answer.body["content_type"]) == (
        "attachments[0].type", "image/png")
    assert facebook.calls == []
    # Any upload may go as a plain file.
    assert reply(api, personas["agent"], {"attachments": [{"type": "file",
                                                           "url": media_url}]}).status == 201


def test_text_with_two_attachments_is_three_messages_in_order(api, personas, facebook,
                                                              conversation):
    answer = reply(api, personas["agent"], {
        "text": "Here are the photos",
        "attachments": [{"type": "image", "url": "https://cdn.example.com/a.jpg"},
                        {"type": "image", "url": "https://cdn.example.com/b.jpg"}],
    })

    assert [i["status"] for i in answer.body["items"]] == ["sent", "sent", "sent"]
    assert [c["json"]["message"].get("text") or c["json"]["message"]["attachment"]["payload"]
            ["url"] for c in facebook.calls] == [
        "Here are the photos", "https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    ids = [i["id"] for i in answer.body["items"]]
    assert ids == sorted(ids)


def test_quick_replies_ride_on_the_message(api, personas, facebook, conversation):
    quick = [{"content_type": "text", "title": "Track order", "payload": "QR_TRACK"},
             {"content_type": "text", "title": "Returns", "payload": "QR_RETURNS",
              "image_url": "https://cdn.example.com/r.png"},
             {"content_type": "user_email"}]

    answer = reply(api, personas["agent"], {"text": "What do you need?",
                                            "quick_replies": quick})

    assert send_calls(facebook)[0]["json"]["message"] == {
        "text": "What do you need?",
        "quick_replies": [
            {"content_type": "text", "title": "Track order", "payload": "QR_TRACK"},
            {"content_type": "text", "title": "Returns", "payload": "QR_RETURNS",
             "image_url": "https://cdn.example.com/r.png"},
            {"content_type": "user_email"},
        ],
        "metadata": metadata(answer),
    }
    assert stored(answer.body["items"][0]["id"]).quick_replies[2] == {
        "content_type": "user_email"}


def test_more_than_13_quick_replies_are_refused_before_anything(api, personas, facebook,
                                                                conversation, published):
    quick = [{"content_type": "text", "title": f"Q{i}", "payload": f"P{i}"} for i in range(14)]

    answer = reply(api, personas["agent"], {"text": "Pick one", "quick_replies": quick})

    assert answer.status == 422
    assert facebook.calls == [] and published == []


def test_products_go_as_one_generic_template_carousel(api, personas, facebook, conversation):
    owner = personas["owner"].token
    api("POST", "/api/catalog/products", token=owner, body={
        "product_id": "SNEAKER", "title": "Fake Sneaker", "subtitle": "sizes 38-45",
        "price": "49", "currency": "EUR", "image_url": "https://cdn.example.com/s.jpg",
        "url": "https://shop.example.com/p/sneaker",
        "buttons": [{"type": "web_url", "title": "View",
                     "url": "https://shop.example.com/p/sneaker"},
                    {"type": "postback", "title": "Add to cart", "payload": "ADD:SNEAKER"},
                    {"type": "phone_number", "title": "Call us", "payload": "+34000000000"}]})
    api("POST", "/api/catalog/products", token=owner, body={
        "product_id": "BOOT", "title": "Fake Boot", "price": "79.5", "currency": "eur",
        "url": "https://shop.example.com/p/boot"})

    answer = reply(api, personas["agent"], {"product_ids": ["SNEAKER", "BOOT"]})

    assert answer.status == 201, answer.body
    assert send_calls(facebook)[0]["json"] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"attachment": {"type": "template", "payload": {
            "template_type": "generic",
            "elements": [
                {"title": "Fake Sneaker", "image_url": "https://cdn.example.com/s.jpg",
                 "subtitle": "EUR 49.00 - sizes 38-45",
                 "default_action": {"type": "web_url",
                                    "url": "https://shop.example.com/p/sneaker",
                                    "webview_height_ratio": "tall"},
                 "buttons": [
                     {"type": "web_url", "url": "https://shop.example.com/p/sneaker",
                      "title": "View"},
                     {"type": "postback", "title": "Add to cart", "payload": "ADD:SNEAKER"},
                     {"type": "phone_number", "title": "Call us", "payload": "+34000000000"},
                 ]},
                {"title": "Fake Boot", "subtitle": "EUR 79.50",
                 "default_action": {"type": "web_url", "url": "https://shop.example.com/p/boot",
                                    "webview_height_ratio": "tall"},
                 "buttons": [{"type": "web_url", "url": "https://shop.example.com/p/boot",
                              "title": "View"}]},
            ]}}, "metadata": metadata(answer)},
    }
    assert answer.body["items"][0]["attachments"][0]["type"] == "template"


def test_an_unknown_product_is_not_found_and_nothing_is_sent(api, personas, facebook,
                                                             conversation):
    answer = reply(api, personas["agent"], {"product_ids": ["NOPE"]})

    assert (answer.status, answer.body["missing"]) == (404, ["NOPE"])
    assert facebook.calls == []


def test_typing_and_seen_markers_are_sender_actions_alone(api, personas, facebook,
                                                          conversation):
    token = personas["agent"].token
    on = api("POST", f"/api/conversations/{CONVERSATION}/typing", token=token, body={})
    off = api("POST", f"/api/conversations/{CONVERSATION}/typing", token=token,
              body={"on": False})
    seen = api("POST", f"/api/conversations/{CONVERSATION}/seen", token=token)

    assert (on.status, off.status, seen.status) == (204, 204, 204)
    assert [c["json"] for c in send_calls(facebook)] == [
        {"recipient": {"id": PSID}, "sender_action": "typing_on"},
        {"recipient": {"id": PSID}, "sender_action": "typing_off"},
        {"recipient": {"id": PSID}, "sender_action": "mark_seen"},
    ]


def test_after_24_hours_a_member_replies_with_the_human_agent_tag(api, personas, facebook,
                                                                  page_a, stack):
    contact_writes(facebook, stack, at_ms=now_ms() - 30 * HOUR_MS)
    hand_to(personas["agent"].member_id)
    facebook.reset_calls()

    answer = reply(api, personas["agent"], {"text": "Sorry for the delay",
                                            "tag": "HUMAN_AGENT"})

    assert answer.status == 201, answer.body
    assert send_calls(facebook)[0]["json"] == {
        "recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
        "message": {"text": "Sorry for the delay", "metadata": metadata(answer)}}
    assert answer.body["items"][0]["tag"] == "HUMAN_AGENT"
    assert stored(answer.body["items"][0]["id"]).messaging_tag == "HUMAN_AGENT"


def test_after_24_hours_without_a_tag_is_refused_before_any_call(api, personas, facebook,
                                                                 page_a, stack, published,
                                                                 aws_calls):
    contact_writes(facebook, stack, at_ms=now_ms() - 30 * HOUR_MS)
    hand_to(personas["agent"].member_id)
    facebook.reset_calls()
    published.clear()
    aws_calls.recording = True

    answer = reply(api, personas["agent"], {"text": "Hello?"})

    assert answer.status == 422
    assert answer.body["code"] == "messaging_window_closed"
    assert (answer.body["reason"], answer.body["allowed_tags"], answer.body["window"]) == (
        "tag_required", ["HUMAN_AGENT"], "human_agent")
    assert facebook.calls == [] and published == [] and aws_calls.writes() == []


def test_after_7_days_nothing_is_allowed_and_the_refusal_says_why(api, personas, facebook,
                                                                  page_a, stack):
    contact_writes(facebook, stack, at_ms=now_ms() - 8 * 24 * HOUR_MS)
    hand_to(personas["agent"].member_id)
    facebook.reset_calls()

    answer = reply(api, personas["agent"], {"text": "Still there?", "tag": "HUMAN_AGENT"})

    assert (answer.status, answer.body["reason"], answer.body["allowed_tags"]) == (
        422, "window_closed", [])
    assert "utility message templates" in answer.body["note"]
    assert facebook.calls == []


def test_a_retired_tag_is_refused_by_name(api, personas, facebook, conversation):
    answer = reply(api, personas["agent"], {"text": "Your order shipped",
                                            "tag": "POST_PURCHASE_UPDATE"})

    assert (answer.status, answer.body["reason"]) == (422, "tag_retired")
    assert answer.body["allowed_tags"] == ["HUMAN_AGENT"]
    assert facebook.calls == []


def test_a_member_who_cannot_see_the_conversation_gets_404(api, personas, facebook,
                                                           conversation, stack):
    from inbox.models import MEMBERS_PK, Member

    agent = Member.get(MEMBERS_PK, personas["agent"].member_id)
    agent.update(actions=[Member.page_ids.set({"100000000000002"})])

    answer = reply(api, personas["agent"], {"text": "Hi"})

    assert (answer.status, answer.body["code"]) == (404, "not_found")
    assert facebook.calls == []


def test_the_echo_of_a_sent_reply_adds_nothing(api, personas, facebook, conversation, stack):
    from inbox.models import Message, conversation_pk

    from tests.replies.conftest import deliver_page_webhooks

    answer = reply(api, personas["agent"], {"text": "Yes, we ship to Spain."})
    before = [m.attribute_values for m in Message.query(conversation_pk(CONVERSATION),
                                                        Message.sk.startswith("MSG#"))]

    assert deliver_page_webhooks(facebook, stack) == 1
    after = [m.attribute_values for m in Message.query(conversation_pk(CONVERSATION),
                                                       Message.sk.startswith("MSG#"))]

    assert after == before
    messages = api("GET", f"/api/conversations/{CONVERSATION}/messages",
                   token=personas["agent"].token).body["items"]
    assert [(m["direction"], m["status"]) for m in messages] == [("out", "sent"),
                                                                ("in", "received")]
    assert messages[0]["id"] == answer.body["items"][0]["id"]


def test_an_echo_before_the_answer_fills_the_id_once(api, personas, facebook, conversation,
                                                     stack):
    """Facebook may deliver the echo before the Send API answers: the id is not written twice."""
    from inbox.models import Message, conversation_pk

    from infra.local.sandbox import encode_like_facebook
    from tests.ingest.helpers import drain, post_webhook
    from tests.replies.conftest import APP_SECRET

    answer = reply(api, personas["agent"], {"text": "Hello"})
    message = stored(answer.body["items"][0]["id"])
    body = facebook.take_page_webhooks()[0]
    echo = body["entry"][0]["messaging"][0]["message"]
    assert echo["metadata"] == metadata(answer)
    assert echo["app_id"] == 900000000000001 and echo["is_echo"] is True
    # Replay the same echo twice: redelivery is Facebook's normal behaviour.
    for _ in range(2):
        post_webhook(encode_like_facebook(body), sign_with=APP_SECRET)
    drain(stack)

    assert len(list(Message.query(conversation_pk(CONVERSATION),
                                  Message.sk.startswith("MSG#")))) == 2
    assert stored(answer.body["items"][0]["id"]).facebook_id == message.facebook_id
