"""The inbox's DynamoDB items: one table, one model per kind of item.

Every key and index below exists for an access pattern named beside it; none exists "in case".
Write cost drives the layout: a new inbound text message must cost at most 4 write request
units, so a message item has no index of its own and only the conversation's activity index
(``by_page_status``) is re-keyed when a message arrives.

| item | pk | sk | access pattern |
| --- | --- | --- | --- |
| page | ``PAGES`` | page id | list the pages; get one |
| disconnected page | ``PAGES_DISCONNECTED`` | page id | list its stored conversations |
| member | ``MEMBERS`` | member id | get a member; list the team |
| contact | ``CONTACT#<id>`` | ``CONTACT`` | get a contact |
| conversation | ``CONV#<id>`` | ``CONV`` | get a conversation |
| message | ``CONV#<id>`` | ``MSG#<ms>#<id>`` | a conversation's messages in time order |
| message overlay | ``CONV#<id>`` | ``FX#<mid>`` | reactions and edits of a message |
| comment alias | ``COMMENT#<id>`` | ``COMMENT`` | a comment's conversation and message |
| contact tag | ``TAG#<tag, case-folded>`` | contact id | contacts carrying a tag |
| brand settings | ``BRAND`` | ``SETTINGS`` | the isolation switch, read by every agent's access |
| api key | ``APIKEYS`` | key id | find a presented key by its id; list the brand's keys |
| catalog product | ``CATALOG`` | product id | list the products; get the ones sent as cards |
| deletion request | ``DELETION#<code>`` | ``DELETION`` | a data-deletion status page |
| timeline entry | ``CONV#<id>`` | ``TL#<ms>#<id>`` | a conversation's routing history in order |
| websocket connection | ``CONNECTIONS`` | connection id | every open connection, for one push |

Indexes:
- ``by_page_status`` (gsi1): conversations of one page in one status, newest activity first:
  the inbox list. The only index a new message re-keys.
- ``by_assignee`` (gsi2, keys only, sparse): a member's conversations by status (hash: the
  member id, range: ``<status>#<ms>#<conversation id>``), and each page's queue of
  ``unassigned`` conversations, oldest first (hash: ``QUEUE#<page id>``, range:
  ``<queued ms>#<conversation id>``). Written on routing changes, never on a new message;
  ``bot`` conversations are in neither.
- ``by_phone`` (gsi3, keys only, sparse): contacts by the digits of their phone number,
  written when a member records one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

PAGES_PK = "PAGES"
DISCONNECTED_PAGES_PK = "PAGES_DISCONNECTED"
MEMBERS_PK = "MEMBERS"
BRAND_PK = "BRAND"
SETTINGS_SK = "SETTINGS"
API_KEYS_PK = "APIKEYS"
CONVERSATION_SK = "CONV"
CONTACT_SK = "CONTACT"
COMMENT_SK = "COMMENT"
MESSAGE_PREFIX = "MSG#"
OVERLAY_PREFIX = "FX#"
CONNECTIONS_PK = "CONNECTIONS"


def utcnow() -> datetime:
    return datetime.now(UTC)


def conversation_pk(conversation_id: str) -> str:
    return f"CONV#{conversation_id}"


def contact_pk(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


def comment_pk(comment_id: str) -> str:
    return f"COMMENT#{comment_id}"


def deletion_request_pk(code: str) -> str:
    return f"DELETION#{code}"


def message_sk(timestamp_ms: int, local_id: str) -> str:
    # Zero-padded so that string order is time order; the id breaks ties and keeps keys unique.
    return f"{MESSAGE_PREFIX}{timestamp_ms:013d}#{local_id}"


# A message's id in the API is its key with `~` for `#`: HTTP APIs hand the Lambda the path
# decoded, and a `#` there would end the path, so an id must be safe in a URL as it stands.
# Facebook's ids never hold `~` (mids are base64url, comment ids digits and `_`).
def message_id_from_sk(sk: str) -> str:
    return sk[len(MESSAGE_PREFIX) :].replace("#", "~")


def sk_from_message_id(message_id: str) -> str:
    return MESSAGE_PREFIX + message_id.replace("~", "#")


def queue_key(page_id: str, status: str) -> str:
    return f"{page_id}#{status}"


TIMELINE_PREFIX = "TL#"
ROUTING_QUEUE_PREFIX = "QUEUE#"


def routing_queue_key(page_id: str) -> str:
    """`by_assignee` hash key of a page's queue of `unassigned` conversations."""
    return f"{ROUTING_QUEUE_PREFIX}{page_id}"


def routing_queue_sort_key(queued_ms: int, conversation_id: str) -> str:
    return f"{queued_ms:013d}#{conversation_id}"


def assignee_sort_key(status: str, at_ms: int, conversation_id: str) -> str:
    """`by_assignee` range key of a member's conversation: by status, then time."""
    return f"{status}#{at_ms:013d}#{conversation_id}"


def timeline_sk(at_ms: int, local_id: str) -> str:
    return f"{TIMELINE_PREFIX}{at_ms:013d}#{local_id}"


def activity_key(last_activity_ms: int, conversation_id: str) -> str:
    return f"{last_activity_ms:013d}#{conversation_id}"


def phone_key(phone: str) -> str | None:
    """The `by_phone` hash key of a phone number, or None when it holds no digit.

    Kept to the digits so that "+351 912-345-678", "+351912345678" and "351912345678" meet;
    writers of `Contact.gsi3pk` and the phone filter both go through here.
    """
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return None
    return f"PHONE#{digits}"


def legacy_phone_key(phone: str) -> str | None:
    """The key numbers written with a `+` had before keys were digits only (still read)."""
    key = phone_key(phone)
    return None if key is None else key.replace("PHONE#", "PHONE#+", 1)


def tag_key(tag: str) -> str:
    """The partition of a contact tag's items: case-folded, as tags are told apart.

    `normalize_tags` keeps one spelling per tag regardless of case, so the filter finds "VIP"
    when asked for "vip"; items written before keys were folded keep the spelling given.
    """
    return f"TAG#{' '.join(tag.split()).casefold()}"


class _TableMeta:
    table_name = os.environ.get("TABLE_NAME", "inbox")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    host = os.environ.get("AWS_ENDPOINT_URL") or None
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3


class ByPageStatus(GlobalSecondaryIndex["Conversation"]):
    class Meta:
        index_name = "by_page_status"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ByAssignee(GlobalSecondaryIndex["Conversation"]):
    class Meta:
        index_name = "by_assignee"
        projection = KeysOnlyProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ByPhone(GlobalSecondaryIndex["Contact"]):
    class Meta:
        index_name = "by_phone"
        projection = KeysOnlyProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class _Item(Model):
    """Base of every item: the shared key schema of the one table."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class Page(_Item):
    class Meta(_TableMeta):
        pass

    page_id = UnicodeAttribute()
    name = UnicodeAttribute()
    picture_url = UnicodeAttribute(null=True)
    connected_at = UTCDateTimeAttribute()
    connected_by = UnicodeAttribute(null=True)
    # When on, a new conversation starts with the FAQ bot (`bot`), else in the queue.
    faq_auto_reply = BooleanAttribute(default=False)
    # Set when Facebook refuses the page's token; sends stay refused until it is reconnected.
    reconnect_needed = BooleanAttribute(default=False)
    subscribed_fields = ListAttribute(of=UnicodeAttribute, default=list)
    # Routing: off leaves new and handed-over conversations in the queue for pick-up.
    auto_assign = BooleanAttribute(default=True)
    # An assigned conversation left unanswered this long goes to the next member; None: off.
    unanswered_timeout_seconds = NumberAttribute(null=True)
    # Whole words in a contact's message that make the bot hand over to a person.
    handover_words = ListAttribute(of=UnicodeAttribute, default=lambda: ["agent", "human"])


class DisconnectedPage(_Item):
    """A page disconnected from the inbox: its conversations stay stored and listed.

    Deleted when the page is connected again, so a page is in `PAGES` or here, not both.
    """

    class Meta(_TableMeta):
        pass

    page_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    disconnected_at = UTCDateTimeAttribute()
    disconnected_by = UnicodeAttribute(null=True)


class Member(_Item):
    class Meta(_TableMeta):
        pass

    member_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    # Empty means every page; a list limits the member to those pages.
    page_ids = UnicodeSetAttribute(null=True)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    # Routing (actions/routing.py): `online`, `away` or `offline`; only online members get
    # automatic assignments.
    status = UnicodeAttribute(default="offline")
    # Most open conversations held at once; 0 takes no automatic assignments.
    reception_limit = NumberAttribute(default=5)
    # Assigned conversations held now; changed only in the transaction that assigns or
    # releases one, so it cannot drift (the sweep's repair recomputes it to prove so).
    open_count = NumberAttribute(default=0)
    # Epoch ms since the member last freed capacity or came online: ties go to the oldest.
    idle_since = NumberAttribute(default=0)
    # The inbox's interface language the member chose (`en`, `zh-CN`); None: their browser's.
    language = UnicodeAttribute(null=True)


class Contact(_Item):
    class Meta(_TableMeta):
        pass

    by_phone = ByPhone()

    contact_id = UnicodeAttribute()
    page_id = UnicodeAttribute()
    facebook_user_id = UnicodeAttribute()
    # `messenger`: a page-scoped id (PSID); `commenter`: the id a page sees on its feed.
    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    # `graph`: from the Graph API; `webhook`: the name the feed carries; `fallback`: made up.
    name_source = UnicodeAttribute()
    picture_url = UnicodeAttribute(null=True)
    conversation_ids = UnicodeSetAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class Referral(MapAttribute):
    # `ad`, `link` or `other`: where the contact came from.
    kind = UnicodeAttribute()
    source = UnicodeAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    ad_id = UnicodeAttribute(null=True)
    ad_title = UnicodeAttribute(null=True)
    ad_post_id = UnicodeAttribute(null=True)
    ad_photo_url = UnicodeAttribute(null=True)
    ad_video_url = UnicodeAttribute(null=True)
    at = NumberAttribute()


class Conversation(_Item):
    class Meta(_TableMeta):
        pass

    by_page_status = ByPageStatus()
    by_assignee = ByAssignee()

    conversation_id = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    page_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    contact_name = UnicodeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    assignee_id = UnicodeAttribute(null=True)
    created_at = NumberAttribute(null=True)
    last_activity_at = NumberAttribute(null=True)
    # Key of the newest message taken into account: a retried record finds itself here.
    last_message_sk = UnicodeAttribute(null=True)
    last_message_preview = UnicodeAttribute(null=True)
    last_message_direction = UnicodeAttribute(null=True)
    unread_count = NumberAttribute(null=True)
    # The messaging window opens at the contact's last interaction (message, postback,
    # reaction, m.me referral): epoch milliseconds.
    last_inbound_at = NumberAttribute(null=True)
    # Facebook's receipts are watermarks: every page message at or before them is delivered
    # (read). Kept as maxima, they make status order-proof: a receipt may arrive first.
    delivered_watermark = NumberAttribute(null=True)
    read_watermark = NumberAttribute(null=True)
    # A private reply links a commenter's conversation to their Messenger one, both ways:
    # the comment side names its Messenger conversation; a Messenger conversation lists the
    # comment conversations (one per post) whose private replies opened or joined it.
    messenger_conversation_id = UnicodeAttribute(null=True)
    comment_conversation_ids = UnicodeSetAttribute(null=True)
    referral = Referral(null=True)
    # Routing (actions/routing.py); times in epoch ms.
    assigned_at = NumberAttribute(null=True)
    queued_at = NumberAttribute(null=True)
    closed_at = NumberAttribute(null=True)
    # The member who held it last; a reopened conversation goes back to them when eligible.
    last_assignee_id = UnicodeAttribute(null=True)
    # The member who gave it back to the queue: routing never hands it to them again while it
    # waits (they may still pick it up by hand).
    returned_by = UnicodeAttribute(null=True)
    # Since when the contact waits for the assignee's answer; the unanswered hand-back reads it.
    awaiting_reply_since = NumberAttribute(null=True)
    # Conversation tags, given on close (contact tags are apart, on the contact).
    tags = UnicodeSetAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class Attachment(MapAttribute):
    type = UnicodeAttribute()
    # The link Facebook sent, kept for reference; it expires within days (actions/media.py).
    url = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    # What the type carries beyond a link: sticker id, coordinates, reel id, template
    # elements. Kept as Facebook sent it so nothing is lost for later screens.
    payload = JSONAttribute(null=True)
    # The copy in the media bucket (actions/media.py): `pending` until the media worker has
    # fetched it, then `stored` (with key, type and size) or `failed` (with the reason).
    media_status = UnicodeAttribute(null=True)
    media_key = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    media_error = UnicodeAttribute(null=True)


class PrivateReply(MapAttribute):
    """The one private reply Facebook allows per comment (PLATFORM.md §6.7), on the comment.

    `status` is `pending` while Facebook is asked (a claim that stops a second reply at the
    same time), then `sent` or `failed`; only a failed or abandoned claim may be tried again.
    The reply itself is a message of the person's Messenger conversation.
    """

    status = UnicodeAttribute()
    at = NumberAttribute()
    member_id = UnicodeAttribute(null=True)
    conversation_id = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    facebook_id = UnicodeAttribute(null=True)
    error = JSONAttribute(null=True)


class Message(_Item):
    class Meta(_TableMeta):
        pass

    conversation_id = UnicodeAttribute()
    facebook_id = UnicodeAttribute(null=True)
    direction = UnicodeAttribute()
    # `contact`, `member`, `bot`, or `external` (sent from another app or Meta's inbox).
    origin = UnicodeAttribute()
    type = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    attachments = ListAttribute(of=Attachment, null=True)
    # Stored for outbound messages only: pending, sent or failed. Delivered and read come
    # from the conversation's watermarks.
    send_status = UnicodeAttribute(null=True)
    sent_by_app_id = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute(null=True)
    quick_reply_payload = UnicodeAttribute(null=True)
    postback_payload = UnicodeAttribute(null=True)
    reply_to = UnicodeAttribute(null=True)
    parent_comment_id = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    # Comment state: Facebook sends edits, hides and removals for comments by comment id.
    edits = JSONAttribute(null=True)
    edited_at = NumberAttribute(null=True)
    hidden = BooleanAttribute(null=True)
    hidden_changed_at = NumberAttribute(null=True)
    deleted_at = NumberAttribute(null=True)
    # Outbound sends (actions/outbound.py): the tag it went out with, its quick replies as
    # the Send API takes them (a retry rebuilds the request from the item), and Facebook's
    # refusal (`{code, graph_code, graph_subcode, message}`) while it is failed.
    messaging_tag = UnicodeAttribute(null=True)
    quick_replies = JSONAttribute(null=True)
    send_error = JSONAttribute(null=True)
    # Set by this inbox only: Facebook sends no comment webhook for the page's own likes.
    liked_by_page = BooleanAttribute(null=True)
    private_reply = PrivateReply(null=True)
    # Epoch seconds: DynamoDB's TTL deletes the message after the brand's retention.
    expires_at = NumberAttribute(null=True)


class MessageOverlay(_Item):
    """Reactions and edits of a Messenger message, kept beside it by Facebook message id.

    Facebook names the target only by mid, and a message's key holds its timestamp, which
    reactions and edits do not carry. Writing them here needs no look-up and works before the
    message itself has arrived; reads merge them into the message.
    """

    class Meta(_TableMeta):
        pass

    facebook_id = UnicodeAttribute()
    reaction = UnicodeAttribute(null=True)
    reaction_emoji = UnicodeAttribute(null=True)
    reaction_at = NumberAttribute(null=True)
    # num_edit → text; a map so that a repeated or late edit event is a no-op.
    edits = JSONAttribute(null=True)
    edited_at = NumberAttribute(null=True)


class CommentAlias(_Item):
    """Where a comment is stored, by its Facebook comment id.

    Hide and unhide come from the page, not the author, and a page's reply names only its
    parent comment: neither tells which conversation the comment is in. Effects that arrive
    before the comment itself wait here in `pending` until it is stored.
    """

    class Meta(_TableMeta):
        pass

    comment_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute(null=True)
    message_sk = UnicodeAttribute(null=True)
    pending = ListAttribute(of=UnicodeAttribute, null=True)


class ContactTag(_Item):
    class Meta(_TableMeta):
        pass

    tag = UnicodeAttribute()
    contact_id = UnicodeAttribute()


class TimelineEntry(_Item):
    """One routing change of a conversation: assignment, transfer, close, reopen, hand-over.

    Written in the same transaction as the change it records, so history and state agree.
    """

    class Meta(_TableMeta):
        pass

    conversation_id = UnicodeAttribute()
    # assigned, picked_up, transferred, returned, unanswered, closed, reopened, handed_over
    kind = UnicodeAttribute()
    # A member id, or "system" for routing, ingestion and the sweep.
    actor = UnicodeAttribute()
    from_member_id = UnicodeAttribute(null=True, attr_name="from")
    to_member_id = UnicodeAttribute(null=True, attr_name="to")
    note = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    forced = BooleanAttribute(null=True)
    at = NumberAttribute()


class BrandSettings(_Item):
    """The brand's own switches, one item; absent means every default."""

    class Meta(_TableMeta):
        pass

    # DESIGN "Who sees what": agents do not see each other's conversations (default on).
    isolation = BooleanAttribute(default=True)
    # Messages and inbound media older than this many days are deleted (actions/retention.py);
    # None keeps them for good.
    retention_days = NumberAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


class ApiKey(_Item):
    """A key for the brand's automation: acts with its role, as a member of that role would.

    Only a SHA-256 of the secret is kept; the key itself is shown once, at creation.
    """

    class Meta(_TableMeta):
        pass

    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    # Empty means every page, as for a member.
    page_ids = UnicodeSetAttribute(null=True)
    secret_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)


class CatalogProduct(_Item):
    """A product members send as a card (a generic template element, PLATFORM.md §5.4)."""

    class Meta(_TableMeta):
        pass

    product_id = UnicodeAttribute()
    title = UnicodeAttribute()
    subtitle = UnicodeAttribute(null=True)
    # Decimal text ("49.00") and an ISO currency code: shown, never computed with.
    price = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    image_url = UnicodeAttribute(null=True)
    url = UnicodeAttribute(null=True)
    # Up to 3 Send API buttons: `{type: web_url|postback|phone_number, title, url|payload}`.
    buttons = JSONAttribute(null=True)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class Connection(_Item):
    """A member's open WebSocket (actions/realtime.py), keyed by API Gateway's connection id.

    All of a brand's connections share the `CONNECTIONS` partition, so a push finds them with
    one query and no scan; a brand's team is small enough that the partition stays far below
    DynamoDB's per-partition limits.
    """

    class Meta(_TableMeta):
        pass

    connection_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    connected_at = NumberAttribute()
    # The table's TTL attribute (epoch seconds). API Gateway closes a connection after two
    # hours, and `$disconnect` is best effort: this removes what it missed.
    expires_at = NumberAttribute()
    # The `seq` of the last frame sent to this connection (ws-contract: +1 per frame).
    seq = NumberAttribute(default=0)


class DeletionRequest(_Item):
    """A data-deletion request (actions/privacy.py), kept for its public status page.

    It holds no identity: the confirmation code, the outcome's counts and times.
    """

    class Meta(_TableMeta):
        pass

    code = UnicodeAttribute()
    # `in_progress` while the erasure runs, then `done`.
    status = UnicodeAttribute()
    requested_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)
    contacts_erased = NumberAttribute(default=0)
    conversations_erased = NumberAttribute(default=0)
    # Whether Facebook's ID Matching API named the person's Messenger ids (PSIDs); False when
    # it refused, so only their comments could be found.
    messenger_ids_matched = BooleanAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    Page,
    DisconnectedPage,
    Member,
    Contact,
    Conversation,
    Message,
    MessageOverlay,
    CommentAlias,
    ContactTag,
    TimelineEntry,
    BrandSettings,
    ApiKey,
    CatalogProduct,
    Connection,
    DeletionRequest,
)


def bind_table(table_name: str, *, host: str | None, region: str) -> None:
    """Point every model at a table; the local stack and tests call this after start-up."""
    for model in ALL_MODELS:
        model.Meta.table_name = table_name
        model.Meta.host = host
        model.Meta.region = region
        model._connection = None
