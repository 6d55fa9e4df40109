"""Private replies: one Messenger message per comment, within 7 days, linking both threads."""

from __future__ import annotations

import time

from tests.api.conftest import PAGE_A
from tests.comments.helpers import (
    ALEX_PSID,
    comment,
    conversation_of,
    deliver_page_webhooks,
    graph_calls,
    messages,
    names,
    stored_comment,
)

MESSENGER = f"m{PAGE_A}_{ALEX_PSID}"
DAY = 24 * 3600


def _path(comment_id: str) -> str:
    return f"/api/conversations/{conversation_of()}/comments/{comment_id}/private-reply"


def test_private_reply_goes_to_messenger_and_links_both_conversations(
        api, stack, facebook, page_a, personas, published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    published.clear()

    answer = api("POST", _path(comment_id), token=owner.token,
                 body={"text": "Hi Alex, here is our price list."})

    assert answer.status == 200, answer.body
    sent = answer.body
    assert graph_calls(facebook) == [
        ("POST", f"/v25.0/{PAGE_A}/messages", {},
         {"recipient": {"comment_id": comment_id},
          "message": {"text": "Hi Alex, here is our price list."},
          "metadata": f"inbox:{sent['id']}"}),
    ]
    [delivered] = facebook.outbox
    assert (sent["conversation_id"], sent["facebook_id"], sent["direction"], sent["origin"],
            sent["type"], sent["status"], sent["author_id"], sent["parent_comment_id"]) == (
        MESSENGER, delivered["mid"], "out", "inbox", "text", "sent", owner.member_id,
        comment_id)

    commented = api("GET", f"/api/conversations/{conversation_of()}", token=owner.token).body
    messenger = api("GET", f"/api/conversations/{MESSENGER}", token=owner.token).body
    assert commented["messenger_conversation_id"] == MESSENGER
    assert messenger["comment_conversation_ids"] == [conversation_of()]
    assert (messenger["channel"], messenger["contact_name"]) == ("messenger", "Alex Sample")
    # Facebook lets the page send nothing more until the person answers.
    assert messenger["window"]["state"] == "closed"
    reply_state = stored_comment(api, owner.token, conversation_of(), comment_id)["private_reply"]
    assert (reply_state["status"], reply_state["conversation_id"],
            reply_state["message_id"]) == ("sent", MESSENGER, sent["id"])
    # A new conversation is routed as one opened by a message would be; routing's own events
    # are its tests' business.
    ours = [n for n in names(published) if n != "conversation.assigned"]
    assert ours == ["contact.created", "conversation.created", "message.created",
                    "conversation.updated", "conversation.updated", "message.updated"]
    assert [e.detail["change"] for e in published if e.name.endswith("updated")] == [
        "linked", "linked", "private_reply"]


def test_the_echo_of_a_private_reply_adds_nothing(api, stack, facebook, page_a, personas,
                                                  published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})
    before = messages(api, owner.token, MESSENGER)
    published.clear()

    [echo] = deliver_page_webhooks(stack, facebook)

    assert echo["entry"][0]["messaging"][0]["message"]["is_echo"] is True
    assert messages(api, owner.token, MESSENGER) == before
    assert published == []


def test_a_private_reply_joins_the_messenger_conversation_the_person_already_has(
        api, stack, facebook, page_a, personas, published):
    from tests.comments.helpers import deliver

    owner = personas["owner"]
    deliver(stack, facebook.message_body(page_id=PAGE_A, psid=ALEX_PSID, text="Hello"))
    comment_id = comment(stack, facebook)
    published.clear()

    answer = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi again"})

    assert answer.status == 200, answer.body
    assert [m["direction"] for m in messages(api, owner.token, MESSENGER)] == ["in", "out"]
    assert "conversation.created" not in names(published)


def test_a_second_private_reply_is_refused_before_any_call(api, stack, facebook, page_a,
                                                          personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})
    facebook.reset_calls()

    answer = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi again"})

    assert answer.status == 409
    assert (answer.body["code"], answer.body["reason"], answer.body["messenger_conversation_id"]
            ) == ("comment_action_unavailable", "already_replied", MESSENGER)
    assert facebook.calls == []
    assert len(messages(api, owner.token, MESSENGER)) == 1


def test_a_private_reply_after_seven_days_is_refused_before_any_call(api, stack, facebook,
                                                                    page_a, personas):
    created = int(time.time()) - 7 * DAY - 60
    comment_id = comment(stack, facebook, created_time=created)

    answer = api("POST", _path(comment_id), token=personas["owner"].token,
                 body={"text": "Hi Alex"})

    assert answer.status == 409
    assert (answer.body["code"], answer.body["reason"]) == ("comment_action_unavailable",
                                                            "too_late")
    assert answer.body["deadline"].startswith(
        time.strftime("%Y-%m-%dT%H:%M", time.gmtime(created + 7 * DAY)))
    assert facebook.calls == []


def test_facebook_refusing_a_late_reply_is_kept_as_refused(api, stack, facebook, page_a,
                                                           personas):
    owner = personas["owner"]
    created = int(time.time()) - 6 * DAY
    comment_id = comment(stack, facebook, created_time=created)
    # Facebook counts from two days earlier than the inbox stored: the inbox's own check
    # passes and Facebook's refusal (10903) is what stops the reply.
    facebook.comments[comment_id].created_time = created - 2 * DAY

    answer = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})
    again = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})

    assert (answer.status, answer.body["code"], answer.body["graph_code"]) == (
        422, "graph_cannot_reply", 10903)
    assert (again.status, again.body["reason"]) == (409, "not_allowed")
    assert len(facebook.calls) == 1
    state = stored_comment(api, owner.token, conversation_of(), comment_id)["private_reply"]
    assert (state["status"], state["error"]["graph_code"]) == ("refused", 10903)


def test_a_private_reply_used_elsewhere_is_refused_by_facebook_then_by_the_inbox(
        api, stack, facebook, page_a, personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    # Someone answered it privately from Meta Business Suite.
    facebook.comments[comment_id].private_reply_mid = "m_from-business-suite"

    answer = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})
    again = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})

    assert (answer.status, answer.body["code"], answer.body["graph_code"]) == (
        409, "graph_already_replied", 10900)
    assert (again.status, again.body["reason"]) == (409, "already_replied")
    assert graph_calls(facebook) == [
        ("POST", f"/v25.0/{PAGE_A}/messages", {},
         {"recipient": {"comment_id": comment_id}, "message": {"text": "Hi Alex"},
          "metadata": facebook.calls[0]["json"]["metadata"]}),
    ]
    assert api("GET", f"/api/conversations/{MESSENGER}", token=owner.token).status == 404


def test_a_private_reply_without_pages_messaging_fails_and_may_be_tried_again(
        api, stack, facebook, page_a, personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.revoke_permission(PAGE_A, "pages_messaging")

    refused = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})
    state = stored_comment(api, owner.token, conversation_of(), comment_id)["private_reply"]
    facebook.clear_faults()
    retried = api("POST", _path(comment_id), token=owner.token, body={"text": "Hi Alex"})

    assert (refused.status, refused.body["code"], refused.body["graph_code"]) == (
        403, "graph_permission_missing", 200)
    assert (state["status"], state["error"]["code"]) == ("failed", "graph_permission_missing")
    assert retried.status == 200, retried.body
    assert len(facebook.calls) == 2


def test_the_page_cannot_privately_answer_its_own_comment(api, stack, facebook, page_a,
                                                         personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    reply = api("POST", f"/api/conversations/{conversation_of()}/comments/{comment_id}/reply",
                token=owner.token, body={"text": "4.90 EUR"}).body
    facebook.reset_calls()

    answer = api("POST", _path(reply["facebook_id"]), token=owner.token, body={"text": "Hi"})

    assert (answer.status, answer.body["reason"]) == (409, "page_comment")
    assert facebook.calls == []


def test_a_private_reply_longer_than_the_send_api_allows_is_refused(api, stack, facebook,
                                                                   page_a, personas):
    comment_id = comment(stack, facebook)

    answer = api("POST", _path(comment_id), token=personas["owner"].token,
                 body={"text": "x" * 2001})

    assert answer.status == 422
    assert facebook.calls == []
