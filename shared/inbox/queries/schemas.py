"""What the API answers, as pydantic models: the OpenAPI document is generated from these.

Times are ISO-8601 strings in UTC with milliseconds, ids are strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


def iso_from_ms(ms: int | float | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_from_datetime(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return iso_from_ms(int(moment.timestamp() * 1000))


class Window(BaseModel):
    """The messaging window (DESIGN "Messaging windows"): what a reply may be now."""

    state: Literal["open", "human_agent", "closed"]
    ends_at: str | None


class ReferralOut(BaseModel):
    kind: str
    source: str | None = None
    ref: str | None = None
    ad_id: str | None = None
    ad_title: str | None = None
    ad_post_id: str | None = None
    ad_photo_url: str | None = None
    ad_video_url: str | None = None
    at: str | None = None


class ContactOut(BaseModel):
    id: str
    page_id: str
    kind: str
    facebook_user_id: str
    name: str
    name_source: str
    picture_url: str | None = None
    email: str | None = None
    phone: str | None = None
    notes: str | None = None
    tags: list[str]
    conversation_ids: list[str]
    created_at: str | None


class ConversationOut(BaseModel):
    id: str
    channel: str | None
    page_id: str | None
    contact_id: str | None
    contact_name: str | None
    post_id: str | None = None
    status: str | None
    assignee_id: str | None = None
    created_at: str | None
    last_activity_at: str | None
    last_message_preview: str | None = None
    last_message_direction: str | None = None
    unread_count: int = 0
    window: Window
    # A private reply links a comment conversation and the person's Messenger one, both ways.
    messenger_conversation_id: str | None = None
    comment_conversation_ids: list[str] = []
    # Conversation tags, given on close; contact tags are on the contact.
    tags: list[str] = []


class ConversationDetail(ConversationOut):
    contact: ContactOut | None
    referral: ReferralOut | None


class AttachmentOut(BaseModel):
    type: str
    # The stored copy through a short-lived signed link once it is kept, else the link
    # Facebook sent (which expires within days).
    url: str | None = None
    title: str | None = None
    # Whatever else the type carries (sticker id, coordinates, template), as Facebook sent it.
    payload: Any = None
    # The link Facebook sent, for reference.
    original_url: str | None = None
    # `pending`, `stored` or `failed` (with `media_error`); null for links and outbound media.
    media_status: str | None = None
    media_error: str | None = None
    content_type: str | None = None
    size: int | None = None


class Reaction(BaseModel):
    reaction: str | None
    emoji: str | None


class Edited(BaseModel):
    count: int
    previous: list[str]
    at: str | None


class PrivateReplyOut(BaseModel):
    """A comment's one private reply: `pending`, `sent`, `failed`, or `refused` by Facebook."""

    status: str
    at: str | None
    conversation_id: str | None = None
    message_id: str | None = None
    error: dict[str, Any] | None = None


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    facebook_id: str | None
    direction: Literal["in", "out"]
    origin: str
    type: str
    text: str | None
    attachments: list[AttachmentOut]
    # `received` (inbound); `pending`, `sent`, `delivered`, `read` or `failed` (outbound).
    status: str
    created_at: str
    author_id: str | None = None
    reply_to: str | None = None
    quick_reply_payload: str | None = None
    postback_payload: str | None = None
    parent_comment_id: str | None = None
    reaction: Reaction | None = None
    edited: Edited | None = None
    hidden: bool = False
    deleted: bool = False
    # Comments: the page's like, and the private reply sent in Messenger.
    liked_by_page: bool = False
    private_reply: PrivateReplyOut | None = None
    # A failed send: Facebook's refusal `{code, message, graph_code, graph_subcode}`.
    send_error: dict[str, Any] | None = None


class PostOut(BaseModel):
    """A page's post, as Facebook has it now (read when a comment conversation is opened)."""

    id: str
    message: str | None = None
    created_at: str | None = None
    permalink_url: str | None = None
    picture_url: str | None = None


class PageOut(BaseModel):
    id: str
    name: str
    picture_url: str | None = None
    connected_at: str | None
    connected_by: str | None = None
    faq_auto_reply: bool
    reconnect_needed: bool
    subscribed_fields: list[str]
    auto_assign: bool = True
    # None: an unanswered conversation is never handed to another member.
    unanswered_timeout_seconds: int | None = None
    handover_words: list[str] = []


class ConversationList(BaseModel):
    items: list[ConversationOut]
    next: str | None


class MessageList(BaseModel):
    items: list[MessageOut]
    next: str | None


class PageList(BaseModel):
    items: list[PageOut]
    next: str | None = None


class MemberOut(BaseModel):
    id: str
    email: str
    name: str
    role: Literal["owner", "admin", "supervisor", "agent"]
    # Empty: every page.
    page_ids: list[str]
    active: bool
    status: Literal["online", "away", "offline"]
    reception_limit: int
    open_count: int
    created_at: str | None
    language: str | None = None


class MemberList(BaseModel):
    items: list[MemberOut]
    next: str | None = None


class BrandSettingsOut(BaseModel):
    # On: an agent sees only their own assigned and closed conversations, and the queue.
    isolation: bool
    # Messages and inbound media older than this are deleted; null keeps them.
    retention_days: int | None = None
    updated_at: str | None = None
    updated_by: str | None = None


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Literal["admin", "supervisor", "agent"]
    page_ids: list[str]
    created_at: str | None
    created_by: str
    revoked_at: str | None = None


class ApiKeyCreated(ApiKeyOut):
    # The whole key: shown in this answer only, never again.
    key: str


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    next: str | None = None


class TimelineEntryOut(BaseModel):
    id: str
    conversation_id: str
    # assigned, picked_up, transferred, returned, unanswered, closed, reopened, handed_over
    kind: str
    # A member id, an API key's principal id, or `system`.
    actor: str
    from_member_id: str | None = None
    to_member_id: str | None = None
    note: str | None = None
    tags: list[str] = []
    forced: bool = False
    at: str


class TimelineList(BaseModel):
    items: list[TimelineEntryOut]
    next: str | None = None


class InputIssue(BaseModel):
    """One way a request breaks the API document: where, what rule, in pydantic's words."""

    loc: list[str | int]
    msg: str
    type: str


class Error(BaseModel):
    """Every refusal (`inbox.errors.InboxError.to_dict`): a code to branch on, a message for
    people, and the fields of that code (`conversation_id`, `reason`, `retry_after`, ...)."""

    # The fields differ by code, so the document must not promise there are no others.
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    detail: list[InputIssue] | None = None
