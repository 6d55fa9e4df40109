"""Public replies under a comment: the exact Graph request, what is stored, and its webhook."""

from __future__ import annotations

from tests.api.conftest import PAGE_A
from tests.comments.helpers import (
    comment,
    conversation_of,
    deliver_page_webhooks,
    graph_calls,
    messages,
    names,
)


def _reply_path(comment_id: str) -> str:
    return f"/api/conversations/{conversation_of()}/comments/{comment_id}/reply"


def test_reply_is_posted_under_the_comment_and_stored_sent(api, stack, facebook, page_a,
                                                           personas, published):
    from inbox.models import COMMENT_SK, CommentAlias, comment_pk, sk_from_message_id

    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    published.clear()

    answer = api("POST", _reply_path(comment_id), token=owner.token,
                 body={"text": "Shipping to Porto is 4.90 EUR."})

    assert answer.status == 200, answer.body
    reply = answer.body
    assert graph_calls(facebook) == [
        ("POST", f"/v25.0/{comment_id}/comments", {},
         {"message": "Shipping to Porto is 4.90 EUR."}),
    ]
    assert all(c["appsecret_proof"] and c["page_id"] == PAGE_A for c in facebook.calls)
    [new_id] = facebook.comments.keys() - {comment_id}
    assert (reply["conversation_id"], reply["facebook_id"], reply["direction"],
            reply["origin"], reply["type"], reply["status"], reply["author_id"],
            reply["parent_comment_id"], reply["text"]) == (
        conversation_of(), new_id, "out", "inbox", "comment", "sent", owner.member_id,
        comment_id, "Shipping to Porto is 4.90 EUR.")
    alias = CommentAlias.get(comment_pk(new_id), COMMENT_SK)
    assert (alias.conversation_id, alias.message_sk) == (conversation_of(),
                                                         sk_from_message_id(reply["id"]))
    assert names(published) == ["message.created", "message.status_changed"]
    assert (published[1].detail["status"], published[1].detail["facebook_id"]) == ("sent", new_id)
    shown = messages(api, owner.token, conversation_of())
    assert [(m["facebook_id"], m["direction"]) for m in shown] == [
        (comment_id, "in"), (new_id, "out")]


def test_the_page_comment_webhook_of_our_reply_adds_nothing(api, stack, facebook, page_a,
                                                            personas, published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    api("POST", _reply_path(comment_id), token=owner.token, body={"text": "4.90 EUR."})
    before = messages(api, owner.token, conversation_of())
    published.clear()

    bodies = deliver_page_webhooks(stack, facebook)

    # The page's own `add`, in sample 37's shape: from the page, under the comment.
    [value] = [b["entry"][0]["changes"][0]["value"] for b in bodies]
    assert (value["verb"], value["from"]["id"], value["parent_id"]) == ("add", PAGE_A, comment_id)
    assert set(value) == {"from", "post", "message", "post_id", "comment_id", "created_time",
                          "item", "parent_id", "verb"}
    assert messages(api, owner.token, conversation_of()) == before
    assert published == []


def test_a_reply_to_a_reply_is_stored_in_the_conversation_of_the_comment_answered(
        api, stack, facebook, page_a, personas):
    owner = personas["owner"]
    first = comment(stack, facebook)
    second = comment(stack, facebook, person="2500000000000002", text="Same question",
                     parent_id=first)

    answer = api("POST", f"/api/conversations/{conversation_of('2500000000000002')}/comments/"
                 f"{second}/reply", token=owner.token, body={"text": "Also 4.90 EUR."})

    assert answer.status == 200, answer.body
    assert answer.body["conversation_id"] == conversation_of("2500000000000002")
    assert answer.body["parent_comment_id"] == second
    deliver_page_webhooks(stack, facebook)
    assert len(messages(api, owner.token, conversation_of("2500000000000002"))) == 2


def test_a_reply_facebook_refuses_is_kept_failed_with_the_refusal(api, stack, facebook,
                                                                 page_a, personas, published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.revoke_permission(PAGE_A, "pages_manage_engagement")
    published.clear()

    answer = api("POST", _reply_path(comment_id), token=owner.token, body={"text": "Hello"})

    assert answer.status == 403
    assert (answer.body["code"], answer.body["graph_code"]) == ("graph_permission_missing", 200)
    [failed] = [m for m in messages(api, owner.token, conversation_of())
                if m["direction"] == "out"]
    assert failed["id"] == answer.body["message_id"]
    assert (failed["status"], failed["facebook_id"]) == ("failed", None)
    assert failed["send_error"] == {"code": "graph_permission_missing",
                                    "message": "the page token lacks a permission",
                                    "graph_code": 200, "graph_subcode": None,
                                    "http_status": 403}
    assert len(facebook.calls) == 1
    assert names(published) == ["message.created", "message.status_changed"]
    assert (published[1].detail["status"], published[1].detail["graph_code"]) == ("failed", 200)


def test_a_short_rate_limit_is_waited_out_and_the_reply_sent(api, stack, facebook, page_a,
                                                             personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.set_rate_limit(code=613, calls=1, minutes=0)

    answer = api("POST", _reply_path(comment_id), token=owner.token, body={"text": "Hello"})

    assert answer.status == 200, answer.body
    assert answer.body["status"] == "sent"
    request = ("POST", f"/v25.0/{comment_id}/comments", {}, {"message": "Hello"})
    assert graph_calls(facebook) == [request, request]
    assert [c["status"] for c in facebook.calls] == [400, 200]


def test_a_long_rate_limit_fails_the_reply_and_says_when_to_retry(api, stack, facebook,
                                                                  page_a, personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.set_rate_limit(code=80001, minutes=5)

    answer = api("POST", _reply_path(comment_id), token=owner.token, body={"text": "Hello"})

    assert answer.status == 429
    assert (answer.body["code"], answer.body["retry_after"]) == ("graph_rate_limited", 300)
    assert len(facebook.calls) == 1
    [failed] = [m for m in messages(api, owner.token, conversation_of())
                if m["direction"] == "out"]
    assert (failed["status"], failed["send_error"]["graph_code"]) == ("failed", 80001)


def test_an_expired_token_flags_the_page_and_later_replies_are_refused_before_any_call(
        api, stack, facebook, page_a, personas, published):
    from inbox.models import PAGES_PK, Page

    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.expire_token(page_id=PAGE_A)
    published.clear()

    first = api("POST", _reply_path(comment_id), token=owner.token, body={"text": "Hello"})
    second = api("POST", _reply_path(comment_id), token=owner.token, body={"text": "Again"})

    assert first.status == 409
    assert (first.body["code"], first.body["reason"], first.body["graph_code"]) == (
        "page_token_invalid", "reconnect_needed", 190)
    assert Page.get(PAGES_PK, PAGE_A).reconnect_needed is True
    assert (second.status, second.body["code"]) == (409, "page_token_invalid")
    assert len(facebook.calls) == 1
    # The first reply is kept failed; the second was refused before anything was written.
    outbound = [m for m in messages(api, owner.token, conversation_of())
                if m["direction"] == "out"]
    assert [(m["text"], m["status"]) for m in outbound] == [("Hello", "failed")]
    assert names(published).count("page.reconnect_needed") == 1


def test_a_deleted_comment_gets_no_reply(api, stack, facebook, page_a, personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    api("DELETE", f"/api/conversations/{conversation_of()}/comments/{comment_id}",
        token=owner.token)
    facebook.reset_calls()

    answer = api("POST", _reply_path(comment_id), token=owner.token, body={"text": "Hello"})

    assert answer.status == 409
    assert (answer.body["code"], answer.body["reason"]) == ("comment_action_unavailable",
                                                            "deleted")
    assert facebook.calls == []


def test_an_empty_reply_is_refused_by_validation(api, stack, facebook, page_a, personas):
    comment_id = comment(stack, facebook)

    answer = api("POST", _reply_path(comment_id), token=personas["owner"].token,
                 body={"text": ""})

    assert answer.status == 422
    assert facebook.calls == []

