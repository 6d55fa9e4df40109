"""Replies on Messenger: send, retry a failed one, typing and seen markers, media uploads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions import outbound, reading
from inbox.models import Conversation, Message
from inbox.queries.messages import message_out
from inbox.queries.schemas import MessageOut
from pydantic import BaseModel, Field, StrictBool

from routes.common import (
    BEARER,
    BODY,
    GRAPH,
    PROTECTED,
    RequestBody,
    answers,
    current_member,
    no_content,
)

router = Router()
_ID = Path(min_length=1, max_length=128)


class AttachmentIn(RequestBody):
    type: Literal["image", "audio", "video", "file"]
    url: str = Field(min_length=1, max_length=2048,
                     description="A `media_url` from POST /api/uploads, or an https URL.")


class QuickReplyIn(RequestBody):
    content_type: Literal["text", "user_phone_number", "user_email"] = "text"
    title: str | None = Field(default=None, max_length=20)
    payload: str | None = Field(default=None, max_length=1000)
    image_url: str | None = Field(default=None, max_length=2048)


class ReplyRequest(RequestBody):
    text: str | None = Field(default=None, max_length=2000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    quick_replies: list[QuickReplyIn] = Field(default_factory=list, max_length=13)
    product_ids: list[str] = Field(default_factory=list, max_length=10)
    tag: str | None = Field(default=None, max_length=64,
                            description="HUMAN_AGENT, for a member's reply after 24 hours.")


class SendError(BaseModel):
    code: str
    message: str
    graph_code: int | None = None
    graph_subcode: int | None = None
    retry_after: int | None = None
    reason: str | None = None


class ReplyOut(MessageOut):
    tag: str | None = None
    error: SendError | None = None


class ReplyList(BaseModel):
    items: list[ReplyOut]


class TypingRequest(RequestBody):
    on: StrictBool = True


class UploadRequest(RequestBody):
    content_type: str = Field(min_length=3, max_length=100, examples=["image/jpeg"])
    filename: str = Field(min_length=1, max_length=200)
    size: int = Field(gt=0, le=outbound.MAX_UPLOAD_BYTES, description="Bytes.")


class UploadOut(BaseModel):
    upload_url: str
    fields: dict[str, str]
    media_url: str
    attachment_type: str
    expires_in: int


def reply_out(message: Message, conversation: Conversation) -> ReplyOut:
    error: Any = message.send_error if message.send_status == "failed" else None
    return ReplyOut(**message_out(message, conversation).model_dump(),
                    tag=message.messaging_tag, error=SendError(**error) if error else None)


@router.post("/api/conversations/<conversation_id>/messages",
             summary="Reply on Messenger: text, media, products, quick replies",
             tags=["replies"], security=BEARER, status_code=201,
             responses=answers(*PROTECTED, *BODY, status=201, description="The replies stored: "
                               "sent, or failed with their `error`"))
def send_reply(conversation_id: Annotated[str, _ID],
               body: Annotated[ReplyRequest, Body()]) -> ReplyList:
    request = outbound.SendRequest(
        text=body.text,
        attachments=tuple(outbound.AttachmentRequest(a.type, a.url) for a in body.attachments),
        quick_replies=tuple(outbound.QuickReplyRequest(**q.model_dump())
                            for q in body.quick_replies),
        product_ids=tuple(body.product_ids),
        tag=body.tag,
    )
    member = current_member()
    messages = outbound.check_send_message(member, conversation_id, request)
    conversation = _conversation_for_status(messages[0])
    return ReplyList(items=[reply_out(m, conversation) for m in messages])


@router.post("/api/conversations/<conversation_id>/messages/<message_id>/retry",
             summary="Send a failed reply again", tags=["replies"], security=BEARER,
             responses=answers(*PROTECTED))
def retry_reply(conversation_id: Annotated[str, _ID],
                message_id: Annotated[str, _ID]) -> ReplyOut:
    message = outbound.check_retry_message(current_member(), conversation_id, message_id)
    return reply_out(message, _conversation_for_status(message))


@router.post("/api/conversations/<conversation_id>/typing",
             summary="Show or hide typing dots to the contact", tags=["replies"],
             security=BEARER,
             responses=answers(*PROTECTED, *BODY, *GRAPH, status=204, description="Done; no body"))
def typing(conversation_id: Annotated[str, _ID],
           body: Annotated[TypingRequest, Body()]) -> Response[None]:
    action = "typing_on" if body.on else "typing_off"
    outbound.check_sender_action(current_member(), conversation_id, action)
    return no_content()


@router.post("/api/conversations/<conversation_id>/seen",
             summary="Mark the contact's messages seen by the page", tags=["replies"],
             security=BEARER,
             responses=answers(*PROTECTED, *GRAPH, status=204, description="Done; no body"))
def seen(conversation_id: Annotated[str, _ID]) -> Response[None]:
    outbound.check_sender_action(current_member(), conversation_id, "mark_seen")
    return no_content()


@router.post("/api/conversations/<conversation_id>/read",
             summary="The team has read the conversation: its unread count, one for the "
                     "whole team, goes to zero",
             tags=["conversations"], security=BEARER,
             responses=answers(*PROTECTED, status=204, description="Done; no body"))
def mark_read(conversation_id: Annotated[str, _ID]) -> Response[None]:
    reading.check_mark_read(current_member(), conversation_id)
    return no_content()


@router.post("/api/uploads", summary="A pre-signed upload for a reply's media",
             tags=["replies"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def create_upload(body: Annotated[UploadRequest, Body()]) -> UploadOut:
    upload = outbound.check_create_upload(current_member(),
                                          content_type=body.content_type,
                                          filename=body.filename, size=body.size)
    return UploadOut(**upload.__dict__)


def _conversation_for_status(message: Message) -> Conversation:
    # Statuses of fresh replies need no receipts: a stand-in without watermarks shows the
    # stored send status, and saves reading the conversation again.
    return Conversation(message.pk, "CONV", conversation_id=message.conversation_id)
