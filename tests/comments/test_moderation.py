"""Like, hide and delete as the page; and the same changes made on Facebook by someone else."""

from __future__ import annotations

from tests.api.conftest import PAGE_A
from tests.comments.helpers import (
    comment,
    conversation_of,
    deliver_page_webhooks,
    graph_calls,
    messages,
    names,
    replay,
    stored_comment,
)


def _path(comment_id: str, action: str = "") -> str:
    base = f"/api/conversations/{conversation_of()}/comments/{comment_id}"
    return f"{base}/{action}" if action else base


def test_like_and_unlike_as_the_page(api, stack, facebook, page_a, personas, published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    published.clear()

    liked = api("PUT", _path(comment_id, "like"), token=owner.token)
    unliked = api("DELETE", _path(comment_id, "like"), token=owner.token)

    assert (liked.status, liked.body["liked_by_page"]) == (200, True)
    assert (unliked.status, unliked.body["liked_by_page"]) == (200, False)
    assert graph_calls(facebook) == [
        ("POST", f"/v25.0/{comment_id}/likes", {}, None),
        ("DELETE", f"/v25.0/{comment_id}/likes", {}, None),
    ]
    assert [(e.name, e.detail["change"], e.detail["liked_by_page"]) for e in published] == [
        ("message.updated", "like", True), ("message.updated", "like", False)]
    assert published[0].detail["by"] == owner.member_id
    # Facebook sends no webhook for the page's likes.
    assert facebook.take_page_webhooks() == []


def test_liking_a_liked_comment_calls_nobody(api, stack, facebook, page_a, personas,
                                             published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    api("PUT", _path(comment_id, "like"), token=owner.token)
    facebook.reset_calls()
    published.clear()

    again = api("PUT", _path(comment_id, "like"), token=owner.token)

    assert (again.status, again.body["liked_by_page"]) == (200, True)
    assert facebook.calls == []
    assert published == []


def test_hide_and_unhide_and_their_webhooks_change_nothing_more(api, stack, facebook, page_a,
                                                                 personas, published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    published.clear()

    hidden = api("PUT", _path(comment_id, "hidden"), token=owner.token)
    hide_webhooks = deliver_page_webhooks(stack, facebook)
    after_hide = list(published)
    shown = api("DELETE", _path(comment_id, "hidden"), token=owner.token)
    unhide_webhooks = deliver_page_webhooks(stack, facebook)

    assert (hidden.status, hidden.body["hidden"]) == (200, True)
    assert (shown.status, shown.body["hidden"]) == (200, False)
    assert graph_calls(facebook) == [
        ("POST", f"/v25.0/{comment_id}", {}, {"is_hidden": True}),
        ("POST", f"/v25.0/{comment_id}", {}, {"is_hidden": False}),
    ]
    verbs = [b["entry"][0]["changes"][0]["value"]["verb"]
             for b in hide_webhooks + unhide_webhooks]
    assert verbs == ["hide", "unhide"]
    # One event per action: the webhooks of our own changes were stale on arrival.
    assert [(e.detail["change"], e.detail["hidden"]) for e in after_hide] == [
        ("visibility", True)]
    assert [(e.detail["change"], e.detail["hidden"]) for e in published] == [
        ("visibility", True), ("visibility", False)]
    assert stored_comment(api, owner.token, conversation_of(), comment_id)["hidden"] is False


def test_the_page_own_comment_cannot_be_hidden(api, stack, facebook, page_a, personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    reply = api("POST", _path(comment_id, "reply"), token=owner.token,
                body={"text": "4.90 EUR"}).body
    facebook.reset_calls()

    answer = api("PUT", _path(reply["facebook_id"], "hidden"), token=owner.token)

    assert (answer.status, answer.body["code"], answer.body["reason"]) == (
        409, "comment_action_unavailable", "page_comment")
    assert facebook.calls == []


def test_delete_keeps_the_comment_marked_and_its_webhook_changes_nothing(
        api, stack, facebook, page_a, personas, published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    published.clear()

    deleted = api("DELETE", _path(comment_id), token=owner.token)
    [removal] = deliver_page_webhooks(stack, facebook)
    again = api("DELETE", _path(comment_id), token=owner.token)

    assert (deleted.status, deleted.body["deleted"], deleted.body["text"]) == (
        200, True, "How much is shipping to Porto?")
    assert removal["entry"][0]["changes"][0]["value"]["verb"] == "remove"
    assert (again.status, again.body["deleted"]) == (200, True)
    assert graph_calls(facebook) == [("DELETE", f"/v25.0/{comment_id}", {}, None)]
    assert [(e.name, e.detail["change"]) for e in published] == [
        ("message.updated", "deleted")]


def test_a_deleted_comment_cannot_be_liked_or_hidden(api, stack, facebook, page_a, personas):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    api("DELETE", _path(comment_id), token=owner.token)
    facebook.reset_calls()

    liked = api("PUT", _path(comment_id, "like"), token=owner.token)
    hidden = api("PUT", _path(comment_id, "hidden"), token=owner.token)

    assert [(a.status, a.body["reason"]) for a in (liked, hidden)] == [
        (409, "deleted"), (409, "deleted")]
    assert facebook.calls == []


def test_moderation_without_pages_manage_engagement_changes_nothing(api, stack, facebook,
                                                                    page_a, personas,
                                                                    published):
    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.revoke_permission(PAGE_A, "pages_manage_engagement")
    published.clear()

    answers = [api("PUT", _path(comment_id, "like"), token=owner.token),
               api("PUT", _path(comment_id, "hidden"), token=owner.token),
               api("DELETE", _path(comment_id), token=owner.token)]

    assert [(a.status, a.body["code"], a.body["graph_code"]) for a in answers] == [
        (403, "graph_permission_missing", 200)] * 3
    stored = stored_comment(api, owner.token, conversation_of(), comment_id)
    assert (stored["liked_by_page"], stored["hidden"], stored["deleted"]) == (False, False, False)
    assert published == []


def test_an_expired_token_flags_the_page_and_moderation_stops_before_any_call(
        api, stack, facebook, page_a, personas, published):
    from inbox.models import PAGES_PK, Page

    owner = personas["owner"]
    comment_id = comment(stack, facebook)
    facebook.expire_token(page_id=PAGE_A)
    published.clear()

    first = api("PUT", _path(comment_id, "hidden"), token=owner.token)
    later = [api("PUT", _path(comment_id, "like"), token=owner.token),
             api("DELETE", _path(comment_id), token=owner.token),
             api("POST", _path(comment_id, "private-reply"), token=owner.token,
                 body={"text": "Hi"})]

    assert (first.status, first.body["code"], first.body["graph_code"]) == (
        409, "page_token_invalid", 190)
    assert [(a.status, a.body["reason"]) for a in later] == [(409, "reconnect_needed")] * 3
    assert len(facebook.calls) == 1
    assert Page.get(PAGES_PK, PAGE_A).reconnect_needed is True
    assert names(published) == ["page.reconnect_needed"]
    stored = stored_comment(api, owner.token, conversation_of(), comment_id)
    assert (stored["hidden"], stored["private_reply"]) == (False, None)


def test_hidden_unhidden_and_removed_on_facebook_by_someone_else_are_reflected(
        api, stack, page_a, personas, published):
    owner = personas["owner"]
    c1 = "300000000000001_400000000000001"
    conversation = f"c{PAGE_A}_300000000000001_2500000000000001"

    replay(stack, "31-comment-add.json", "35-comment-hide.json")
    hidden = stored_comment(api, owner.token, conversation, c1)
    replay(stack, "36-comment-unhide.json")
    shown = stored_comment(api, owner.token, conversation, c1)
    replay(stack, "38-comment-remove.json")
    removed = stored_comment(api, owner.token, conversation, c1)

    assert (hidden["hidden"], hidden["deleted"]) == (True, False)
    assert (shown["hidden"], shown["deleted"]) == (False, False)
    assert (removed["hidden"], removed["deleted"], removed["text"]) == (
        False, True, "How much is shipping to Porto for the green lamp?")
    changes = [e.detail.get("change") for e in published if e.name == "message.updated"]
    assert changes == ["visibility", "visibility", "deleted"]
    assert len(messages(api, owner.token, conversation)) == 1
