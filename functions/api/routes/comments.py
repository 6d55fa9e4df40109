"""A comment conversation's comments: public and private replies, like, hide, delete.

Every route names the conversation and the comment; a comment outside that conversation, or a
conversation the member may not see, is missing (404), and nothing reaches Facebook.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions import comments
from inbox.models import CONVERSATION_SK, Conversation, Message, conversation_pk
from inbox.queries import posts
from inbox.queries.messages import message_out
from inbox.queries.schemas import MessageOut, PostOut
from pydantic import Field

from routes.common import BEARER, BODY, GRAPH, PROTECTED, RequestBody, answers, current_member

router = Router()

ConversationId = Annotated[str, Path(min_length=1, max_length=128)]
# Facebook comment ids are `{post id}_{comment id}` (PLATFORM.md §6).
CommentId = Annotated[str, Path(min_length=3, max_length=128, pattern=r"^\d+_\d+$")]

_COMMENT = "/api/conversations/<conversation_id>/comments/<comment_id>"
_TAGS = ["comments"]


class CommentReplyRequest(RequestBody):
    # Facebook's limit for a comment's text.
    text: str = Field(min_length=1, max_length=8000, description="The reply, shown publicly.")


class PrivateReplyRequest(RequestBody):
    # The Send API's limit for a message's text (PLATFORM.md §5.1).
    text: str = Field(min_length=1, max_length=2000,
                      description="The message the commenter gets in Messenger.")


def _out(message: Message) -> MessageOut:
    # Watermarks only ever mark Messenger messages older than these, so a bare conversation
    # gives the same status as the stored one would, without reading it.
    conversation = Conversation(conversation_pk(message.conversation_id), CONVERSATION_SK,
                                conversation_id=message.conversation_id)
    return message_out(message, conversation)


@router.get("/api/conversations/<conversation_id>/post",
            summary="The post a comment conversation is about, as Facebook has it now",
            tags=_TAGS, security=BEARER, responses=answers(*PROTECTED, *GRAPH))
def get_post(conversation_id: ConversationId) -> PostOut:
    return posts.post_of_conversation(current_member(), conversation_id)


@router.post(_COMMENT + "/reply", summary="Reply publicly under a comment, as the page",
             tags=_TAGS, security=BEARER, responses=answers(*PROTECTED, *BODY, *GRAPH))
def reply_to_comment(conversation_id: ConversationId, comment_id: CommentId,
                     body: Annotated[CommentReplyRequest, Body()]) -> MessageOut:
    return _out(comments.check_reply_to_comment(current_member(), conversation_id,
                                                comment_id, text=body.text))


@router.post(_COMMENT + "/private-reply",
             summary="Answer a comment in Messenger (once per comment, within 7 days)",
             tags=_TAGS, security=BEARER, responses=answers(*PROTECTED, *BODY, *GRAPH))
def private_reply(conversation_id: ConversationId, comment_id: CommentId,
                  body: Annotated[PrivateReplyRequest, Body()]) -> MessageOut:
    return _out(comments.check_private_reply(current_member(), conversation_id,
                                             comment_id, text=body.text))


@router.put(_COMMENT + "/like", summary="Like a comment as the page", tags=_TAGS,
            security=BEARER, responses=answers(*PROTECTED, *GRAPH))
def like_comment(conversation_id: ConversationId, comment_id: CommentId) -> MessageOut:
    return _out(comments.check_like_comment(current_member(), conversation_id,
                                            comment_id, liked=True))


@router.delete(_COMMENT + "/like", summary="Take back the page's like of a comment",
               tags=_TAGS, security=BEARER, responses=answers(*PROTECTED, *GRAPH))
def unlike_comment(conversation_id: ConversationId, comment_id: CommentId) -> MessageOut:
    return _out(comments.check_like_comment(current_member(), conversation_id,
                                            comment_id, liked=False))


@router.put(_COMMENT + "/hidden",
            summary="Hide a comment (its author and their friends still see it)",
            tags=_TAGS, security=BEARER, responses=answers(*PROTECTED, *GRAPH))
def hide_comment(conversation_id: ConversationId, comment_id: CommentId) -> MessageOut:
    return _out(comments.check_hide_comment(current_member(), conversation_id,
                                            comment_id, hidden=True))


@router.delete(_COMMENT + "/hidden", summary="Unhide a comment", tags=_TAGS, security=BEARER,
               responses=answers(*PROTECTED, *GRAPH))
def unhide_comment(conversation_id: ConversationId, comment_id: CommentId) -> MessageOut:
    return _out(comments.check_hide_comment(current_member(), conversation_id,
                                            comment_id, hidden=False))


@router.delete(_COMMENT, summary="Delete a comment on Facebook (the inbox keeps it, marked)",
               tags=_TAGS, security=BEARER, responses=answers(*PROTECTED, *GRAPH))
def delete_comment(conversation_id: ConversationId, comment_id: CommentId) -> MessageOut:
    return _out(comments.check_delete_comment(current_member(), conversation_id,
                                              comment_id))
