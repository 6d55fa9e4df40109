"""The post a comment conversation is about, read from Facebook when a member opens it.

The inbox stores no copy: a post is the page's own public content, Facebook has it, and it
may be edited there at any time. One Graph call per opening, made with the page's token
(`pages_read_engagement`, which reading comments needs anyway).
"""

from __future__ import annotations

from inbox import access
from inbox.actions.graph_calls import page_graph_call
from inbox.errors import NotFound
from inbox.models import Member
from inbox.queries.schemas import PostOut

_FIELDS = "message,created_time,permalink_url,full_picture"


def post_of_conversation(member: Member, conversation_id: str) -> PostOut:
    """Raises NotFound for a conversation the member may not see or that has no post."""
    conversation = access.access_conversation(member, conversation_id)
    if conversation.channel != "comment" or not conversation.post_id:
        raise NotFound("this conversation is about no post", conversation_id=conversation_id)
    answer = page_graph_call(conversation.page_id or "", "GET", conversation.post_id,
                             fields=_FIELDS)
    return PostOut(id=conversation.post_id, message=answer.get("message"),
                   created_at=answer.get("created_time"),
                   permalink_url=answer.get("permalink_url"),
                   picture_url=answer.get("full_picture"))
