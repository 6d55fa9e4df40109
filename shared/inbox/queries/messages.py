"""A conversation's messages, newest first, with reactions, edits and statuses merged in.

The cursor is the last message id returned (its sort key without `MSG#`), so the next page is
every message key strictly below it.
"""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Any

from pynamodb.expressions.condition import Condition

from inbox import access, storage
from inbox.errors import InvalidInput
from inbox.models import (
    MESSAGE_PREFIX,
    OVERLAY_PREFIX,
    Attachment,
    Conversation,
    Member,
    Message,
    MessageOverlay,
    message_id_from_sk,
    sk_from_message_id,
)
from inbox.queries.schemas import (
    AttachmentOut,
    Edited,
    MessageList,
    MessageOut,
    PrivateReplyOut,
    Reaction,
    iso_from_ms,
)

_CURSOR = re.compile(r"^\d{13}~[^~#/]+$")
_INBOUND = {"in", "inbound"}


def list_messages(member: Member, conversation_id: str, *, limit: int,
                  cursor: str | None = None) -> MessageList:
    if cursor is not None and not _CURSOR.match(cursor):
        raise InvalidInput("malformed cursor", field="cursor")
    conversation = access.access_conversation(member, conversation_id)

    found = list(islice(_messages_before(conversation.pk, cursor, limit), limit + 1))
    messages = found[:limit]
    overlays = _overlays(conversation) if any(m.facebook_id for m in messages) else {}

    items = [message_out(m, conversation, overlays.get(m.facebook_id or "")) for m in messages]
    next_cursor = message_id_from_sk(messages[-1].sk) if len(found) > limit else None
    return MessageList(items=items, next=next_cursor)


def _messages_before(pk: str, cursor: str | None, limit: int) -> Any:
    condition: Condition
    if cursor is None:
        condition = Message.sk.startswith(MESSAGE_PREFIX)
    else:
        # `between` is inclusive and the conversation's CONV and FX# items sort below MSG#,
        # so the range starts at the prefix and the cursor's own message is dropped below.
        condition = Message.sk.between(MESSAGE_PREFIX, sk_from_message_id(cursor))
    upper = sk_from_message_id(cursor) if cursor else None
    results = Message.query(pk, condition, scan_index_forward=False, page_size=limit + 2)
    return (m for m in results if m.sk != upper)


def _overlays(conversation: Conversation) -> dict[str, MessageOverlay]:
    # All overlays of the conversation in one query: they are few and small (a reaction and
    # up to five edits per message), cheaper than a keyed read per message on the page.
    if conversation.channel == "comment":
        return {}
    query = MessageOverlay.query(conversation.pk, MessageOverlay.sk.startswith(OVERLAY_PREFIX))
    return {o.facebook_id: o for o in query}


def message_status(m: Message, conversation: Conversation) -> str:
    """`received` inbound; outbound: the stored send status, or a receipt watermark's.

    Facebook's delivery and read receipts are watermarks, so a sent message at or before the
    read (delivered) watermark is read (delivered), whatever order the receipts came in.
    """
    if m.direction in _INBOUND:
        return "received"
    if m.send_status in ("pending", "failed"):
        return m.send_status
    if conversation.read_watermark is not None and m.created_at <= conversation.read_watermark:
        return "read"
    delivered = conversation.delivered_watermark
    if delivered is not None and m.created_at <= delivered:
        return "delivered"
    return "sent"


def attachment_out(a: Attachment) -> AttachmentOut:
    stored = a.media_status == "stored" and a.media_key
    # A reply's upload is named by its s3:// media_url, which no browser opens: shown through
    # a signed link like kept inbound media, the media_url kept as the original.
    uploaded = storage.own_key(a.url)
    url = (storage.signed_url(a.media_key) if stored
           else storage.signed_url(uploaded) if uploaded else a.url)
    return AttachmentOut(
        type=a.type,
        url=url,
        title=a.title,
        payload=a.payload,
        original_url=a.url if a.media_status or uploaded else None,
        media_status=a.media_status,
        media_error=a.media_error,
        content_type=a.content_type,
        size=int(a.size) if a.size is not None else None,
    )


def message_out(m: Message, conversation: Conversation,
                overlay: MessageOverlay | None = None) -> MessageOut:
    text, edited = _text_and_edits(m, overlay)
    return MessageOut(
        id=message_id_from_sk(m.sk),
        conversation_id=m.conversation_id,
        facebook_id=m.facebook_id,
        direction="in" if m.direction in _INBOUND else "out",
        origin=m.origin,
        type=m.type,
        text=text,
        attachments=[attachment_out(a) for a in m.attachments or ()],
        status=message_status(m, conversation),
        created_at=iso_from_ms(m.created_at) or "",
        author_id=m.author_id,
        reply_to=m.reply_to,
        quick_reply_payload=m.quick_reply_payload,
        postback_payload=m.postback_payload,
        parent_comment_id=m.parent_comment_id,
        reaction=_reaction(overlay),
        edited=edited,
        hidden=bool(m.hidden),
        deleted=m.deleted_at is not None,
        liked_by_page=bool(m.liked_by_page),
        private_reply=_private_reply_out(m),
        send_error=m.send_error if m.send_status == "failed" else None,
    )


def _private_reply_out(m: Message) -> PrivateReplyOut | None:
    state = m.private_reply
    if state is None:
        return None
    return PrivateReplyOut(status=state.status, at=iso_from_ms(state.at),
                           conversation_id=state.conversation_id, message_id=state.message_id,
                           error=state.error)


def _reaction(overlay: MessageOverlay | None) -> Reaction | None:
    # An unreact clears both fields; the overlay itself stays for its edits.
    if overlay is None or not (overlay.reaction or overlay.reaction_emoji):
        return None
    return Reaction(reaction=overlay.reaction, emoji=overlay.reaction_emoji)


def _text_and_edits(m: Message, overlay: MessageOverlay | None) -> tuple[str | None, Edited | None]:
    # Messenger edits live on the overlay, comment edits on the message; both keep the first
    # text on the message and each version in `edits` (key → {text, at}).
    source = overlay if overlay is not None and overlay.edits else m
    if not source.edits:
        return m.text, None
    versions = _ordered(source.edits)
    # Versions may arrive in any order; the latest by time is what the contact sees now.
    previous = [m.text or "", *versions[:-1]]
    return versions[-1], Edited(count=len(versions), previous=previous,
                                at=iso_from_ms(source.edited_at))


def _ordered(edits: Any) -> list[str]:
    if isinstance(edits, str):
        edits = json.loads(edits)
    versions = []
    for key, value in dict(edits).items():
        if isinstance(value, dict):
            versions.append((int(value.get("at") or 0), _number(key), str(value.get("text", ""))))
        else:
            versions.append((0, _number(key), str(value)))
    return [text for _, _, text in sorted(versions)]


def _number(key: str) -> int:
    return int(key) if str(key).isdigit() else 0
