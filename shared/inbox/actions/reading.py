"""A member has read a conversation in the inbox: its unread count goes back to zero.

The count is the team's, not each member's: the inbox is shared, and once someone who may
answer has opened the conversation its new messages are no longer waiting to be seen.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from inbox import access, event_names
from inbox.models import Conversation, Member
from inbox.publish import EventOutbox

logger = Logger(child=True)


def check_mark_read(member: Member, conversation_id: str) -> None:
    """Raises NotFound when the member may not see the conversation."""
    conversation = access.access_conversation(member, conversation_id)
    if not conversation.unread_count:
        return
    conversation.update(actions=[Conversation.unread_count.set(0)])
    outbox = EventOutbox()
    outbox.add(event_names.CONVERSATION_UPDATED, conversation_id=conversation_id,
               page_id=conversation.page_id, change="read", unread_count=0)
    outbox.flush()
    logger.info("conversation read", extra={"conversation_id": conversation_id,
                                            "member_id": member.member_id})
