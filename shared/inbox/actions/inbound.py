"""Facebook events into contacts, conversations and messages: the write side of ingestion.

Every handler here is idempotent and order-proof, because Facebook delivers at least once and
in no promised order, and the queue retries a failed record:
- a message is one item whose key holds its own timestamp and Facebook id, written only if
  absent, so a redelivery finds it and stops;
- receipts are watermarks kept as maxima on the conversation, so a read that arrives before
  the message it covers still applies to it;
- reactions and edits are written beside their message by Facebook id (`MessageOverlay`), so
  they need the message neither to exist nor to be looked up;
- comment changes that arrive before their comment wait on its `CommentAlias`.

Write cost is part of the contract (at most 4 write units for a new text message); each
handler says what it writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from inbox import event_names
from inbox.actions import media, retention, routing
from inbox.facebook import events as fb
from inbox.models import (
    CONVERSATION_SK,
    PAGES_PK,
    Attachment,
    CommentAlias,
    Contact,
    Conversation,
    Message,
    MessageOverlay,
    Page,
    Referral,
    activity_key,
    comment_pk,
    contact_pk,
    conversation_pk,
    message_id_from_sk,
    message_sk,
    queue_key,
    routing_queue_key,
    routing_queue_sort_key,
    sk_from_message_id,
)
from inbox.publish import EventOutbox

logger = Logger(child=True)

PREVIEW_LENGTH = 80
OUR_METADATA_PREFIX = "inbox:"
_PAGE_CACHE_SECONDS = 60


class ProfileSource:
    """Where contact names come from; the ingest function passes one backed by the Graph API."""

    def messenger_profile(self, page: Page, psid: str) -> tuple[str, str | None] | None:
        """`(name, picture url)` of a Messenger contact, or None when Facebook will not say."""
        return None


@dataclass
class IngestContext:
    """What one unit of ingestion needs besides the event."""

    app_id: str
    outbox: EventOutbox = field(default_factory=EventOutbox)
    profiles: ProfileSource = field(default_factory=ProfileSource)


# --- pages -----------------------------------------------------------------------------------

_page_cache: dict[str, tuple[float, Page]] = {}


def connected_page(page_id: str) -> Page | None:
    """The connected page, cached briefly: every event needs it and pages rarely change.

    Only a connected page is cached: a page connected a moment ago must not have its first
    messages dropped because an earlier event found it missing.
    """
    now = time.monotonic()
    hit = _page_cache.get(page_id)
    if hit and now - hit[0] < _PAGE_CACHE_SECONDS:
        return hit[1]
    try:
        page = Page.get(PAGES_PK, page_id)
    except Page.DoesNotExist:
        return None
    _page_cache[page_id] = (now, page)
    return page


def forget_cached_pages() -> None:
    _page_cache.clear()


# --- entry point -----------------------------------------------------------------------------


def do_ingest_event(event: fb.FacebookEvent, ctx: IngestContext) -> str:
    """Apply one Facebook event; returns what happened, for logs and tests.

    Raises whatever storage raises: the queue then delivers the event again, and the
    handlers' idempotence makes the second attempt safe.
    """
    if isinstance(event, fb.Ignored):
        logger.info("event ignored", extra={"page_id": event.page_id, "kind": event.kind,
                                            "reason": event.reason, **event.details})
        return "ignored"

    page = connected_page(event.page_id)
    if page is None:
        logger.info("event for a page that is not connected", extra={"page_id": event.page_id,
                                                                     "kind": type(event).__name__})
        return "page_not_connected"

    handler = _HANDLERS[type(event)]
    return handler(event, page, ctx)


# --- conversations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Thread:
    """Who a new conversation is with, and on which channel."""

    conversation_id: str
    channel: str
    contact_id: str
    facebook_user_id: str
    contact_kind: str
    post_id: str | None = None
    name_hint: str | None = None


def messenger_thread(page_id: str, psid: str) -> _Thread:
    contact_id = f"m{page_id}_{psid}"
    return _Thread(contact_id, "messenger", contact_id, psid, "messenger")


def comment_thread(page_id: str, post_id: str, author_id: str, name: str | None) -> _Thread:
    return _Thread(
        conversation_id=f"c{post_id}_{author_id}",
        channel="comment",
        contact_id=f"c{page_id}_{author_id}",
        facebook_user_id=author_id,
        contact_kind="commenter",
        post_id=post_id,
        name_hint=name,
    )


def _load_conversation(conversation_id: str) -> Conversation | None:
    try:
        # Strongly consistent: a message of the same conversation may have been written by
        # the previous record of this batch.
        return Conversation.get(conversation_pk(conversation_id), CONVERSATION_SK,
                                consistent_read=True)
    except Conversation.DoesNotExist:
        return None


def _create_conversation(thread: _Thread, page: Page, first: Message, ctx: IngestContext, *,
                         counts_unread: bool, opens_window: bool) -> Conversation | None:
    """Create the conversation with its contact, already showing its first message.

    Writes: the contact (1 unit) and the conversation with its list index entry (2 units)
    and, when it waits for people, its queue entry (1 unit); with the message itself, a new
    conversation costs 4 or 5, and routing's transaction follows. Returns None when another
    worker created it first.
    """
    name, name_source, picture = _contact_name(thread, page, ctx)
    contact_created = _upsert_contact(thread, page, name, name_source, picture)
    status = "bot" if page.faq_auto_reply else "unassigned"
    conversation = Conversation(conversation_pk(thread.conversation_id), CONVERSATION_SK,
                                conversation_id=thread.conversation_id, page_id=page.page_id)
    try:
        # A stub may exist already (a receipt or referral that came first): creation fills
        # in the rest and keeps its watermarks.
        conversation.update(
            actions=[
                Conversation.conversation_id.set(thread.conversation_id),
                Conversation.channel.set(thread.channel),
                Conversation.page_id.set(page.page_id),
                Conversation.contact_id.set(thread.contact_id),
                Conversation.contact_name.set(name),
                Conversation.status.set(status),
                Conversation.created_at.set(first.created_at),
                Conversation.gsi1pk.set(queue_key(page.page_id, status)),
                # In the page's queue from its first write, so that a crash before routing
                # leaves it where the sweep's drain finds it.
                *(_queued_actions(thread.conversation_id, page.page_id, first.created_at)
                  if status == "unassigned" else []),
                *_activity_actions(thread.conversation_id, first),
                Conversation.unread_count.set(1 if counts_unread else 0),
                *([Conversation.last_inbound_at.set(first.created_at)] if opens_window else []),
                *([Conversation.post_id.set(thread.post_id)] if thread.post_id else []),
            ],
            condition=Conversation.created_at.does_not_exist(),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return None
        raise

    if contact_created:
        ctx.outbox.add(event_names.CONTACT_CREATED, contact_id=thread.contact_id,
                       page_id=page.page_id)
    ctx.outbox.add(event_names.CONVERSATION_CREATED, conversation_id=thread.conversation_id,
                   page_id=page.page_id, channel=thread.channel, status=status,
                   contact_id=thread.contact_id)
    logger.info("conversation created", extra={"conversation_id": thread.conversation_id,
                                               "page_id": page.page_id, "status": status})
    return conversation


def _queued_actions(conversation_id: str, page_id: str, at: int) -> list[Any]:
    return [
        Conversation.queued_at.set(at),
        Conversation.gsi2pk.set(routing_queue_key(page_id)),
        Conversation.gsi2sk.set(routing_queue_sort_key(at, conversation_id)),
    ]


def _activity_actions(conversation_id: str, message: Message) -> list[Any]:
    return [
        Conversation.last_message_sk.set(message.sk),
        Conversation.last_activity_at.set(message.created_at),
        Conversation.gsi1sk.set(activity_key(message.created_at, conversation_id)),
        Conversation.last_message_preview.set(_preview(message)),
        Conversation.last_message_direction.set(message.direction),
    ]


def _contact_name(thread: _Thread, page: Page, ctx: IngestContext) -> tuple[str, str, str | None]:
    if thread.name_hint:
        return thread.name_hint, "webhook", None
    if thread.contact_kind == "messenger":
        profile = ctx.profiles.messenger_profile(page, thread.facebook_user_id)
        if profile:
            return profile[0], "graph", profile[1]
    # Facebook withholds names without the profile feature; the last digits still tell two
    # such contacts apart in a list.
    return f"Facebook user {thread.facebook_user_id[-4:]}", "fallback", None


def _upsert_contact(thread: _Thread, page: Page, name: str, name_source: str,
                    picture: str | None) -> bool:
    """Create the contact or add the conversation to it; True when it was created (1 unit)."""
    created_at = datetime.fromtimestamp(time.time_ns() / 1e9, tz=UTC)
    contact = Contact(contact_pk(thread.contact_id), "CONTACT")
    contact.update(actions=[
        Contact.contact_id.set(thread.contact_id),
        Contact.page_id.set(page.page_id),
        Contact.facebook_user_id.set(thread.facebook_user_id),
        Contact.kind.set(thread.contact_kind),
        Contact.name.set(Contact.name | name),
        Contact.name_source.set(Contact.name_source | name_source),
        *([Contact.picture_url.set(Contact.picture_url | picture)] if picture else []),
        Contact.conversation_ids.add({thread.conversation_id}),
        Contact.created_at.set(Contact.created_at | created_at),
    ])
    # Only the write that created the contact finds its own time stamped on it.
    return contact.created_at == created_at


def _is_history_of_a_close(conversation: Conversation, message: Message) -> bool:
    """A late message (older than the newest) from before the conversation was closed."""
    return (conversation.status == "closed" and conversation.closed_at is not None
            and message.sk < (conversation.last_message_sk or "")
            and message.created_at <= conversation.closed_at)


def _record_activity(conversation: Conversation, message: Message, *, counts_unread: bool,
                     opens_window: bool) -> None:
    """Take a stored message into account on its conversation, once.

    The newest message (1 unit, plus 2 for re-keying the list index) sets activity, preview
    and direction; a late older one only adds to the unread count and the window. The
    conversation remembers its newest message's key, so a retried record changes nothing.
    """
    newest = conversation.last_message_sk or ""
    if message.sk == newest:
        return
    unread = [Conversation.unread_count.add(1)] if counts_unread else []
    if message.sk > newest:
        window = [Conversation.last_inbound_at.set(message.created_at)] if opens_window else []
        try:
            conversation.update(
                actions=[*_activity_actions(conversation.conversation_id or "", message),
                         *unread, *window, *_awaiting_actions(conversation, message)],
                # Another worker may have applied a newer message since we read.
                condition=(Conversation.last_message_sk == newest) if newest
                else Conversation.last_message_sk.does_not_exist(),
            )
            return
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
            fresh = _load_conversation(conversation.conversation_id or "")
            assert fresh is not None
            _record_activity(fresh, message, counts_unread=counts_unread,
                             opens_window=opens_window)
            return
    # A late message: its activity is history, but it is still unread and may be the
    # contact's latest sign of life in a reordered batch. A retry between its two writes
    # can count it twice; that case needs both a reordered delivery and a crash.
    actions = list(unread)
    if opens_window and message.created_at > (conversation.last_inbound_at or 0):
        actions.append(Conversation.last_inbound_at.set(message.created_at))
    if actions:
        conversation.update(actions=actions)


def _awaiting_actions(conversation: Conversation, message: Message) -> list[Any]:
    """Since when the contact waits for a member's answer, for the unanswered hand-back.

    Part of the activity write, so it costs no extra unit; kept at the first unanswered
    message (if_not_exists). A bot conversation waits on no member.
    """
    if message.direction == "in" and conversation.status != "bot":
        at = message.created_at
        return [Conversation.awaiting_reply_since.set(Conversation.awaiting_reply_since | at)]
    if message.direction == "out" and conversation.awaiting_reply_since is not None:
        return [Conversation.awaiting_reply_since.remove()]
    return []


def _preview(message: Message) -> str:
    if message.text:
        return message.text[:PREVIEW_LENGTH]
    if message.attachments:
        return f"[{message.attachments[0].type}]"
    return f"[{message.type}]"


def _store_message(message: Message) -> bool:
    """Write a new message (1 unit); False when it is stored already (a redelivery)."""
    try:
        message.save(condition=Message.pk.does_not_exist())
        return True
    except PutError as exc:
        if _condition_failed(exc):
            return False
        raise


def _condition_failed(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def _attachments(items: tuple[fb.AttachmentData, ...]) -> list[Attachment] | None:
    if not items:
        return None
    attachments = [Attachment(type=a.type, url=a.url, title=a.title, payload=a.payload)
                   for a in items]
    media.mark_pending(attachments)
    return attachments


def _announce_message(ctx: IngestContext, conversation: Conversation, message: Message) -> None:
    ctx.outbox.add(
        event_names.MESSAGE_CREATED,
        conversation_id=message.conversation_id,
        page_id=conversation.page_id,
        message_id=message_id_from_sk(message.sk),
        direction=message.direction,
        type=message.type,
        created_at=message.created_at,
    )


def _add_message(thread: _Thread | None, page: Page, message: Message, ctx: IngestContext, *,
                 counts_unread: bool, opens_window: bool,
                 store: Callable[[Message], bool] | None = None) -> str:
    """Store a message in its conversation, creating the conversation if this is its first.

    `thread` says who a new conversation would be with; None when it must exist already.
    """
    flags = {"counts_unread": counts_unread, "opens_window": opens_window}
    conversation = _load_conversation(message.conversation_id)
    created = False
    if conversation is None or conversation.created_at is None:
        assert thread is not None, "a conversation without a thread must exist already"
        conversation = _create_conversation(thread, page, message, ctx, **flags)
        if conversation is None:
            conversation = _load_conversation(message.conversation_id)
            assert conversation is not None
        else:
            conversation.last_message_sk = message.sk
            created = True
    elif message.direction == "in" and message.sk > (conversation.last_message_sk or ""):
        # Before the message is stored: a record retried after a crash finds the message
        # missing and comes here again, and routing's writes are conditioned on the state,
        # so a reopen or hand-over happens once. Closed and bot conversations only: an
        # assigned or queued one costs nothing here.
        if conversation.status in ("closed", "bot"):
            routing.do_route_on_inbound(conversation, page=page, text=message.text,
                                        outbox=ctx.outbox)
    elif _is_history_of_a_close(conversation, message):
        # Older than the newest message, so it does not reopen; sent before the member
        # closed, so it is no news either: an unread count on a closed conversation would
        # ask for attention nothing lets a member give.
        flags["counts_unread"] = False

    message.expires_at = retention.expires_at(message.created_at)
    if not (store or _store_message)(message):
        # A redelivery; it also finishes a record that stopped between its two writes.
        if message.sk > (conversation.last_message_sk or ""):
            _record_activity(conversation, message, **flags)
        media.enqueue_copy(message)
        return "duplicate"

    _record_activity(conversation, message, **flags)
    media.enqueue_copy(message)
    _announce_message(ctx, conversation, message)
    logger.info("message stored", extra={"conversation_id": message.conversation_id,
                                         "message_id": message_id_from_sk(message.sk),
                                         "direction": message.direction, "type": message.type})
    if created:
        # Only the record that created the conversation routes it; one that crashed before
        # this left it queued for the sweep.
        routing.do_route_new_conversation(conversation, page=page, text=message.text,
                                          outbox=ctx.outbox)
    return "stored"


# --- Messenger -------------------------------------------------------------------------------


def _messenger_type(attachments: tuple[fb.AttachmentData, ...]) -> str:
    # A link share carries its text and an attachment; it is listed as an attachment.
    return "attachment" if attachments else "text"


def do_inbound_message(event: fb.InboundMessage, page: Page, ctx: IngestContext) -> str:
    """A contact's message: 1 unit for the message, 3 for the conversation (see above)."""
    thread = messenger_thread(page.page_id, event.psid)
    message = Message(
        conversation_pk(thread.conversation_id),
        message_sk(event.timestamp, event.mid),
        conversation_id=thread.conversation_id,
        facebook_id=event.mid,
        direction="in",
        origin="contact",
        type=_messenger_type(event.attachments),
        text=event.text,
        attachments=_attachments(event.attachments),
        quick_reply_payload=event.quick_reply_payload,
        reply_to=event.reply_to,
        author_id=event.psid,
        created_at=event.timestamp,
    )
    outcome = _add_message(thread, page, message, ctx, counts_unread=True, opens_window=True)
    if event.referral:
        _record_referral(thread, page, event.referral, event.timestamp, ctx)
    return outcome


def do_postback(event: fb.Postback, page: Page, ctx: IngestContext) -> str:
    """A button tap, stored as an inbound message with its title and payload."""
    thread = messenger_thread(page.page_id, event.psid)
    # Postbacks before Graph v11 have no mid; their timestamp and payload identify them.
    local_id = event.mid or f"postback-{event.timestamp}-{event.payload or ''}"
    message = Message(
        conversation_pk(thread.conversation_id),
        message_sk(event.timestamp, local_id),
        conversation_id=thread.conversation_id,
        facebook_id=event.mid,
        direction="in",
        origin="contact",
        type="postback",
        text=event.title,
        postback_payload=event.payload,
        author_id=event.psid,
        created_at=event.timestamp,
    )
    outcome = _add_message(thread, page, message, ctx, counts_unread=True, opens_window=True)
    if event.referral:
        _record_referral(thread, page, event.referral, event.timestamp, ctx)
    return outcome


def outbound_metadata(message_id: str) -> str:
    """The Send API `metadata` that lets the echo of a message we sent find it."""
    return OUR_METADATA_PREFIX + message_id


def do_echo(event: fb.Echo, page: Page, ctx: IngestContext) -> str:
    """A message the page sent. Ours (sent through this inbox) is matched, never stored twice."""
    thread = messenger_thread(page.page_id, event.psid)
    ours = event.app_id == ctx.app_id
    if ours and event.metadata and event.metadata.startswith(OUR_METADATA_PREFIX):
        if _confirm_our_message(thread, event):
            return "echo_matched"

    message = Message(
        conversation_pk(thread.conversation_id),
        message_sk(event.timestamp, event.mid),
        conversation_id=thread.conversation_id,
        facebook_id=event.mid,
        direction="out",
        origin="inbox" if ours else "external",
        type=_messenger_type(event.attachments),
        text=event.text,
        attachments=_attachments(event.attachments),
        send_status="sent",
        sent_by_app_id=event.app_id,
        created_at=event.timestamp,
    )
    return _add_message(thread, page, message, ctx, counts_unread=False, opens_window=False)


def _confirm_our_message(thread: _Thread, event: fb.Echo) -> bool:
    """Fill in the Facebook id of a message we sent, if the send's answer did not already."""
    sk = sk_from_message_id((event.metadata or "")[len(OUR_METADATA_PREFIX):])
    message = Message(conversation_pk(thread.conversation_id), sk)
    try:
        message.update(
            actions=[Message.facebook_id.set(Message.facebook_id | event.mid),
                     Message.send_status.set("sent")],
            condition=Message.pk.exists() & (Message.send_status != "failed"),
        )
        return True
    except UpdateError as exc:
        if _condition_failed(exc):
            return False
        raise


def do_delivery(event: fb.Delivery, page: Page, ctx: IngestContext) -> str:
    return _raise_watermark(event, page, ctx, Conversation.delivered_watermark, "delivered")


def do_read(event: fb.Read, page: Page, ctx: IngestContext) -> str:
    return _raise_watermark(event, page, ctx, Conversation.read_watermark, "read")


def _raise_watermark(event: fb.Delivery | fb.Read, page: Page, ctx: IngestContext,
                     attribute: Any, status: str) -> str:
    """Raise a receipt watermark (1 unit); a lower or repeated one changes nothing.

    If the conversation is not stored yet (the receipt overtook the message), this leaves a
    stub that only holds the watermark; the first message fills it in.
    """
    thread = messenger_thread(page.page_id, event.psid)
    conversation = Conversation(conversation_pk(thread.conversation_id), CONVERSATION_SK)
    try:
        conversation.update(
            actions=[attribute.set(event.watermark)],
            condition=attribute.does_not_exist() | (attribute < event.watermark),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return "stale_receipt"
        raise
    ctx.outbox.add(event_names.MESSAGE_STATUS_CHANGED, conversation_id=thread.conversation_id,
                   page_id=page.page_id, status=status, watermark=event.watermark)
    return f"{status}_watermark"


def do_reaction(event: fb.Reaction, page: Page, ctx: IngestContext) -> str:
    """A contact's reaction on a message (1 unit), also a sign of life that opens the window."""
    thread = messenger_thread(page.page_id, event.psid)
    overlay = MessageOverlay(conversation_pk(thread.conversation_id), f"FX#{event.mid}")
    if event.action == "react":
        actions = [MessageOverlay.reaction.set(event.reaction or "other"),
                   MessageOverlay.reaction_emoji.set(event.emoji or "")]
    else:
        actions = [MessageOverlay.reaction.remove(), MessageOverlay.reaction_emoji.remove()]
    try:
        overlay.update(
            actions=[MessageOverlay.facebook_id.set(event.mid),
                     MessageOverlay.reaction_at.set(event.timestamp), *actions],
            # The later of two reactions wins, whatever order they arrive in.
            condition=MessageOverlay.reaction_at.does_not_exist()
            | (MessageOverlay.reaction_at < event.timestamp),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return "stale_reaction"
        raise
    _open_window(thread, event.timestamp)
    ctx.outbox.add(event_names.MESSAGE_UPDATED, conversation_id=thread.conversation_id,
                   page_id=page.page_id, facebook_id=event.mid, change="reaction",
                   reaction=event.reaction if event.action == "react" else None)
    return "reaction"


def _open_window(thread: _Thread, at: int) -> None:
    conversation = Conversation(conversation_pk(thread.conversation_id), CONVERSATION_SK)
    try:
        conversation.update(
            actions=[Conversation.last_inbound_at.set(at)],
            condition=Conversation.created_at.exists()
            & (Conversation.last_inbound_at.does_not_exist()
               | (Conversation.last_inbound_at < at)),
        )
    except UpdateError as exc:
        if not _condition_failed(exc):
            raise


def do_message_edit(event: fb.MessageEdit, page: Page, ctx: IngestContext) -> str:
    """A contact edited a message: each version kept by edit number beside the message.

    One unit, plus one strongly consistent read of the overlay.
    """
    thread = messenger_thread(page.page_id, event.psid)
    overlay = MessageOverlay(conversation_pk(thread.conversation_id), f"FX#{event.mid}",
                             facebook_id=event.mid)
    version = {"text": event.text, "at": event.timestamp}
    if not _add_version(MessageOverlay, overlay, str(event.num_edit), version, must_exist=False):
        return "stale_edit"
    ctx.outbox.add(event_names.MESSAGE_UPDATED, conversation_id=thread.conversation_id,
                   page_id=page.page_id, facebook_id=event.mid, change="edit",
                   edit_count=event.num_edit)
    return "edited"


def _add_version(model: Any, item: Any, key: str, version: dict[str, Any], *,
                 must_exist: bool) -> bool:
    """Add one version to an item's `edits` map; False when it is there already.

    `edits` maps an edit key to `{text, at}`; readers show the text of the latest `at`, so
    edits that arrive out of order still end on the right text. The map is one small value,
    rewritten under a condition on what was read, so two edits at once cannot drop each other.
    """
    try:
        current = model.get(item.pk, item.sk, consistent_read=True)
    except model.DoesNotExist:
        if must_exist:
            raise
        current = None
    edits = dict(current.edits or {}) if current is not None else {}
    if edits.get(key) == version:
        return False
    edits[key] = version
    if current is None or current.edits is None:
        condition = model.edits.does_not_exist()
    else:
        condition = model.edits == current.edits
    actions = [model.edits.set(edits),
               model.edited_at.set(max(int(v["at"]) for v in edits.values()))]
    if getattr(item, "facebook_id", None) and model is MessageOverlay:
        actions.append(model.facebook_id.set(item.facebook_id))
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if _condition_failed(exc):
            return _add_version(model, item, key, version, must_exist=must_exist)
        raise
    return True


def do_referral(event: fb.Referral, page: Page, ctx: IngestContext) -> str:
    """A contact came back through an ad or an m.me link: kept on the conversation."""
    thread = messenger_thread(page.page_id, event.psid)
    _record_referral(thread, page, event.referral, event.timestamp, ctx)
    _open_window(thread, event.timestamp)
    return "referral"


def _record_referral(thread: _Thread, page: Page, referral: fb.ReferralData, at: int,
                     ctx: IngestContext) -> None:
    """Keep where the contact came from on the conversation (1 unit); the latest one wins.

    A referral may come before any message (a new thread opened from an ad); it then waits
    on a stub that the first message fills in.
    """
    value = Referral(
        kind=referral.kind, source=referral.source, ref=referral.ref, ad_id=referral.ad_id,
        ad_title=referral.ad_title, ad_post_id=referral.ad_post_id,
        ad_photo_url=referral.ad_photo_url, ad_video_url=referral.ad_video_url, at=at,
    )
    conversation = Conversation(conversation_pk(thread.conversation_id), CONVERSATION_SK)
    try:
        conversation.update(
            actions=[Conversation.referral.set(value)],
            condition=Conversation.referral.does_not_exist()
            | (Conversation.referral.at < at),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return
        raise
    ctx.outbox.add(event_names.CONVERSATION_UPDATED, conversation_id=thread.conversation_id,
                   page_id=page.page_id, change="referral", referral_kind=referral.kind)


# --- comments --------------------------------------------------------------------------------


def do_comment_added(event: fb.CommentAdded, page: Page, ctx: IngestContext) -> str:
    """A comment on a page post: a message in the commenter's conversation about that post.

    Costs one unit more than a Messenger message: the alias that later changes find it by.
    """
    if event.by_page:
        return _page_comment(event, page, ctx)

    thread = comment_thread(page.page_id, event.post_id, event.author_id, event.author_name)
    message = _comment_message(event, thread.conversation_id, direction="in", origin="contact")
    outcome = _add_message(thread, page, message, ctx, counts_unread=True, opens_window=False)
    _settle_alias(event.comment_id, thread.conversation_id, message.sk, page, ctx)
    return outcome


def _page_comment(event: fb.CommentAdded, page: Page, ctx: IngestContext) -> str:
    """The page's own comment: an outbound message in the conversation of the comment it answers.

    A reply this inbox posted has its alias already, and is not stored twice.
    """
    if _alias(event.comment_id) is not None:
        return "echo_matched"
    if event.parent_comment_id is None:
        return _ignore(event, "the page's own top-level comment is not a conversation")
    parent = _alias(event.parent_comment_id)
    if parent is None or parent.conversation_id is None:
        return _wait_for_comment(event.parent_comment_id, event)

    message = _comment_message(event, parent.conversation_id, direction="out",
                               origin="external")
    try:
        outcome = _add_message(None, page, message, ctx, counts_unread=False,
                               opens_window=False,
                               store=lambda m: _store_claiming_alias(m, event.comment_id))
    except _ReplyOfThisInbox:
        return "echo_matched"
    _settle_alias(event.comment_id, parent.conversation_id, message.sk, page, ctx)
    return outcome


class _ReplyOfThisInbox(Exception):
    """The comment's alias names another message: this inbox's own reply claimed it."""


def _store_claiming_alias(message: Message, comment_id: str) -> bool:
    """Store the page's comment and claim its alias in one transaction.

    A reply sent from this inbox claims the alias when Facebook answers; its webhook may be
    ingested at that very moment. Written together, exactly one of the two copies wins the
    alias, and the reply's sender finds the ingested copy complete when it adopts it.
    """
    alias = CommentAlias(comment_pk(comment_id), "COMMENT")
    connection = Connection(region=Message.Meta.region, host=Message.Meta.host)
    try:
        with TransactWrite(connection=connection) as transaction:
            transaction.save(message, condition=Message.pk.does_not_exist())
            transaction.update(alias, actions=[
                CommentAlias.comment_id.set(comment_id),
                CommentAlias.conversation_id.set(message.conversation_id),
                CommentAlias.message_sk.set(message.sk),
            ], condition=CommentAlias.message_sk.does_not_exist()
                | (CommentAlias.message_sk == message.sk))
    except TransactWriteError as exc:
        stored, claimed = (exc.cancellation_reasons or [None, None])[:2]
        if claimed is not None and claimed.code == "ConditionalCheckFailed":
            raise _ReplyOfThisInbox from None
        if stored is not None and stored.code == "ConditionalCheckFailed":
            return False
        raise
    return True


def _comment_message(event: fb.CommentAdded, conversation_id: str, *, direction: str,
                     origin: str) -> Message:
    photo = [Attachment(type="image", url=event.photo_url)] if event.photo_url else None
    media.mark_pending(photo)
    return Message(
        conversation_pk(conversation_id),
        message_sk(event.at, event.comment_id),
        conversation_id=conversation_id,
        facebook_id=event.comment_id,
        direction=direction,
        origin=origin,
        type="comment",
        text=event.text,
        attachments=photo,
        send_status="sent" if direction == "out" else None,
        author_id=event.author_id,
        parent_comment_id=event.parent_comment_id,
        created_at=event.at,
    )


def _alias(comment_id: str) -> CommentAlias | None:
    try:
        return CommentAlias.get(comment_pk(comment_id), "COMMENT", consistent_read=True)
    except CommentAlias.DoesNotExist:
        return None


def _settle_alias(comment_id: str, conversation_id: str, sk: str, page: Page,
                  ctx: IngestContext) -> None:
    """Record where a comment is, then apply the changes that arrived before it."""
    alias = CommentAlias(comment_pk(comment_id), "COMMENT")
    alias.update(actions=[CommentAlias.comment_id.set(comment_id),
                          CommentAlias.conversation_id.set(conversation_id),
                          CommentAlias.message_sk.set(sk)])
    if not alias.pending:
        return
    waiting = list(alias.pending)
    for item in waiting:
        do_ingest_event(fb.parse_event(item), ctx)
    alias.update(actions=[CommentAlias.pending.remove()])
    logger.info("waiting comment changes applied", extra={"comment_id": comment_id,
                                                          "count": len(waiting)})


def _wait_for_comment(comment_id: str, event: fb.CommentEvent) -> str:
    """Park a change until the comment it needs is stored (it overtook that comment)."""
    item = {"page_id": event.page_id, "source": "changes", "event": _as_change(event)}
    alias = CommentAlias(comment_pk(comment_id), "COMMENT")
    alias.update(actions=[
        CommentAlias.comment_id.set(comment_id),
        CommentAlias.pending.set((CommentAlias.pending | []).append([dumps(item)])),
    ])
    logger.info("comment change waits for its comment", extra={"comment_id": comment_id})
    return "waiting_for_comment"


def _as_change(event: fb.CommentEvent) -> dict[str, Any]:
    """Rebuild the feed change of an event, so a parked change replays through the parser."""
    value: dict[str, Any] = {
        "item": "comment",
        "post_id": event.post_id,
        "comment_id": event.comment_id,
        "created_time": event.at // 1000,
    }
    if isinstance(event, fb.CommentAdded):
        value.update(verb="add", message=event.text, photo=event.photo_url,
                     parent_id=event.parent_comment_id or event.post_id,
                     **{"from": {"id": event.author_id, "name": event.author_name}})
    elif isinstance(event, fb.CommentEdited):
        value.update(verb="edited", message=event.text)
    elif isinstance(event, fb.CommentVisibility):
        value.update(verb="hide" if event.hidden else "unhide")
    else:
        value.update(verb="remove")
    return {"field": "feed", "value": {k: v for k, v in value.items() if v is not None}}


def _stored_comment(event: fb.CommentEvent) -> Message | None:
    alias = _alias(event.comment_id)
    if alias is None or alias.conversation_id is None or alias.message_sk is None:
        return None
    return Message(conversation_pk(alias.conversation_id), alias.message_sk,
                   conversation_id=alias.conversation_id)


def do_comment_edited(event: fb.CommentEdited, page: Page, ctx: IngestContext) -> str:
    """The author changed a comment: the new version kept beside the original (1 unit)."""
    message = _stored_comment(event)
    if message is None:
        return _wait_for_comment(event.comment_id, event)
    version = {"text": event.text, "at": event.at}
    # Comment edits carry no edit number; the time of the change names the version.
    if not _add_version(Message, message, str(event.at), version, must_exist=True):
        return "stale_edit"
    ctx.outbox.add(event_names.MESSAGE_UPDATED, conversation_id=message.conversation_id,
                   page_id=page.page_id, facebook_id=event.comment_id, change="edit")
    return "edited"


def do_comment_visibility(event: fb.CommentVisibility, page: Page, ctx: IngestContext) -> str:
    """The page hid or unhid a comment; the later change wins (1 unit)."""
    message = _stored_comment(event)
    if message is None:
        return _wait_for_comment(event.comment_id, event)
    try:
        message.update(
            actions=[Message.hidden.set(event.hidden), Message.hidden_changed_at.set(event.at)],
            condition=Message.hidden_changed_at.does_not_exist()
            | (Message.hidden_changed_at < event.at),
        )
    except UpdateError as exc:
        if _condition_failed(exc):
            return "stale_visibility"
        raise
    ctx.outbox.add(event_names.MESSAGE_UPDATED, conversation_id=message.conversation_id,
                   page_id=page.page_id, facebook_id=event.comment_id, change="visibility",
                   hidden=event.hidden)
    return "hidden" if event.hidden else "unhidden"


def do_comment_removed(event: fb.CommentRemoved, page: Page, ctx: IngestContext) -> str:
    """The comment was deleted on Facebook: kept, marked deleted (1 unit)."""
    message = _stored_comment(event)
    if message is None:
        return _wait_for_comment(event.comment_id, event)
    try:
        message.update(actions=[Message.deleted_at.set(event.at)],
                       condition=Message.deleted_at.does_not_exist())
    except UpdateError as exc:
        if _condition_failed(exc):
            return "already_deleted"
        raise
    ctx.outbox.add(event_names.MESSAGE_UPDATED, conversation_id=message.conversation_id,
                   page_id=page.page_id, facebook_id=event.comment_id, change="deleted")
    return "deleted"


def _ignore(event: Any, reason: str) -> str:
    logger.info("event ignored", extra={"page_id": event.page_id,
                                        "kind": type(event).__name__, "reason": reason})
    return "ignored"


_HANDLERS: dict[type, Callable[[Any, Page, IngestContext], str]] = {
    fb.InboundMessage: do_inbound_message,
    fb.Postback: do_postback,
    fb.Echo: do_echo,
    fb.Delivery: do_delivery,
    fb.Read: do_read,
    fb.Reaction: do_reaction,
    fb.MessageEdit: do_message_edit,
    fb.Referral: do_referral,
    fb.CommentAdded: do_comment_added,
    fb.CommentEdited: do_comment_edited,
    fb.CommentVisibility: do_comment_visibility,
    fb.CommentRemoved: do_comment_removed,
}


def dumps(item: dict[str, Any]) -> str:
    return json.dumps(item, separators=(",", ":"))
