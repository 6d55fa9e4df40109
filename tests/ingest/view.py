"""What the inbox shows after ingestion, read through the API's read layer as an owner sees it."""

from __future__ import annotations

from typing import Any

from inbox.models import MEMBERS_PK, Conversation, Member, utcnow
from inbox.queries.conversations import conversation_detail
from inbox.queries.messages import list_messages

OWNER = Member(MEMBERS_PK, "owner-1", member_id="owner-1", email="owner@example.com",
               name="Owner", role="owner", created_at=utcnow())

A, B = "100000000000001", "100000000000002"
POST = "100000000000001_300000000000001"


def messenger(page: str, psid: str) -> str:
    return f"m{page}_{psid}"


def commenter(author: str) -> str:
    return f"c{POST}_{author}"


def comment(n: int) -> str:
    return f"300000000000001_4000000000000{n:02d}"


def conversation_ids() -> set[str]:
    items = Conversation.scan((Conversation.sk == "CONV") & Conversation.created_at.exists(),
                              attributes_to_get=["conversation_id", "created_at"])
    return {c.conversation_id for c in items if c.conversation_id}


def detail(conversation_id: str) -> Any:
    return conversation_detail(OWNER, conversation_id)


def messages(conversation_id: str) -> list[Any]:
    """Every message of a conversation, oldest first, as the API serves them."""
    items, cursor = [], None
    while True:
        page = list_messages(OWNER, conversation_id, limit=100, cursor=cursor)
        items.extend(page.items)
        cursor = page.next
        if cursor is None:
            return list(reversed(items))


def summary(conversation_id: str) -> list[tuple[Any, ...]]:
    """(facebook id, direction, origin, type, status) of each message, oldest first."""
    return [(m.facebook_id, m.direction, m.origin, m.type, m.status)
            for m in messages(conversation_id)]


def message(conversation_id: str, facebook_id: str) -> Any:
    found = [m for m in messages(conversation_id) if m.facebook_id == facebook_id]
    assert len(found) == 1, f"{facebook_id} is stored {len(found)} times"
    return found[0]


def snapshot() -> dict[str, Any]:
    """Everything a member could see, for comparing before and after a replay."""
    return {cid: ([m.model_dump() for m in messages(cid)], detail(cid).model_dump(
        exclude={"window"})) for cid in sorted(conversation_ids())}
