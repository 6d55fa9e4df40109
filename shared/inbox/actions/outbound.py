"""Members' replies on Messenger: checked, stored, sent through the Send API, outcome kept.

A reply is checked whole before anything is written: the member must see the conversation,
the page must not be waiting for reconnection, and the messaging window (rules/window.py)
must allow it, so a refused reply writes nothing and calls nobody. Then each Facebook
message it makes (its text, each attachment, a product carousel) is stored `pending`, sent
with `metadata` naming it, and marked `sent` with its Facebook id or `failed` with the Graph
refusal. The echo webhook finds the stored message through that metadata and adds nothing
(actions/inbound.py `do_echo`).

Writes for a text reply: the message (1 unit), the conversation's activity (1, plus 2 for
re-keying the list index) and the outcome (1). One Graph call.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from inbox import access, event_names
from inbox import settings as settings_module
from inbox.actions import catalog
from inbox.actions.graph_calls import check_page_can_call, page_graph_call
from inbox.actions.inbound import PREVIEW_LENGTH, outbound_metadata
from inbox.errors import Conflict, GraphError, InvalidInput, MessagingWindowClosed, NotFound
from inbox.models import (
    CONTACT_SK,
    PAGES_PK,
    Attachment,
    Contact,
    Conversation,
    Member,
    Message,
    Page,
    activity_key,
    contact_pk,
    message_id_from_sk,
    message_sk,
    sk_from_message_id,
)
from inbox.publish import EventOutbox
from inbox.rules import window

logger = Logger(child=True)

SEND_PATH = "me/messages"
MEDIA_TYPES = ("image", "audio", "video", "file")
# Facebook's limits (PLATFORM.md §5.1, §5.3-5.5).
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000
MAX_ATTACHMENTS = 10
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
QUICK_REPLY_KINDS = ("text", "user_phone_number", "user_email")
SENDER_ACTIONS = ("typing_on", "typing_off", "mark_seen")
# Long enough for Facebook to fetch a video (about 75 s), short enough to be useless later.
MEDIA_URL_SECONDS = 900
UPLOAD_URL_SECONDS = 600
UPLOAD_PREFIX = "uploads/"


def _clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class AttachmentRequest:
    type: str
    url: str


@dataclass(frozen=True)
class QuickReplyRequest:
    content_type: str = "text"
    title: str | None = None
    payload: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class SendRequest:
    """What a member asks to send: each of text, attachments and products is one message."""

    text: str | None = None
    attachments: tuple[AttachmentRequest, ...] = ()
    quick_replies: tuple[QuickReplyRequest, ...] = ()
    product_ids: tuple[str, ...] = ()
    tag: str | None = None


@dataclass
class _Part:
    """One Facebook message of a reply, as it is stored."""

    text: str | None = None
    attachment: Attachment | None = None
    quick_replies: list[dict[str, Any]] | None = None


@dataclass
class SendContext:
    now_ms: Callable[[], int] = _clock_ms
    outbox: EventOutbox = field(default_factory=EventOutbox)


# --- sending ---------------------------------------------------------------------------------


def check_send_message(member: Member, conversation_id: str, request: SendRequest, *,
                       ctx: SendContext | None = None) -> list[Message]:
    """Send a member's reply; returns its stored messages, each `sent` or `failed`.

    Raises:
        NotFound: the member may not see the conversation, or a product does not exist.
        InvalidInput: the reply breaks Facebook's limits or is not for Messenger.
        PageTokenInvalid: the page waits for reconnection (reason `reconnect_needed`).
        MessagingWindowClosed: Facebook would refuse it now; carries `reason` and
            `allowed_tags`.
    """
    ctx = ctx or SendContext()
    conversation = _messenger_conversation(member, conversation_id)
    parts = _parts_of(request)
    page = _page_of(conversation)
    decision = check_window(conversation, request.tag, ctx.now_ms())
    return do_send_message(member, conversation, page, parts, decision, ctx)


def check_window(conversation: Conversation, tag: str | None, now_ms: int) -> window.SendDecision:
    decision = window.decide_send(last_inbound_at=conversation.last_inbound_at, now_ms=now_ms,
                                  sender="member", tag=tag)
    if decision.allowed:
        return decision
    state = window.window_state(conversation.last_inbound_at, now_ms)
    raise MessagingWindowClosed(
        "Facebook does not allow this reply now", reason=decision.reason,
        allowed_tags=list(decision.allowed_tags), window=state.state,
        conversation_id=conversation.conversation_id,
        **({"note": decision.note} if decision.note else {}),
    )


def do_send_message(member: Member, conversation: Conversation, page: Page,
                    parts: list[_Part], decision: window.SendDecision,
                    ctx: SendContext) -> list[Message]:
    """Store the parts `pending`, show the last on the conversation, then send them in order.

    Assumes the checks of `check_send_message`. A part that fails leaves the rest unsent and
    failed too: Messenger would show them out of order otherwise, and each can be retried.
    """
    at = ctx.now_ms()
    messages = [_store_pending(member, conversation, part, decision, at, i, ctx)
                for i, part in enumerate(parts)]
    _record_outbound_activity(conversation, messages[-1])

    psid = _psid(conversation)
    failure: GraphError | None = None
    for message in messages:
        if failure is None:
            failure = _deliver(message, conversation, page, psid, ctx)
        else:
            _mark_failed(message, conversation, failure, ctx)
    ctx.outbox.flush()
    return messages


def _messenger_conversation(member: Member, conversation_id: str) -> Conversation:
    conversation = access.access_conversation(member, conversation_id)
    if conversation.channel != "messenger":
        raise InvalidInput("only Messenger conversations take these replies; comments are "
                           "answered with the comment actions", field="conversation_id",
                           channel=conversation.channel)
    return conversation


def _page_of(conversation: Conversation) -> Page:
    page_id = conversation.page_id or ""
    try:
        page: Page | None = Page.get(PAGES_PK, page_id)
    except Page.DoesNotExist:
        page = None
    return check_page_can_call(page, page_id)


def _store_pending(member: Member, conversation: Conversation, part: _Part,
                   decision: window.SendDecision, at: int, index: int,
                   ctx: SendContext) -> Message:
    # The part number first: the parts of one reply share a millisecond and keep their order.
    local_id = f"{index:02d}-{uuid.uuid4().hex[:16]}"
    message = Message(
        conversation.pk,
        message_sk(at, local_id),
        conversation_id=conversation.conversation_id or "",
        direction="out",
        origin="inbox",
        type="text" if part.attachment is None else "attachment",
        text=part.text,
        attachments=[part.attachment] if part.attachment else None,
        quick_replies=part.quick_replies,
        messaging_tag=decision.tag,
        send_status="pending",
        author_id=member.member_id,
        created_at=at,
    )
    # A fresh random key: the condition only guards against overwriting by mistake.
    message.save(condition=Message.pk.does_not_exist())
    ctx.outbox.add(event_names.MESSAGE_CREATED, conversation_id=message.conversation_id,
                   page_id=conversation.page_id, message_id=message_id_from_sk(message.sk),
                   direction="out", type=message.type, created_at=at)
    return message


def _record_outbound_activity(conversation: Conversation, message: Message) -> None:
    """Show the reply as the conversation's latest (1 unit, plus 2 for the list index)."""
    preview = message.text[:PREVIEW_LENGTH] if message.text else (
        f"[{message.attachments[0].type}]" if message.attachments else "[message]")
    # The contact no longer waits for an answer (routing's unanswered hand-back reads this);
    # part of the same write, so it costs nothing more.
    answered = ([Conversation.awaiting_reply_since.remove()]
                if conversation.awaiting_reply_since is not None else [])
    try:
        conversation.update(
            actions=[
                Conversation.last_message_sk.set(message.sk),
                Conversation.last_activity_at.set(message.created_at),
                Conversation.gsi1sk.set(activity_key(int(message.created_at),
                                                     conversation.conversation_id or "")),
                Conversation.last_message_preview.set(preview),
                Conversation.last_message_direction.set("out"),
                *answered,
            ],
            # A message stored since (an inbound one, usually) stays the latest.
            condition=Conversation.last_message_sk.does_not_exist()
            | (Conversation.last_message_sk < message.sk),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _deliver(message: Message, conversation: Conversation, page: Page, psid: str,
             ctx: SendContext) -> GraphError | None:
    """Send one stored message and record the outcome; returns the refusal, if any."""
    body: dict[str, Any] = {
        "recipient": {"id": psid},
        "messaging_type": window.MESSAGE_TAG if message.messaging_tag else window.RESPONSE,
        "message": facebook_message(message),
    }
    if message.messaging_tag:
        body["tag"] = message.messaging_tag
    try:
        answer = page_graph_call(page.page_id, "POST", SEND_PATH, page=page, **body)
    except GraphError as exc:
        _mark_failed(message, conversation, exc, ctx)
        return exc
    _mark_sent(message, conversation, str(answer.get("message_id") or ""), ctx)
    return None


def facebook_message(message: Message) -> dict[str, Any]:
    """The Send API `message` of a stored outbound message (PLATFORM.md §5.1-5.5)."""
    body: dict[str, Any] = {}
    if message.text:
        body["text"] = message.text
    elif message.attachments:
        attachment = message.attachments[0]
        if attachment.type == "template":
            body["attachment"] = {"type": "template", "payload": attachment.payload}
        else:
            # Not reusable: each file is sent once, and a saved id would outlive the URL.
            body["attachment"] = {"type": attachment.type,
                                  "payload": {"url": fetchable_url(attachment.url or ""),
                                              "is_reusable": False}}
    if message.quick_replies:
        body["quick_replies"] = message.quick_replies
    body["metadata"] = outbound_metadata(message_id_from_sk(message.sk))
    return body


def _mark_sent(message: Message, conversation: Conversation, facebook_id: str,
               ctx: SendContext) -> None:
    # The echo may have come first and filled the id; it is never written twice.
    message.update(actions=[Message.send_status.set("sent"),
                            Message.facebook_id.set(Message.facebook_id | facebook_id),
                            Message.send_error.remove()])
    ctx.outbox.add(event_names.MESSAGE_STATUS_CHANGED, conversation_id=message.conversation_id,
                   page_id=conversation.page_id, message_id=message_id_from_sk(message.sk),
                   status="sent", facebook_id=message.facebook_id)
    logger.info("reply sent", extra={"conversation_id": message.conversation_id,
                                     "message_id": message_id_from_sk(message.sk),
                                     "page_id": conversation.page_id})


def _mark_failed(message: Message, conversation: Conversation, error: GraphError,
                 ctx: SendContext) -> None:
    failure = {
        "code": error.code,
        "message": error.message,
        **{k: v for k, v in error.fields.items()
           if k in ("graph_code", "graph_subcode", "http_status", "retry_after", "reason")},
    }
    message.update(actions=[Message.send_status.set("failed"), Message.send_error.set(failure)])
    ctx.outbox.add(event_names.MESSAGE_STATUS_CHANGED, conversation_id=message.conversation_id,
                   page_id=conversation.page_id, message_id=message_id_from_sk(message.sk),
                   status="failed", error_code=error.code,
                   graph_code=error.fields.get("graph_code"))
    logger.warning("reply not sent", extra={"conversation_id": message.conversation_id,
                                            "message_id": message_id_from_sk(message.sk),
                                            "page_id": conversation.page_id, "code": error.code,
                                            "graph_code": error.fields.get("graph_code")})


def _psid(conversation: Conversation) -> str:
    # Messenger contact ids are `m<page id>_<psid>` (inbound.messenger_thread): the PSID is
    # read from the id rather than from the contact item.
    prefix = f"m{conversation.page_id}_"
    contact_id = conversation.contact_id or ""
    if contact_id.startswith(prefix):
        return contact_id[len(prefix):]
    return Contact.get(contact_pk(contact_id), CONTACT_SK).facebook_user_id


# --- retry -----------------------------------------------------------------------------------


def check_retry_message(member: Member, conversation_id: str, message_id: str, *,
                        ctx: SendContext | None = None) -> Message:
    """Send a failed reply again, under the window rules as they are now.

    Raises:
        NotFound: no such message in a conversation the member may see.
        Conflict: the message is not a failed reply (already sent, or being retried).
        PageTokenInvalid, MessagingWindowClosed: as for a first send.
    """
    ctx = ctx or SendContext()
    conversation = _messenger_conversation(member, conversation_id)
    try:
        message = Message.get(conversation.pk, sk_from_message_id(message_id))
    except Message.DoesNotExist:
        raise NotFound("no such message", message_id=message_id) from None
    if message.direction != "out" or message.origin != "inbox":
        raise NotFound("no such reply", message_id=message_id)
    if message.send_status != "failed":
        raise Conflict("only a failed reply can be retried", message_id=message_id,
                       send_status=message.send_status)
    page = _page_of(conversation)
    check_window(conversation, message.messaging_tag, ctx.now_ms())
    return do_retry_message(message, conversation, page, ctx)


def do_retry_message(message: Message, conversation: Conversation, page: Page,
                     ctx: SendContext) -> Message:
    try:
        # Two retries at once: only one moves it back to pending and sends.
        message.update(actions=[Message.send_status.set("pending")],
                       condition=Message.send_status == "failed")
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("the reply is being retried already",
                           message_id=message_id_from_sk(message.sk)) from exc
        raise
    _deliver(message, conversation, page, _psid(conversation), ctx)
    ctx.outbox.flush()
    message.refresh()
    return message


# --- typing and seen -------------------------------------------------------------------------


def check_sender_action(member: Member, conversation_id: str, action: str, *,
                        now_ms: int | None = None) -> None:
    """Show typing dots, hide them, or mark the contact's messages seen (PLATFORM.md §5.6).

    Nothing is stored: a marker is gone in seconds and Facebook sends no echo of it.

    Raises:
        NotFound, PageTokenInvalid: as for a reply.
        MessagingWindowClosed: outside the 24-hour window, where markers are not allowed.
    """
    if action not in SENDER_ACTIONS:
        raise InvalidInput("unknown sender action", field="action", allowed=list(SENDER_ACTIONS))
    conversation = _messenger_conversation(member, conversation_id)
    page = _page_of(conversation)
    now = _clock_ms() if now_ms is None else now_ms
    decision = window.decide_sender_action(last_inbound_at=conversation.last_inbound_at,
                                           now_ms=now)
    if not decision.allowed:
        raise MessagingWindowClosed("typing and seen markers need an open window",
                                    reason=decision.reason, allowed_tags=[],
                                    window=window.window_state(conversation.last_inbound_at,
                                                               now).state,
                                    conversation_id=conversation_id)
    page_graph_call(page.page_id, "POST", SEND_PATH, page=page,
                    recipient={"id": _psid(conversation)}, sender_action=action)


# --- checking a request ----------------------------------------------------------------------


def _parts_of(request: SendRequest) -> list[_Part]:
    parts: list[_Part] = []
    if request.text is not None:
        text = request.text.strip()
        if not text:
            raise InvalidInput("the text is empty", field="text")
        if len(text) > MAX_TEXT:
            raise InvalidInput("the text is too long", field="text", max_length=MAX_TEXT)
        parts.append(_Part(text=text))
    if len(request.attachments) > MAX_ATTACHMENTS:
        raise InvalidInput("too many attachments", field="attachments", maximum=MAX_ATTACHMENTS)
    for index, item in enumerate(request.attachments):
        parts.append(_Part(attachment=_media_attachment(item, index)))
    if request.product_ids:
        template = catalog.generic_template(list(request.product_ids))
        parts.append(_Part(attachment=Attachment(type="template", payload=template)))
    if not parts:
        raise InvalidInput("a reply needs text, an attachment or products", field="text")
    # Quick replies ride on the last message, the one the contact answers.
    parts[-1].quick_replies = _quick_replies(request.quick_replies) or None
    return parts


def _media_attachment(item: AttachmentRequest, index: int) -> Attachment:
    field_name = f"attachments[{index}]"
    if item.type not in MEDIA_TYPES:
        raise InvalidInput("unknown attachment type", field=f"{field_name}.type",
                           allowed=list(MEDIA_TYPES))
    key = media_key(item.url)
    if key is None and not item.url.startswith("https://"):
        raise InvalidInput("an attachment URL is an uploaded file's media_url or an https URL",
                           field=f"{field_name}.url")
    if key is not None:
        _check_upload(key, item.type, field_name)
    return Attachment(type=item.type, url=item.url)


def _check_upload(key: str, kind: str, field_name: str) -> None:
    """The uploaded file is in the bucket, and a picture is not sent as a video: refused
    here, by name, rather than by Facebook later with a vague fetch error."""
    try:
        head = s3_client().head_object(Bucket=settings_module.settings.media_bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise InvalidInput("the file was not uploaded: post it to the upload_url first",
                               field=f"{field_name}.url") from None
        raise
    content_type = str(head.get("ContentType") or "")
    if kind != "file" and not content_type.startswith(f"{kind}/"):
        raise InvalidInput(f"the file is {content_type or 'of no known type'}, not {kind}; "
                           "send it as a file", field=f"{field_name}.type",
                           content_type=content_type)


def _quick_replies(items: tuple[QuickReplyRequest, ...]) -> list[dict[str, Any]]:
    if len(items) > MAX_QUICK_REPLIES:
        raise InvalidInput("too many quick replies", field="quick_replies",
                           maximum=MAX_QUICK_REPLIES)
    found = []
    for index, item in enumerate(items):
        field_name = f"quick_replies[{index}]"
        if item.content_type not in QUICK_REPLY_KINDS:
            raise InvalidInput("unknown quick reply kind", field=f"{field_name}.content_type",
                               allowed=list(QUICK_REPLY_KINDS))
        reply: dict[str, Any] = {"content_type": item.content_type}
        if item.content_type == "text":
            if not item.title or len(item.title) > MAX_QUICK_REPLY_TITLE:
                raise InvalidInput("a quick reply needs a title of at most 20 characters",
                                   field=f"{field_name}.title")
            if not item.payload or len(item.payload) > MAX_PAYLOAD:
                raise InvalidInput("a quick reply needs a payload of at most 1000 characters",
                                   field=f"{field_name}.payload")
            reply.update(title=item.title, payload=item.payload)
            if item.image_url:
                reply["image_url"] = item.image_url
        found.append(reply)
    return found


# --- media -----------------------------------------------------------------------------------


def media_key(url: str) -> str | None:
    """The object key of a `media_url` this stack issued, or None for any other URL."""
    prefix = f"s3://{settings_module.settings.media_bucket}/"
    if url.startswith(prefix) and url[len(prefix):].startswith(UPLOAD_PREFIX):
        return url[len(prefix):]
    return None


@cache
def _s3(region: str, endpoint_url: str | None) -> Any:
    # Signature version 4: S3 refuses version 2 pre-signed URLs on buckets made since 2020.
    import boto3

    return boto3.session.Session().client(
        "s3", region_name=region, endpoint_url=endpoint_url,
        config=Config(signature_version="s3v4", connect_timeout=2, read_timeout=5))


def s3_client() -> Any:
    settings = settings_module.settings
    return _s3(settings.region, settings.aws_endpoint_url)


def fetchable_url(url: str) -> str:
    """A URL Facebook can fetch: a short-lived pre-signed GET for our uploads."""
    key = media_key(url)
    if key is None:
        return url
    return str(s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": settings_module.settings.media_bucket, "Key": key},
        ExpiresIn=MEDIA_URL_SECONDS))


@dataclass(frozen=True)
class Upload:
    upload_url: str
    fields: dict[str, str]
    media_url: str
    attachment_type: str
    expires_in: int


def check_create_upload(member: Member, *, content_type: str, filename: str,
                        size: int) -> Upload:
    """A pre-signed POST for one file of at most 25 MB (Facebook's attachment limit).

    The browser posts the file straight to the bucket; `media_url` then names it in a reply.
    """
    if not 0 < size <= MAX_UPLOAD_BYTES:
        raise InvalidInput("a file is 1 byte to 25 MB", field="size", maximum=MAX_UPLOAD_BYTES)
    if "/" not in content_type or len(content_type) > 100:
        raise InvalidInput("a MIME type such as image/png is required", field="content_type")
    safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)[-100:]
    key = f"{UPLOAD_PREFIX}{member.member_id}/{uuid.uuid4().hex}/{safe_name or 'file'}"
    bucket = settings_module.settings.media_bucket
    post = s3_client().generate_presigned_post(
        bucket, key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    kind = content_type.split("/", 1)[0]
    logger.info("upload issued", extra={"member_id": member.member_id, "media_key": key,
                                        "size": size})
    return Upload(upload_url=post["url"], fields=dict(post["fields"]),
                  media_url=f"s3://{bucket}/{key}",
                  attachment_type=kind if kind in ("image", "audio", "video") else "file",
                  expires_in=UPLOAD_URL_SECONDS)

