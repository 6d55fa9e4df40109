"""The conversation list and one conversation's detail.

The list is a k-way merge of `by_page_status` partitions (one per visible page and requested
status), each read newest activity first. The cursor is the last `gsi1sk` returned: activity
keys end with the conversation id, so they are unique and `gsi1sk < cursor` in every partition
resumes exactly after it.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter

from inbox import access
from inbox.errors import InvalidInput
from inbox.models import (
    CONTACT_SK,
    CONVERSATION_SK,
    Contact,
    ContactTag,
    Conversation,
    Member,
    contact_pk,
    conversation_pk,
    legacy_phone_key,
    phone_key,
    queue_key,
    tag_key,
)
from inbox.queries.contacts import contact_out
from inbox.queries.schemas import (
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ReferralOut,
    Window,
    iso_from_ms,
)
from inbox.rules import window as window_rules

CHANNELS = ("messenger", "comment")
_CURSOR = re.compile(r"^\d{13}#.+$")


@dataclass(frozen=True)
class ConversationFilters:
    channel: str | None = None
    page_id: str | None = None
    statuses: tuple[str, ...] = access.STATUSES
    assignee_id: str | None = None
    contact_name: str | None = None
    contact_tag: str | None = None
    phone: str | None = None


def check_filters(filters: ConversationFilters, cursor: str | None) -> None:
    if filters.channel is not None and filters.channel not in CHANNELS:
        raise InvalidInput("unknown channel", field="channel", allowed=list(CHANNELS))
    unknown = sorted(set(filters.statuses) - set(access.STATUSES))
    if unknown or not filters.statuses:
        raise InvalidInput("unknown status", field="status", values=unknown,
                           allowed=list(access.STATUSES))
    if cursor is not None and not _CURSOR.match(cursor):
        raise InvalidInput("malformed cursor", field="cursor")


def list_conversations(member: Member, filters: ConversationFilters, *, limit: int,
                       cursor: str | None = None) -> ConversationList:
    """The conversations the member may see, newest activity first, `limit` at most."""
    check_filters(filters, cursor)
    scope = access.conversation_scope(member)
    page_ids = [p for p in scope.page_ids if filters.page_id in (None, p)]

    candidates: Iterable[Conversation]
    if filters.contact_tag is not None or filters.phone is not None:
        candidates = _by_contacts(filters, member, page_ids, cursor)
    else:
        candidates = _merged_partitions(scope, filters, page_ids, cursor, limit)
    matches = (c for c in candidates if _matches_in_memory(member, filters, scope, c))

    found = list(islice(matches, limit + 1))
    items = found[:limit]
    next_cursor = items[-1].gsi1sk if len(found) > limit else None
    return ConversationList(items=[conversation_out(c) for c in items], next=next_cursor)


def conversation_detail(member: Member, conversation_id: str) -> ConversationDetail:
    conversation = access.access_conversation(member, conversation_id)
    contact = None
    if conversation.contact_id:
        try:
            contact = Contact.get(contact_pk(conversation.contact_id), CONTACT_SK)
        except Contact.DoesNotExist:
            contact = None
    return ConversationDetail(
        **conversation_out(conversation).model_dump(),
        contact=contact_out(contact) if contact else None,
        referral=_referral_out(conversation),
    )


def _merged_partitions(scope: access.ConversationScope, filters: ConversationFilters,
                       page_ids: list[str], cursor: str | None,
                       limit: int) -> Iterator[Conversation]:
    partitions = [
        _partition(page_id, status, scope, filters, cursor, limit)
        for page_id in page_ids
        for status in dict.fromkeys(filters.statuses)
    ]
    # Each partition is already newest first; results are pulled lazily, a DynamoDB page
    # at a time, so a short answer reads little more than it returns.
    return heapq.merge(*partitions, key=attrgetter("gsi1sk"), reverse=True)


def _partition(page_id: str, status: str, scope: access.ConversationScope,
               filters: ConversationFilters, cursor: str | None,
               limit: int) -> Iterable[Conversation]:
    conditions = []
    if filters.channel is not None:
        conditions.append(Conversation.channel == filters.channel)
    if filters.assignee_id is not None:
        conditions.append(Conversation.assignee_id == filters.assignee_id)
    if status in scope.own_only_statuses:
        conditions.append(Conversation.assignee_id == scope.member_id)
    condition = None
    for part in conditions:
        condition = part if condition is None else condition & part

    # Index by_page_status: one page's conversations in one status, by activity key.
    return Conversation.by_page_status.query(
        queue_key(page_id, status),
        Conversation.gsi1sk < cursor if cursor else None,
        filter_condition=condition,
        scan_index_forward=False,
        page_size=limit + 1,
    )


def _by_contacts(filters: ConversationFilters, member: Member, page_ids: list[str],
                 cursor: str | None) -> list[Conversation]:
    """Conversations of the contacts carrying a tag and/or a phone number, newest first.

    Bounded by those contacts' conversations, which are read whole and sorted here.
    """
    contact_ids: set[str] | None = None
    if filters.contact_tag is not None:
        contact_ids = _contacts_with_tag(filters.contact_tag)
    if filters.phone is not None:
        with_phone = _contacts_with_phone(filters.phone)
        contact_ids = with_phone if contact_ids is None else contact_ids & with_phone

    keys = [(contact_pk(cid), CONTACT_SK) for cid in sorted(contact_ids or ())]
    conversation_ids = {
        cid
        for contact in Contact.batch_get(keys, attributes_to_get=["conversation_ids"])
        for cid in contact.conversation_ids or ()
    }
    keys = [(conversation_pk(cid), CONVERSATION_SK) for cid in sorted(conversation_ids)]
    allowed_pages = set(page_ids)
    wanted = _structured_predicate(filters)
    found = [
        c
        for c in Conversation.batch_get(keys)
        if c.page_id in allowed_pages
        and c.gsi1sk is not None
        and (cursor is None or c.gsi1sk < cursor)
        and wanted(c)
    ]
    return sorted(found, key=attrgetter("gsi1sk"), reverse=True)


def _contacts_with_tag(tag: str) -> set[str]:
    # Items `tag_key(tag)` / contact id: one partition per tag whatever its case, and the
    # spelling asked for, where items written before keys were folded are.
    return {item.sk for key in {tag_key(tag), f"TAG#{tag}"}
            for item in ContactTag.query(key, attributes_to_get=["pk", "sk"])}


def _contacts_with_phone(phone: str) -> set[str]:
    # Index by_phone (keys only): the base table key names the contact.
    # Keys are the digits; numbers written with a `+` before that keep it in theirs.
    keys = (phone_key(phone), legacy_phone_key(phone))
    return {c.pk.removeprefix("CONTACT#") for key in keys if key is not None
            for c in Contact.by_phone.query(key)}


def _structured_predicate(filters: ConversationFilters) -> Callable[[Conversation], bool]:
    statuses = set(filters.statuses)

    def wanted(c: Conversation) -> bool:
        return (
            c.status in statuses
            and filters.channel in (None, c.channel)
            and filters.assignee_id in (None, c.assignee_id)
        )

    return wanted


def _matches_in_memory(member: Member, filters: ConversationFilters,
                       scope: access.ConversationScope, c: Conversation) -> bool:
    # A name filter runs here rather than as a FilterExpression: DynamoDB's `contains` is
    # case-sensitive, and a FilterExpression reads (and bills) the same items anyway.
    if filters.contact_name:
        needle = filters.contact_name.casefold()
        if needle not in (c.contact_name or "").casefold():
            return False
    # Already narrowed by the query; checked again so that no road around access exists.
    return access.can_see_conversation(member, c, isolation=scope.isolation)


def window_of(last_inbound_at: float | None, *, now_ms: int | None = None) -> Window:
    """The messaging window opened by the contact's last interaction, by the send rules."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    state = window_rules.window_state(last_inbound_at, now_ms)
    return Window(state=state.state, ends_at=iso_from_ms(state.ends_at))


def conversation_out(c: Conversation) -> ConversationOut:
    return ConversationOut(
        id=c.conversation_id or c.pk.removeprefix("CONV#"),
        channel=c.channel,
        page_id=c.page_id,
        contact_id=c.contact_id,
        contact_name=c.contact_name,
        post_id=c.post_id,
        status=c.status,
        assignee_id=c.assignee_id,
        created_at=iso_from_ms(c.created_at),
        last_activity_at=iso_from_ms(c.last_activity_at),
        last_message_preview=c.last_message_preview,
        last_message_direction=c.last_message_direction,
        unread_count=int(c.unread_count or 0),
        window=window_of(c.last_inbound_at),
        messenger_conversation_id=c.messenger_conversation_id,
        comment_conversation_ids=sorted(c.comment_conversation_ids or ()),
        tags=sorted(c.tags or ()),
    )


def _referral_out(c: Conversation) -> ReferralOut | None:
    r = c.referral
    if r is None:
        return None
    return ReferralOut(
        kind=r.kind,
        source=r.source,
        ref=r.ref,
        ad_id=r.ad_id,
        ad_title=r.ad_title,
        ad_post_id=r.ad_post_id,
        ad_photo_url=r.ad_photo_url,
        ad_video_url=r.ad_video_url,
        at=iso_from_ms(r.at),
    )
