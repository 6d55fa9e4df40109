"""A conversation's messages: order, cursors, overlays merged, statuses from watermarks."""

from __future__ import annotations

import pytest

from tests.api.conftest import PAGE_A, make_conversation, make_page

T0 = 1767225600000


def make_message(conversation_id: str, n: int, *, direction: str = "in", text: str = "",
                 facebook_id: str | None = None, **fields):
    from inbox.models import Message, conversation_pk, message_sk

    defaults = {"origin": "contact" if direction == "in" else "member", "type": "text"}
    message = Message(conversation_pk(conversation_id), message_sk(T0 + n * 1000, f"m{n:02d}"),
                      conversation_id=conversation_id, direction=direction,
                      text=text or f"message {n}", facebook_id=facebook_id,
                      created_at=T0 + n * 1000, **{**defaults, **fields})
    message.save()
    return message


def make_overlay(conversation_id: str, mid: str, **fields):
    from inbox.models import MessageOverlay, conversation_pk

    MessageOverlay(conversation_pk(conversation_id), f"FX#{mid}", facebook_id=mid,
                   **fields).save()


@pytest.fixture
def thread(personas):
    make_page(PAGE_A)
    make_conversation("c1", status="unassigned", delivered_watermark=T0 + 6 * 1000,
                      read_watermark=T0 + 4 * 1000)
    return personas


def test_messages_come_newest_first_and_page_through_exactly_once(api, thread):
    for n in range(1, 8):
        make_message("c1", n)

    seen, cursor = [], None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        answer = api("GET", "/api/conversations/c1/messages", token=thread["agent"].token,
                     query=query)
        assert answer.status == 200
        seen += [m["text"] for m in answer.body["items"]]
        cursor = answer.body["next"]
        if cursor is None:
            break

    assert seen == [f"message {n}" for n in range(7, 0, -1)]


def test_message_shape(api, thread):
    from inbox.models import Attachment

    make_message("c1", 1, facebook_id="m_1", reply_to="m_0", quick_reply_payload="SIZE_M",
                 attachments=[Attachment(type="image", url="https://cdn.example/a.jpg")])

    item = api("GET", "/api/conversations/c1/messages",
               token=thread["agent"].token).body["items"][0]

    assert item["id"] == f"{T0 + 1000:013d}~m01"
    assert item["facebook_id"] == "m_1"
    assert item["direction"] == "in"
    assert item["status"] == "received"
    assert item["created_at"] == "2026-01-01T00:00:01.000Z"
    assert item["attachments"] == [{"type": "image", "url": "https://cdn.example/a.jpg",
                                    "title": None, "payload": None, "original_url": None,
                                    "media_status": None, "media_error": None,
                                    "content_type": None, "size": None}]
    assert (item["reply_to"], item["quick_reply_payload"]) == ("m_0", "SIZE_M")
    assert (item["reaction"], item["edited"], item["hidden"], item["deleted"]) == (
        None, None, False, False)


def test_outbound_status_comes_from_send_status_and_watermarks(api, thread):
    # Read watermark at 4 s, delivered at 6 s.
    make_message("c1", 3, direction="out", send_status="sent")
    make_message("c1", 5, direction="out", send_status="sent")
    make_message("c1", 7, direction="out", send_status="sent")
    make_message("c1", 2, direction="out", send_status="failed")
    make_message("c1", 8, direction="out", send_status="pending")
    make_message("c1", 1)

    items = api("GET", "/api/conversations/c1/messages", token=thread["agent"].token).body
    statuses = {i["text"]: i["status"] for i in items["items"]}

    assert statuses == {"message 8": "pending", "message 7": "sent", "message 5": "delivered",
                        "message 3": "read", "message 2": "failed", "message 1": "received"}


def test_reactions_and_edits_from_overlays_are_merged(api, thread):
    make_message("c1", 1, facebook_id="m_a", text="Do you ship to Spain?")
    make_message("c1", 2, facebook_id="m_b", direction="out", send_status="sent")
    # Edit 2 arrives before edit 1: the latest by time still wins.
    make_overlay("c1", "m_a", edits={
        "2": {"text": "Do you ship to Portugal or Spain?", "at": T0 + 9000},
        "1": {"text": "Do you ship to Portugal?", "at": T0 + 8000},
    }, edited_at=T0 + 9000)
    make_overlay("c1", "m_b", reaction="love", reaction_emoji="\u2764", reaction_at=T0 + 9000)
    # An overlay whose message has not arrived yet changes nothing.
    make_overlay("c1", "m_later", reaction="like", reaction_emoji="\U0001f44d")

    items = api("GET", "/api/conversations/c1/messages",
                token=thread["agent"].token).body["items"]
    by_mid = {i["facebook_id"]: i for i in items}

    assert len(items) == 2
    edited = by_mid["m_a"]
    assert edited["text"] == "Do you ship to Portugal or Spain?"
    assert edited["edited"] == {"count": 2, "at": "2026-01-01T00:00:09.000Z",
                                "previous": ["Do you ship to Spain?",
                                             "Do you ship to Portugal?"]}
    assert by_mid["m_b"]["reaction"] == {"reaction": "love", "emoji": "\u2764"}
    assert by_mid["m_a"]["reaction"] is None


def test_an_unreacted_message_shows_no_reaction(api, thread):
    make_message("c1", 1, facebook_id="m_a")
    make_overlay("c1", "m_a", reaction=None, reaction_emoji=None, reaction_at=T0 + 5000)

    item = api("GET", "/api/conversations/c1/messages",
               token=thread["agent"].token).body["items"][0]

    assert item["reaction"] is None


def test_comment_state_is_read_from_the_message(api, thread):
    make_conversation("c2", channel="comment")
    make_message("c2", 1, type="comment", text="Nice shirt", facebook_id="post_1_comment_1",
                 edits={str(T0 + 3000): {"text": "Nice shirt!!", "at": T0 + 3000}},
                 edited_at=T0 + 3000, hidden=True)
    make_message("c2", 2, type="comment", facebook_id="post_1_comment_2",
                 parent_comment_id="post_1_comment_1", deleted_at=T0 + 4000)

    items = api("GET", "/api/conversations/c2/messages",
                token=thread["agent"].token).body["items"]

    assert items[1]["edited"] == {"count": 1, "previous": ["Nice shirt"],
                                  "at": "2026-01-01T00:00:03.000Z"}
    assert (items[1]["text"], items[1]["hidden"]) == ("Nice shirt!!", True)
    assert (items[0]["deleted"], items[0]["parent_comment_id"]) == (True, "post_1_comment_1")


def test_a_malformed_cursor_is_refused(api, thread):
    answer = api("GET", "/api/conversations/c1/messages", token=thread["agent"].token,
                 query={"cursor": "MSG#oops"})

    assert (answer.status, answer.body["field"]) == (422, "cursor")
