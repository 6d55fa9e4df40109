"""Facebook's webhook events as the inbox understands them.

Two steps, kept apart because they run in different functions:

1. `split_notification` (webhook function) turns one POST body into queue items: one per
   event, each with the conversation it belongs to (the FIFO message group) and a
   deduplication id. It uses the standard library only, so the webhook stays quick to start.
2. `parse_event` (ingest function) turns one queue item into a typed event. Every kind the
   platform sends is either one of the dataclasses below or an `Ignored` with its reason;
   a payload that breaks Facebook's documented shape raises `MalformedEvent`.

Times are epoch milliseconds throughout; feed events carry seconds and are converted here.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from inbox.errors import MalformedEvent, MalformedNotification


@dataclass(frozen=True)
class QueueItem:
    """One event of a notification, ready for the FIFO queue."""

    body: str
    group_id: str
    deduplication_id: str
    page_id: str


def split_notification(raw_body: bytes | str) -> list[QueueItem]:
    """Split a webhook POST body into one queue item per event.

    Raises:
        MalformedNotification: the body is not JSON, not a page object, or has no entry list.
    """
    try:
        notification = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedNotification("body is not JSON") from exc
    if not isinstance(notification, dict) or notification.get("object") != "page":
        raise MalformedNotification("not a page notification")
    entries = notification.get("entry")
    if not isinstance(entries, list):
        raise MalformedNotification("entry is not a list")

    items = []
    for entry in entries:
        if not isinstance(entry, dict) or _facebook_id(entry.get("id")) is None:
            raise MalformedNotification("an entry has no page id")
        page_id = str(entry["id"])
        for source in ("messaging", "standby", "changes"):
            events = entry.get(source) or []
            if not isinstance(events, list):
                raise MalformedNotification(f"{source} is not a list")
            for event in events:
                items.append(_queue_item(page_id, source, entry.get("time"), event))
    return items


# Facebook's ids are digits, post and comment ids two of them joined by `_`. Only ids of that
# shape make a FIFO group id: it stays within SQS's 128 characters and its allowed characters.
_FACEBOOK_ID = re.compile(r"[0-9]{1,24}(_[0-9]{1,24})?")
_FIELD = re.compile(r"[a-z_]{1,32}")


def _facebook_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if _FACEBOOK_ID.fullmatch(text) else None


def _queue_item(page_id: str, source: str, entry_time: Any, event: Any) -> QueueItem:
    body = {"page_id": page_id, "source": source, "entry_time": entry_time, "event": event}
    # The event alone decides the id: a retry by Facebook repeats the event with a later
    # entry time (sample 28), and must still be recognised as the same event.
    identity = json.dumps([page_id, source, event], sort_keys=True, separators=(",", ":"))
    return QueueItem(
        body=json.dumps(body, separators=(",", ":")),
        group_id=_group_id(page_id, source, event),
        deduplication_id=hashlib.sha256(identity.encode()).hexdigest(),
        page_id=page_id,
    )


def _group_id(page_id: str, source: str, event: Any) -> str:
    """The FIFO message group: the conversation an event belongs to, as far as it says.

    Messenger events name the contact (the side that is not the page). Feed events do not
    always name the commenter (a hide comes from the page), so they are grouped by post,
    which keeps every change to one comment in order. An event without usable ids goes to
    its page's quarantine group: ingest fails it into the dead-letter queue, kept for a look,
    while the batch's other events go on (refusing the batch would lose them with it).
    """
    quarantine = f"{page_id}:malformed"
    if not isinstance(event, dict):
        return quarantine
    if source == "changes":
        value = event.get("value")
        field_name = event.get("field")
        if not isinstance(value, dict) or not isinstance(field_name, str) \
                or not _FIELD.fullmatch(field_name):
            return quarantine
        post = value.get("post_id") or value.get("parent_id")
        if post is None:
            # Not every feed change names a post; its field keeps such changes in one group.
            return f"{page_id}:field:{field_name}"
        return f"{page_id}:post:{post}" if _facebook_id(post) else quarantine
    sender = _party_id(event.get("sender"))
    recipient = _party_id(event.get("recipient"))
    if sender is None or recipient is None:
        return quarantine
    contact = recipient if sender == page_id else sender
    return f"{page_id}:psid:{contact}"


def _party_id(party: Any) -> str | None:
    return _facebook_id(party.get("id")) if isinstance(party, dict) else None


# --- typed events ------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentData:
    type: str
    url: str | None = None
    title: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReferralData:
    kind: str
    source: str | None
    ref: str | None
    ad_id: str | None = None
    ad_title: str | None = None
    ad_post_id: str | None = None
    ad_photo_url: str | None = None
    ad_video_url: str | None = None


@dataclass(frozen=True)
class MessengerEvent:
    page_id: str
    psid: str
    timestamp: int


@dataclass(frozen=True)
class InboundMessage(MessengerEvent):
    mid: str
    text: str | None
    attachments: tuple[AttachmentData, ...] = ()
    quick_reply_payload: str | None = None
    reply_to: str | None = None
    referral: ReferralData | None = None


@dataclass(frozen=True)
class Echo(MessengerEvent):
    """A message the page sent: by this inbox, another app, or Meta's own inbox."""

    mid: str
    app_id: str | None
    metadata: str | None
    text: str | None
    attachments: tuple[AttachmentData, ...] = ()


@dataclass(frozen=True)
class Postback(MessengerEvent):
    mid: str | None
    title: str | None
    payload: str | None
    referral: ReferralData | None = None


@dataclass(frozen=True)
class Delivery(MessengerEvent):
    watermark: int


@dataclass(frozen=True)
class Read(MessengerEvent):
    watermark: int


@dataclass(frozen=True)
class Reaction(MessengerEvent):
    mid: str
    action: str
    reaction: str | None
    emoji: str | None


@dataclass(frozen=True)
class MessageEdit(MessengerEvent):
    mid: str
    text: str | None
    num_edit: int


@dataclass(frozen=True)
class Referral(MessengerEvent):
    referral: ReferralData


@dataclass(frozen=True)
class CommentEvent:
    page_id: str
    post_id: str
    comment_id: str
    at: int


@dataclass(frozen=True)
class CommentAdded(CommentEvent):
    parent_comment_id: str | None
    author_id: str
    author_name: str | None
    text: str | None
    photo_url: str | None
    post_permalink: str | None

    @property
    def by_page(self) -> bool:
        return self.author_id == self.page_id


@dataclass(frozen=True)
class CommentEdited(CommentEvent):
    text: str | None


@dataclass(frozen=True)
class CommentVisibility(CommentEvent):
    hidden: bool


@dataclass(frozen=True)
class CommentRemoved(CommentEvent):
    pass


@dataclass(frozen=True)
class Ignored:
    """A valid event the inbox deliberately does not store, with the reason it is logged with."""

    page_id: str
    kind: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


FacebookEvent = (
    InboundMessage
    | Echo
    | Postback
    | Delivery
    | Read
    | Reaction
    | MessageEdit
    | Referral
    | CommentAdded
    | CommentEdited
    | CommentVisibility
    | CommentRemoved
    | Ignored
)

# Messenger payload keys the inbox does not store, and why.
_IGNORED_MESSAGING_KEYS = {
    "optin": "marketing opt-ins are not part of the inbox",
    "pass_thread_control": "thread control changes are not stored",
    "take_thread_control": "thread control changes are not stored",
    "request_thread_control": "thread control changes are not stored",
    "app_roles": "thread control changes are not stored",
    "policy-enforcement": "policy notices are not stored",
    "account_linking": "account linking is not used",
    "messaging_feedback": "feedback forms are not used",
    "response_feedback": "feedback forms are not used",
    "game_play": "games are not used",
    "send_cart": "carts are not used",
}


def parse_event(body: str | dict[str, Any]) -> FacebookEvent:
    """Turn one queue item (from `split_notification`) into a typed event.

    Raises:
        MalformedEvent: the event breaks Facebook's documented shape.
    """
    item = json.loads(body) if isinstance(body, str) else body
    try:
        page_id = str(item["page_id"])
        source = item["source"]
        event = item["event"]
        if source == "changes":
            return _parse_change(page_id, event)
        return _parse_messaging(page_id, event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"unexpected event shape: {type(exc).__name__}") from exc


def _parse_messaging(page_id: str, event: dict[str, Any]) -> FacebookEvent:
    sender = str(event["sender"]["id"])
    recipient = str(event["recipient"]["id"])
    timestamp = int(event["timestamp"])
    psid = recipient if sender == page_id else sender

    if "message" in event:
        message = event["message"]
        if message.get("is_echo"):
            return Echo(
                page_id=page_id,
                psid=psid,
                timestamp=timestamp,
                mid=str(message["mid"]),
                app_id=_str_or_none(message.get("app_id")),
                metadata=message.get("metadata"),
                text=message.get("text"),
                attachments=_attachments(message.get("attachments")),
            )
        return InboundMessage(
            page_id=page_id,
            psid=psid,
            timestamp=timestamp,
            mid=str(message["mid"]),
            text=message.get("text"),
            attachments=_attachments(message.get("attachments")),
            quick_reply_payload=(message.get("quick_reply") or {}).get("payload"),
            reply_to=(message.get("reply_to") or {}).get("mid"),
            referral=_referral(message.get("referral")),
        )
    if "postback" in event:
        postback = event["postback"]
        return Postback(
            page_id=page_id,
            psid=psid,
            timestamp=timestamp,
            mid=postback.get("mid"),
            title=postback.get("title"),
            payload=postback.get("payload"),
            referral=_referral(postback.get("referral")),
        )
    if "delivery" in event:
        watermark = int(event["delivery"]["watermark"])
        return Delivery(page_id=page_id, psid=psid, timestamp=timestamp, watermark=watermark)
    if "read" in event:
        watermark = int(event["read"]["watermark"])
        return Read(page_id=page_id, psid=psid, timestamp=timestamp, watermark=watermark)
    if "reaction" in event:
        reaction = event["reaction"]
        return Reaction(
            page_id=page_id,
            psid=psid,
            timestamp=timestamp,
            mid=str(reaction["mid"]),
            action=reaction["action"],
            reaction=reaction.get("reaction"),
            emoji=reaction.get("emoji"),
        )
    if "message_edit" in event:
        edit = event["message_edit"]
        return MessageEdit(
            page_id=page_id,
            psid=psid,
            timestamp=timestamp,
            mid=str(edit["mid"]),
            text=edit.get("text"),
            num_edit=int(edit.get("num_edit") or 1),
        )
    if "referral" in event:
        referral = _referral(event["referral"])
        assert referral is not None
        return Referral(page_id=page_id, psid=psid, timestamp=timestamp, referral=referral)
    for key, reason in _IGNORED_MESSAGING_KEYS.items():
        if key in event:
            return Ignored(page_id=page_id, kind=key, reason=reason)
    kinds = sorted(set(event) - {"sender", "recipient", "timestamp"})
    return Ignored(page_id, "unknown", "no handler for this messaging event", {"keys": kinds})


def _parse_change(page_id: str, change: dict[str, Any]) -> FacebookEvent:
    field_name = change["field"]
    value = change["value"]
    if field_name != "feed":
        return Ignored(page_id, field_name, "the inbox does not subscribe to this field")
    item = value.get("item")
    verb = value.get("verb")
    if item != "comment":
        return Ignored(page_id, f"feed.{item}", "only comments are stored", {"verb": verb})

    post_id = str(value["post_id"])
    comment_id = str(value["comment_id"])
    # Feed times are epoch seconds; the inbox keeps milliseconds everywhere.
    at = int(value["created_time"]) * 1000
    common = {"page_id": page_id, "post_id": post_id, "comment_id": comment_id, "at": at}

    if verb == "add":
        author = value["from"]
        parent_id = value.get("parent_id")
        return CommentAdded(
            **common,
            parent_comment_id=None if parent_id in (None, post_id) else str(parent_id),
            author_id=str(author["id"]),
            author_name=author.get("name"),
            text=value.get("message"),
            photo_url=value.get("photo"),
            post_permalink=(value.get("post") or {}).get("permalink_url"),
        )
    if verb in ("edited", "edit"):
        return CommentEdited(**common, text=value.get("message"))
    if verb in ("hide", "unhide"):
        return CommentVisibility(**common, hidden=verb == "hide")
    if verb == "remove":
        return CommentRemoved(**common)
    return Ignored(page_id, f"feed.comment.{verb}", "no handler for this comment verb")


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _attachments(raw: Any) -> tuple[AttachmentData, ...]:
    if not raw:
        return ()
    return tuple(_attachment(item) for item in raw)


def _attachment(raw: dict[str, Any]) -> AttachmentData:
    kind = raw["type"]
    payload = raw.get("payload") or {}
    url = payload.get("url") or raw.get("url")
    title = payload.get("title") or raw.get("title")
    # The media types carry only a link; every other type keeps what is not a link or title
    # (sticker id, coordinates, reel id, template elements) for the screens that show it.
    extra = {key: value for key, value in payload.items() if key not in ("url", "title")}
    if kind == "image" and "sticker_id" in payload:
        kind = "sticker"
    return AttachmentData(type=kind, url=url, title=title, payload=extra or None)


def _referral(raw: dict[str, Any] | None) -> ReferralData | None:
    if not raw:
        return None
    source = raw.get("source")
    ads = raw.get("ads_context_data") or {}
    if source == "ADS" or raw.get("ad_id"):
        kind = "ad"
    elif source in ("SHORTLINK", "MESSENGER_CODE"):
        kind = "link"
    else:
        kind = "other"
    return ReferralData(
        kind=kind,
        source=source,
        ref=raw.get("ref"),
        ad_id=_str_or_none(raw.get("ad_id")),
        ad_title=ads.get("ad_title"),
        ad_post_id=_str_or_none(ads.get("post_id")),
        ad_photo_url=ads.get("photo_url"),
        ad_video_url=ads.get("video_url"),
    )
