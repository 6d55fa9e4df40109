"""Routing: who holds each conversation (DESIGN "Conversation states").

The one rule everything here serves: no member ever holds more open conversations than their
reception limit, under any concurrency. Each change of holder is ONE DynamoDB transaction:
- the taking member's item, conditioned on their capacity, with `open_count` + 1;
- the conversation, conditioned on the state the change starts from;
- the giving member's item (transfer, close, hand-back, deactivation) with `open_count` - 1;
- the timeline entry that records the change.
Either all four are written or none, so `open_count` cannot drift from the conversations that
the `by_assignee` index lists; `do_repair_open_counts` recomputes it from there to prove it.

Candidate choice reads the whole team (one query on the `MEMBERS` partition: a brand's team is
tens of members, not thousands), then tries the best; a refused transaction means the reading
was stale, so the team is read again and the next best tried.

Keys kept in step with every status change (models.py):
- `gsi1pk` = `<page>#<status>`, the inbox list (`by_page_status`);
- `gsi2pk`/`gsi2sk` (`by_assignee`): `QUEUE#<page>` / `<queued ms>#<id>` while `unassigned`,
  `<member>` / `<status>#<ms>#<id>` while `assigned` or `closed` by someone, none in `bot`.
"""

from __future__ import annotations

import heapq
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from inbox import event_names
from inbox.access import (
    ADMIN,
    ASSIGNED,
    BOT,
    CLOSED,
    OWNER,
    SUPERVISOR,
    UNASSIGNED,
    access_conversation,
    is_page_allowed,
)
from inbox.errors import (
    ConversationStateChanged,
    Forbidden,
    InvalidInput,
    NotFound,
    ReceptionLimitReached,
)
from inbox.models import (
    CONVERSATION_SK,
    MEMBERS_PK,
    PAGES_PK,
    TIMELINE_PREFIX,
    Conversation,
    Member,
    Page,
    TimelineEntry,
    assignee_sort_key,
    conversation_pk,
    queue_key,
    routing_queue_key,
    routing_queue_sort_key,
    timeline_sk,
)
from inbox.publish import EventOutbox

logger = Logger(child=True)

SYSTEM = "system"

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
MEMBER_STATUSES = (ONLINE, AWAY, OFFLINE)

# Timeline kinds, and the domain event each is published as.
ASSIGNED_KIND = "assigned"
PICKED_UP = "picked_up"
TRANSFERRED = "transferred"
RETURNED = "returned"
UNANSWERED = "unanswered"
CLOSED_KIND = "closed"
REOPENED = "reopened"
HANDED_OVER = "handed_over"
_EVENT_OF_KIND = {
    ASSIGNED_KIND: event_names.CONVERSATION_ASSIGNED,
    PICKED_UP: event_names.CONVERSATION_ASSIGNED,
    TRANSFERRED: event_names.CONVERSATION_TRANSFERRED,
    RETURNED: event_names.CONVERSATION_TRANSFERRED,
    UNANSWERED: event_names.CONVERSATION_TRANSFERRED,
    CLOSED_KIND: event_names.CONVERSATION_CLOSED,
    REOPENED: event_names.CONVERSATION_REOPENED,
    HANDED_OVER: event_names.CONVERSATION_HANDED_OVER,
}

SUPERVISING_ROLES = frozenset({OWNER, ADMIN, SUPERVISOR})
DEFAULT_HANDOVER_WORDS = ("agent", "human")
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_NOTE_LENGTH = 1000

# Tries per routing decision. Each refused try re-reads the team, so only a storm of
# concurrent changes exhausts them; the conversation then waits in the queue for the next
# drain (at the latest the sweep's, within a minute), which is always safe.
_MAX_TRIES = 12
# DynamoDB's indexes are eventually consistent: a count that disagrees with a member's
# `open_count` is read again after this long before it is believed (see the repair).
REPAIR_SETTLE_SECONDS = 1.0


def _now_ms() -> int:
    return int(time.time() * 1000)


# Tests replace this to control time.
clock: Callable[[], int] = _now_ms


# --- rules -----------------------------------------------------------------------------------


def is_supervising(member: Member) -> bool:
    return member.role in SUPERVISING_ROLES


def has_reception_capacity(member: Member) -> bool:
    return int(member.reception_limit) > 0 and int(member.open_count) < int(member.reception_limit)


def is_eligible(member: Member, page_id: str | None) -> bool:
    """May routing give this member a conversation of this page now (DESIGN's "eligible")."""
    return (bool(member.active) and member.status == ONLINE and has_reception_capacity(member)
            and is_page_allowed(member, page_id))


def handover_words(page: Page) -> list[str]:
    if page.handover_words is None:
        return list(DEFAULT_HANDOVER_WORDS)
    return [str(word) for word in page.handover_words]


def asks_for_a_person(text: str | None, words: Iterable[str]) -> bool:
    """True when the text holds one of the words as a whole word, in any case."""
    if not text:
        return False
    alternatives = "|".join(re.escape(w.strip()) for w in words if w and w.strip())
    if not alternatives:
        return False
    return re.search(rf"(?<!\w)(?:{alternatives})(?!\w)", text, re.IGNORECASE) is not None


# Conditions, one per rule they enforce.


def _member_can_take_automatically() -> Condition:
    return (
        (Member.active == True)  # noqa: E712 - a DynamoDB comparison, not a Python one
        # Away and offline members get nothing automatically.
        & (Member.status == ONLINE)
        # 0 means "no automatic assignments".
        & (Member.reception_limit > 0)
        # The reception limit itself, checked in the same transaction that adds one.
        & (Member.open_count < Member.reception_limit)
    )


def _member_can_take_by_hand() -> Condition:
    return (
        (Member.active == True)  # noqa: E712
        # A member outside automatic routing (limit 0) holds what they take by hand.
        & ((Member.reception_limit == 0) | (Member.open_count < Member.reception_limit))
    )


def _member_is_active() -> Condition:
    # A forced transfer (supervisor up) skips the limit, never the deactivation.
    return Member.active == True  # noqa: E712


def _member_holds_one() -> Condition:
    # The count never goes below zero; with the transactions it cannot, this states it.
    return Member.open_count > 0


def _conversation_in(status: str) -> Condition:
    return Conversation.status == status


def _conversation_held_by(member_id: str) -> Condition:
    return (Conversation.status == ASSIGNED) & (Conversation.assignee_id == member_id)


# --- keys of each state ----------------------------------------------------------------------


def _queued_actions(conversation: Conversation, at: int) -> list[Any]:
    cid, page_id = conversation.conversation_id or "", conversation.page_id or ""
    return [
        Conversation.status.set(UNASSIGNED),
        Conversation.gsi1pk.set(queue_key(page_id, UNASSIGNED)),
        Conversation.gsi2pk.set(routing_queue_key(page_id)),
        Conversation.gsi2sk.set(routing_queue_sort_key(at, cid)),
        Conversation.queued_at.set(at),
        Conversation.assignee_id.remove(),
        Conversation.assigned_at.remove(),
        Conversation.awaiting_reply_since.remove(),
    ]


def _assigned_actions(conversation: Conversation, member_id: str, at: int) -> list[Any]:
    cid, page_id = conversation.conversation_id or "", conversation.page_id or ""
    # The contact waits for the new holder when the last word was theirs; the unanswered
    # hand-back counts from the assignment.
    waiting = conversation.last_message_direction != "out"
    return [
        Conversation.status.set(ASSIGNED),
        Conversation.gsi1pk.set(queue_key(page_id, ASSIGNED)),
        Conversation.gsi2pk.set(member_id),
        Conversation.gsi2sk.set(assignee_sort_key(ASSIGNED, at, cid)),
        Conversation.assignee_id.set(member_id),
        Conversation.last_assignee_id.set(member_id),
        Conversation.returned_by.remove(),
        Conversation.assigned_at.set(at),
        Conversation.queued_at.remove(),
        Conversation.closed_at.remove(),
        Conversation.awaiting_reply_since.set(at) if waiting
        else Conversation.awaiting_reply_since.remove(),
    ]


def _closed_actions(conversation: Conversation, at: int, tags: set[str]) -> list[Any]:
    cid, page_id = conversation.conversation_id or "", conversation.page_id or ""
    holder = conversation.assignee_id if conversation.status == ASSIGNED else None
    # A closed conversation stays in its last holder's list; one closed from the queue
    # leaves the index altogether.
    index = [Conversation.gsi2sk.set(assignee_sort_key(CLOSED, at, cid))] if holder else [
        Conversation.gsi2pk.remove(), Conversation.gsi2sk.remove()]
    return [
        Conversation.status.set(CLOSED),
        Conversation.gsi1pk.set(queue_key(page_id, CLOSED)),
        *index,
        Conversation.closed_at.set(at),
        Conversation.queued_at.remove(),
        Conversation.returned_by.remove(),
        Conversation.awaiting_reply_since.remove(),
        *([Conversation.tags.set(tags)] if tags else []),
    ]


def _handed_over_actions(conversation: Conversation, at: int) -> list[Any]:
    return _queued_actions(conversation, at)


# --- the transaction -------------------------------------------------------------------------


@dataclass
class _Change:
    """One change of a conversation's holder, written as one transaction."""

    conversation: Conversation
    actions: list[Any]
    expect: Condition
    kind: str
    actor: str
    at: int
    taker: str | None = None
    taker_condition: Condition | None = None
    giver: str | None = None
    note: str | None = None
    tags: set[str] = field(default_factory=set)
    forced: bool = False

    def entry(self) -> TimelineEntry:
        cid = self.conversation.conversation_id or ""
        return TimelineEntry(
            conversation_pk(cid), timeline_sk(self.at, uuid.uuid4().hex[:10]),
            conversation_id=cid, kind=self.kind, actor=self.actor,
            from_member_id=self.giver, to_member_id=self.taker, note=self.note,
            tags=self.tags or None, forced=self.forced or None, at=self.at,
        )


class _Refused(Exception):
    """The transaction was cancelled; `part` says which item's condition failed."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


def _commit(change: _Change, outbox: EventOutbox) -> TimelineEntry:
    """Write the change; raises `_Refused` naming the part that refused it.

    Items go out in this order (PynamoDB sends puts before updates, in call order), which
    is the order of the cancellation reasons: entry, conversation, taker, giver.
    """
    entry = change.entry()
    parts = ["entry", "conversation"]
    connection = Conversation._get_connection().connection
    try:
        with TransactWrite(connection=connection) as tx:
            tx.save(entry, condition=TimelineEntry.pk.does_not_exist())
            tx.update(change.conversation, actions=change.actions, condition=change.expect)
            if change.taker is not None:
                assert change.taker_condition is not None
                tx.update(Member(MEMBERS_PK, change.taker),
                          actions=[Member.open_count.add(1)], condition=change.taker_condition)
                parts.append("taker")
            if change.giver is not None:
                tx.update(Member(MEMBERS_PK, change.giver),
                          actions=[Member.open_count.add(-1), Member.idle_since.set(change.at)],
                          condition=_member_holds_one())
                parts.append("giver")
    except TransactWriteError as exc:
        if exc.cause_response_code != "TransactionCanceledException":
            raise
        reasons = [r.code if r else None for r in exc.cancellation_reasons]
        # One reason per item, in the order sent (a shorter list would be a service bug).
        refused = [p for p, code in zip(parts, reasons, strict=False)
                   if code == "ConditionalCheckFailed"]
        # No failed condition: DynamoDB cancelled for a concurrent transaction on one of
        # the items (TransactionConflict); the caller re-reads and tries again.
        raise _Refused(refused[0] if refused else "conflict") from exc

    cid = change.conversation.conversation_id
    outbox.add(_EVENT_OF_KIND[change.kind], conversation_id=cid,
               page_id=change.conversation.page_id, kind=change.kind, actor=change.actor,
               from_member_id=change.giver, to_member_id=change.taker, note=change.note,
               forced=change.forced, at=change.at)
    logger.info("conversation routed", extra={"conversation_id": cid, "kind": change.kind,
                                              "from_member_id": change.giver,
                                              "to_member_id": change.taker,
                                              "actor": change.actor})
    return entry


@contextmanager
def _publishing(outbox: EventOutbox | None) -> Iterator[EventOutbox]:
    """The caller's outbox (ingestion flushes its own), or one flushed when the action ends.

    Flushed even when a later step fails: only writes that succeeded added events.
    """
    if outbox is not None:
        yield outbox
        return
    own = EventOutbox()
    try:
        yield own
    finally:
        own.flush()


# --- reads -----------------------------------------------------------------------------------


def _load(conversation_id: str) -> Conversation | None:
    try:
        return Conversation.get(conversation_pk(conversation_id), CONVERSATION_SK,
                                consistent_read=True)
    except Conversation.DoesNotExist:
        return None


def _must_load(conversation_id: str) -> Conversation:
    conversation = _load(conversation_id)
    if conversation is None or conversation.created_at is None:
        raise NotFound("no such conversation", conversation_id=conversation_id)
    return conversation


def _load_member(member_id: str) -> Member:
    try:
        return Member.get(MEMBERS_PK, member_id, consistent_read=True)
    except Member.DoesNotExist:
        raise NotFound("no such member", member_id=member_id) from None


def _load_page(page_id: str | None) -> Page | None:
    try:
        return Page.get(PAGES_PK, page_id or "")
    except Page.DoesNotExist:
        return None


def _auto_assigns(page: Page | None) -> bool:
    return page is not None and page.auto_assign is not False


def _member_page_ids(member: Member) -> list[str] | None:
    """The pages whose queues a member may take from; None means every page."""
    if member.role in (OWNER, ADMIN) or not member.page_ids:
        return None
    return sorted(member.page_ids)


class _Team:
    """The team as last read: candidates for routing, kept current after our own writes."""

    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self.refresh()

    def refresh(self) -> None:
        # One strongly consistent query on the MEMBERS partition.
        self.members = {m.member_id: m for m in Member.query(MEMBERS_PK, consistent_read=True)}

    def candidates(self, page_id: str | None, exclude: Iterable[str] = ()) -> list[Member]:
        """Eligible members, best first: fewest open conversations, then idle longest."""
        skip = set(exclude)
        eligible = [m for m in self.members.values()
                    if m.member_id not in skip and is_eligible(m, page_id)]
        return sorted(eligible, key=lambda m: (int(m.open_count), int(m.idle_since or 0),
                                               m.member_id))

    def took(self, member_id: str) -> None:
        if member_id in self.members:
            self.members[member_id].open_count = int(self.members[member_id].open_count) + 1

    def gave(self, member_id: str, at: int) -> None:
        if member_id in self.members:
            member = self.members[member_id]
            member.open_count = int(member.open_count) - 1
            member.idle_since = at


# --- automatic assignment --------------------------------------------------------------------


def _assign_best(conversation: Conversation, team: _Team, outbox: EventOutbox, *,
                 expect: Condition, kind: str, giver: str | None = None,
                 exclude: Iterable[str] = ()) -> str | None:
    """Give the conversation to the best eligible member; None when nobody may take it.

    Returns None also when the conversation left the expected state meanwhile.
    """
    skip = set(exclude)
    if conversation.returned_by:
        skip.add(conversation.returned_by)
    for attempt in range(_MAX_TRIES):
        candidates = team.candidates(conversation.page_id, skip)
        if not candidates:
            return None
        member_id = candidates[0].member_id
        at = clock()
        change = _Change(conversation, _assigned_actions(conversation, member_id, at), expect,
                         kind=kind, actor=SYSTEM, at=at, taker=member_id,
                         taker_condition=_member_can_take_automatically(), giver=giver)
        try:
            _commit(change, outbox)
        except _Refused as refused:
            if refused.part in ("conversation", "giver"):
                return None
            if refused.part == "conflict":
                # Back off a little so that concurrent routers do not collide again.
                time.sleep(random.uniform(0.005, 0.02 * (attempt + 1)))
            team.refresh()
            continue
        team.took(member_id)
        if giver:
            team.gave(giver, at)
        return member_id
    logger.warning("routing gave up; the conversation waits in the queue",
                   extra={"conversation_id": conversation.conversation_id})
    return None


def do_route_conversation(conversation_id: str, *, outbox: EventOutbox | None = None,
                          exclude: Iterable[str] = ()) -> str | None:
    """Assign an `unassigned` conversation to the best eligible member.

    Returns the member id, or None when nobody is eligible (it stays queued), when the
    conversation is not `unassigned`, or when its page has automatic assignment off.
    """
    conversation = _load(conversation_id)
    if conversation is None or conversation.status != UNASSIGNED:
        return None
    if not _auto_assigns(_load_page(conversation.page_id)):
        return None
    with _publishing(outbox) as events:
        return _assign_best(conversation, _Team(), events, expect=_conversation_in(UNASSIGNED),
                            kind=ASSIGNED_KIND, exclude=exclude)


def _queue_heads(page_id: str) -> Iterator[tuple[str, str, str]]:
    """(sort key, page id, conversation id) of a page's queue, oldest first, read lazily.

    `by_assignee` is keys-only: the conversation itself is read before it is assigned.
    """
    for item in Conversation.by_assignee.query(routing_queue_key(page_id), page_size=100):
        sort_key = item.gsi2sk or ""
        yield sort_key, page_id, sort_key.split("#", 1)[1]


def do_drain_queues(page_ids: list[str] | None = None, *, outbox: EventOutbox | None = None,
                    skip: Iterable[str] = ()) -> int:
    """Assign queued conversations, oldest first across the pages, while anyone may take them.

    `page_ids` None means every page; pages with automatic assignment off are left for
    pick-up. `skip`: conversations not to assign now. Returns how many were assigned.
    """
    pages = {p.page_id: p for p in Page.query(PAGES_PK)}
    wanted = [pid for pid in (pages if page_ids is None else page_ids)
              if _auto_assigns(pages.get(pid))]
    team = _Team()
    skipped = set(skip)
    open_pages = {pid for pid in wanted if team.candidates(pid)}
    heads = {pid: _queue_heads(pid) for pid in open_pages}
    heap: list[tuple[str, str, str]] = []
    for iterator in heads.values():
        first = next(iterator, None)
        if first:
            heapq.heappush(heap, first)

    assigned = 0
    with _publishing(outbox) as events:
        while heap:
            _sort_key, page_id, conversation_id = heapq.heappop(heap)
            if page_id not in open_pages:
                continue
            following = next(heads[page_id], None)
            if following:
                heapq.heappush(heap, following)
            conversation = _load(conversation_id)
            # The index lags the table a little: skip entries that are no longer queued.
            if conversation_id in skipped or conversation is None \
                    or conversation.status != UNASSIGNED:
                continue
            if _assign_best(conversation, team, events, expect=_conversation_in(UNASSIGNED),
                            kind=ASSIGNED_KIND):
                assigned += 1
            elif not team.candidates(page_id):
                open_pages.discard(page_id)
    if assigned:
        logger.info("queues drained", extra={"assigned": assigned, "page_ids": wanted})
    return assigned


def _drain_for(member_id: str, outbox: EventOutbox) -> int:
    """Drain the queues a member may take from, after they freed capacity or came online."""
    try:
        member = _load_member(member_id)
    except NotFound:
        return 0
    if not (member.active and member.status == ONLINE and has_reception_capacity(member)):
        return 0
    return do_drain_queues(_member_page_ids(member), outbox=outbox)


# --- by a member -----------------------------------------------------------------------------


def _raise_for_taker(member_id: str) -> None:
    member = _load_member(member_id)
    if not member.active:
        raise InvalidInput("the member is deactivated", member_id=member_id)
    raise ReceptionLimitReached("the member holds as many conversations as their limit",
                                member_id=member_id, limit=int(member.reception_limit),
                                open_count=int(member.open_count))


def _raise_state_changed(conversation_id: str) -> None:
    fresh = _load(conversation_id)
    raise ConversationStateChanged("the conversation changed meanwhile",
                                   conversation_id=conversation_id,
                                   status=fresh.status if fresh else None)


def check_pick_up(member: Member, conversation_id: str, *,
                  outbox: EventOutbox | None = None) -> Conversation:
    """A member takes a waiting (`unassigned` or `bot`) conversation themselves.

    Raises:
        NotFound: the member may not see it.
        ConversationStateChanged: it is not waiting.
        ReceptionLimitReached: the member is at their limit.
    """
    conversation = access_conversation(member, conversation_id)
    if conversation.status not in (UNASSIGNED, BOT):
        raise ConversationStateChanged("only a waiting conversation can be picked up",
                                       conversation_id=conversation_id,
                                       status=conversation.status)
    return do_pick_up(conversation_id, member.member_id, outbox=outbox)


def do_pick_up(conversation_id: str, member_id: str, *,
               outbox: EventOutbox | None = None) -> Conversation:
    conversation = _must_load(conversation_id)
    if conversation.status not in (UNASSIGNED, BOT):
        _raise_state_changed(conversation_id)
    at = clock()
    change = _Change(conversation, _assigned_actions(conversation, member_id, at),
                     _conversation_in(conversation.status or ""), kind=PICKED_UP,
                     actor=member_id, at=at, taker=member_id,
                     taker_condition=_member_can_take_by_hand())
    with _publishing(outbox) as events:
        _commit_or_raise(change, events)
    return _must_load(conversation_id)


def _commit_or_raise(change: _Change, outbox: EventOutbox) -> None:
    try:
        _commit(change, outbox)
    except _Refused as refused:
        cid = change.conversation.conversation_id or ""
        if refused.part == "taker" and change.taker:
            _raise_for_taker(change.taker)
        if refused.part == "giver":
            # Only a corrupted count gets here; the sweep's repair restores it.
            logger.error("open count below the conversations held",
                         extra={"member_id": change.giver, "conversation_id": cid})
        _raise_state_changed(cid)


def check_transfer(member: Member, conversation_id: str, *, to_member_id: str | None,
                   note: str | None = None, force: bool = False,
                   outbox: EventOutbox | None = None) -> Conversation:
    """Give an `assigned` conversation to another member, or back to the queue (None).

    Agents transfer their own conversations; supervisors and up any on their pages, and
    only they may `force` a transfer past the other member's reception limit. Supervisors
    and up also assign a waiting (`unassigned` or `bot`) conversation to a member this way.

    Raises:
        NotFound: the member may not see it, or `to_member_id` is no member.
        Forbidden: an agent transferring another's conversation, or forcing.
        ConversationStateChanged: it is not `assigned` (nor waiting, for a supervisor).
        InvalidInput: the target is deactivated, not allowed on the page, or the holder.
        ReceptionLimitReached: the target is at their limit (and no force).
    """
    conversation = access_conversation(member, conversation_id)
    if (conversation.status in (UNASSIGNED, BOT) and to_member_id is not None
            and is_supervising(member)):
        _check_note(note)
        _check_target(conversation, to_member_id)
        return do_assign_by_hand(conversation_id, to_member_id, actor=member.member_id,
                                 note=note, force=force, outbox=outbox)
    if conversation.status != ASSIGNED:
        raise ConversationStateChanged("only an assigned conversation can be transferred",
                                       conversation_id=conversation_id,
                                       status=conversation.status)
    if not is_supervising(member) and conversation.assignee_id != member.member_id:
        raise Forbidden("agents transfer only their own conversations",
                        conversation_id=conversation_id)
    if force and not is_supervising(member):
        raise Forbidden("only a supervisor, admin or owner may force a transfer")
    _check_note(note)
    if to_member_id is not None:
        _check_target(conversation, to_member_id)
        if to_member_id == conversation.assignee_id:
            raise InvalidInput("the conversation is already theirs", member_id=to_member_id)
    return do_transfer(conversation_id, to_member_id, actor=member.member_id, note=note,
                       force=force, outbox=outbox)


def _check_target(conversation: Conversation, to_member_id: str) -> None:
    target = _load_member(to_member_id)
    if not target.active:
        raise InvalidInput("the member is deactivated", member_id=to_member_id)
    if not is_page_allowed(target, conversation.page_id):
        raise InvalidInput("the member is not allowed on this page",
                           member_id=to_member_id, page_id=conversation.page_id)


def do_assign_by_hand(conversation_id: str, to_member_id: str, *, actor: str,
                      note: str | None = None, force: bool = False,
                      outbox: EventOutbox | None = None) -> Conversation:
    """A waiting conversation given to a member by a supervisor: the same one transaction as
    any change of holder, conditioned on the member's capacity unless forced."""
    conversation = _must_load(conversation_id)
    status = conversation.status or ""
    if status not in (UNASSIGNED, BOT):
        _raise_state_changed(conversation_id)
    at = clock()
    condition = _member_is_active() if force else _member_can_take_by_hand()
    change = _Change(conversation, _assigned_actions(conversation, to_member_id, at),
                     _conversation_in(status), kind=ASSIGNED_KIND, actor=actor, at=at,
                     taker=to_member_id, taker_condition=condition, note=note, forced=force)
    with _publishing(outbox) as events:
        _commit_or_raise(change, events)
    return _must_load(conversation_id)


def _check_note(note: str | None) -> None:
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput("the note is too long", max_length=MAX_NOTE_LENGTH)


def do_transfer(conversation_id: str, to_member_id: str | None, *, actor: str,
                note: str | None = None, force: bool = False,
                outbox: EventOutbox | None = None) -> Conversation:
    conversation = _must_load(conversation_id)
    giver = conversation.assignee_id
    if conversation.status != ASSIGNED or giver is None:
        _raise_state_changed(conversation_id)
    assert giver is not None
    at = clock()
    with _publishing(outbox) as events:
        if to_member_id is None:
            change = _Change(conversation, [*_queued_actions(conversation, at),
                                            Conversation.returned_by.set(giver)],
                             _conversation_held_by(giver), kind=RETURNED, actor=actor, at=at,
                             giver=giver, note=note)
            _commit_or_raise(change, events)
            # Someone else takes it if anyone may (routing skips its `returned_by`).
            if _auto_assigns(_load_page(conversation.page_id)):
                queued = _must_load(conversation_id)
                _assign_best(queued, _Team(), events, expect=_conversation_in(UNASSIGNED),
                             kind=ASSIGNED_KIND)
            # The giver's freed slot serves whatever else waits.
            _drain_for(giver, events)
        else:
            condition = _member_is_active() if force else _member_can_take_by_hand()
            change = _Change(conversation, _assigned_actions(conversation, to_member_id, at),
                             _conversation_held_by(giver), kind=TRANSFERRED, actor=actor,
                             at=at, taker=to_member_id, taker_condition=condition, giver=giver,
                             note=note, forced=force)
            _commit_or_raise(change, events)
            _drain_for(giver, events)
    return _must_load(conversation_id)


def _clean_tags(tags: Iterable[str]) -> set[str]:
    cleaned = {t.strip() for t in tags if isinstance(t, str) and t.strip()}
    if len(cleaned) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in cleaned):
        raise InvalidInput("too many or too long tags", max_tags=MAX_TAGS,
                           max_length=MAX_TAG_LENGTH)
    return cleaned


def check_close(member: Member, conversation_id: str, *, tags: list[str] | None = None,
                outbox: EventOutbox | None = None) -> Conversation:
    """Close a conversation with conversation tags, freeing its holder's capacity.

    Agents close their own `assigned` conversations; supervisors and up any conversation on
    their pages, also one still waiting (spam, say).

    Raises:
        NotFound: the member may not see it.
        Forbidden: an agent closing another's, or a waiting, conversation.
        ConversationStateChanged: it is closed already.
        InvalidInput: bad tags.
    """
    conversation = access_conversation(member, conversation_id)
    cleaned = _clean_tags(tags or [])
    if conversation.status == CLOSED:
        raise ConversationStateChanged("the conversation is closed already",
                                       conversation_id=conversation_id, status=CLOSED)
    if not is_supervising(member):
        if conversation.status != ASSIGNED or conversation.assignee_id != member.member_id:
            raise Forbidden("agents close only their own conversations",
                            conversation_id=conversation_id)
    return do_close(conversation_id, actor=member.member_id, tags=sorted(cleaned),
                    outbox=outbox)


def do_close(conversation_id: str, *, actor: str, tags: list[str] | None = None,
             outbox: EventOutbox | None = None) -> Conversation:
    conversation = _must_load(conversation_id)
    if conversation.status == CLOSED:
        _raise_state_changed(conversation_id)
    holder = conversation.assignee_id if conversation.status == ASSIGNED else None
    expect = _conversation_held_by(holder) if holder else _conversation_in(
        conversation.status or "")
    at = clock()
    cleaned = set(tags or [])
    change = _Change(conversation, _closed_actions(conversation, at, cleaned), expect,
                     kind=CLOSED_KIND, actor=actor, at=at, giver=holder, tags=cleaned)
    with _publishing(outbox) as events:
        _commit_or_raise(change, events)
        if holder:
            _drain_for(holder, events)
    return _must_load(conversation_id)


def check_reopen(member: Member, conversation_id: str, *,
                 outbox: EventOutbox | None = None) -> Conversation:
    """Re-open a closed conversation to the acting member (who is replying to it).

    Raises:
        NotFound: the member may not see it.
        ConversationStateChanged: it is not closed.
        ReceptionLimitReached: the member is at their limit.
    """
    conversation = access_conversation(member, conversation_id)
    if conversation.status != CLOSED:
        raise ConversationStateChanged("only a closed conversation can be re-opened",
                                       conversation_id=conversation_id,
                                       status=conversation.status)
    return do_reopen(conversation_id, member.member_id, outbox=outbox)


def do_reopen(conversation_id: str, member_id: str, *,
              outbox: EventOutbox | None = None) -> Conversation:
    conversation = _must_load(conversation_id)
    if conversation.status != CLOSED:
        _raise_state_changed(conversation_id)
    at = clock()
    change = _Change(conversation, _assigned_actions(conversation, member_id, at),
                     _conversation_in(CLOSED), kind=REOPENED, actor=member_id, at=at,
                     taker=member_id, taker_condition=_member_can_take_by_hand(),
                     giver=None)
    with _publishing(outbox) as events:
        _commit_or_raise(change, events)
    return _must_load(conversation_id)


# --- from ingestion --------------------------------------------------------------------------


def do_reopen_on_inbound(conversation: Conversation, *, page: Page | None = None,
                         outbox: EventOutbox | None = None) -> str | None:
    """A contact wrote on a closed conversation: back to its last holder when eligible,
    else to the queue and routed. Returns the new holder, or None (queued, or not closed).

    Safe to repeat: every write is conditioned on the conversation being `closed`.
    """
    if conversation.status != CLOSED:
        return None
    page = page or _load_page(conversation.page_id)
    previous = conversation.last_assignee_id or conversation.assignee_id
    with _publishing(outbox) as events:
        if previous:
            member = _team_member(previous)
            if member is not None and is_eligible(member, conversation.page_id):
                at = clock()
                change = _Change(conversation, _assigned_actions(conversation, previous, at),
                                 _conversation_in(CLOSED), kind=REOPENED, actor=SYSTEM, at=at,
                                 taker=previous, taker_condition=_member_can_take_automatically())
                try:
                    _commit(change, events)
                    return previous
                except _Refused as refused:
                    if refused.part == "conversation":
                        return None

        at = clock()
        change = _Change(conversation, _queued_actions(conversation, at),
                         _conversation_in(CLOSED), kind=REOPENED, actor=SYSTEM, at=at,
                         note=None)
        try:
            _commit(change, events)
        except _Refused:
            return None
        if not _auto_assigns(page):
            return None
        queued = _must_load(conversation.conversation_id or "")
        return _assign_best(queued, _Team(), events, expect=_conversation_in(UNASSIGNED),
                            kind=ASSIGNED_KIND)


def _team_member(member_id: str) -> Member | None:
    try:
        return _load_member(member_id)
    except NotFound:
        return None


def do_hand_over(conversation_id: str, reason: str, *, page: Page | None = None,
                 outbox: EventOutbox | None = None) -> str | None:
    """The bot hands a `bot` conversation to people: queued, then routed.

    Returns the new holder, or None (left queued, or not in `bot`). Safe to repeat.
    """
    conversation = _load(conversation_id)
    if conversation is None or conversation.status != BOT:
        return None
    page = page or _load_page(conversation.page_id)
    at = clock()
    change = _Change(conversation, _handed_over_actions(conversation, at), _conversation_in(BOT),
                     kind=HANDED_OVER, actor=SYSTEM, at=at, note=reason)
    with _publishing(outbox) as events:
        try:
            _commit(change, events)
        except _Refused:
            return None
        if not _auto_assigns(page):
            return None
        queued = _must_load(conversation_id)
        return _assign_best(queued, _Team(), events, expect=_conversation_in(UNASSIGNED),
                            kind=ASSIGNED_KIND)


def do_route_new_conversation(conversation: Conversation, *, page: Page, text: str | None,
                              outbox: EventOutbox | None = None) -> str | None:
    """Ingestion created this conversation: route it, or hand it over if it asks for one."""
    if conversation.status == BOT:
        if asks_for_a_person(text, handover_words(page)):
            return do_hand_over(conversation.conversation_id or "", "asked for a person",
                                page=page, outbox=outbox)
        return None
    if conversation.status != UNASSIGNED or not _auto_assigns(page):
        return None
    with _publishing(outbox) as events:
        return _assign_best(conversation, _Team(), events,
                            expect=_conversation_in(UNASSIGNED), kind=ASSIGNED_KIND)


def do_route_on_inbound(conversation: Conversation, *, page: Page, text: str | None,
                        outbox: EventOutbox | None = None) -> str | None:
    """A newer inbound message on an existing conversation: reopen, or hand over.

    Writes nothing in the common case (an `assigned` or waiting conversation); the wait for
    a reply is recorded by ingestion's own activity write (`awaiting_reply_since`).
    """
    if conversation.status == CLOSED:
        return do_reopen_on_inbound(conversation, page=page, outbox=outbox)
    if conversation.status == BOT and asks_for_a_person(text, handover_words(page)):
        return do_hand_over(conversation.conversation_id or "", "asked for a person", page=page,
                            outbox=outbox)
    return None


def do_mark_replied(conversation_id: str, member_id: str) -> bool:
    """A member answered: the contact no longer waits. False when nothing waited.

    Costs one write unit; call it after the reply is sent.
    """
    conversation = Conversation(conversation_pk(conversation_id), CONVERSATION_SK)
    try:
        conversation.update(actions=[Conversation.awaiting_reply_since.remove()],
                            condition=Conversation.awaiting_reply_since.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    logger.info("reply recorded", extra={"conversation_id": conversation_id,
                                         "member_id": member_id})
    return True


# --- members ---------------------------------------------------------------------------------


def do_set_member_status(member_id: str, status: str, *,
                         outbox: EventOutbox | None = None) -> Member:
    """Online, away or offline; coming online drains the queues the member may take from.

    Raises:
        InvalidInput: an unknown status.
        NotFound: no such member.
    """
    if status not in MEMBER_STATUSES:
        raise InvalidInput("unknown member status", status=status, allowed=list(MEMBER_STATUSES))
    member = _load_member(member_id)
    previous = member.status
    if previous == status:
        return member
    at = clock()
    actions: list[Any] = [Member.status.set(status)]
    if status == ONLINE:
        actions.append(Member.idle_since.set(at))
    member.update(actions=actions, condition=Member.pk.exists())
    with _publishing(outbox) as events:
        events.add(event_names.MEMBER_STATUS_CHANGED, member_id=member_id, status=status,
                   previous=previous, at=at)
        logger.info("member status changed", extra={"member_id": member_id, "status": status})
        if status == ONLINE:
            do_drain_queues(_member_page_ids(member), outbox=events)
    return member


def do_set_reception_limit(member_id: str, limit: int, *,
                           outbox: EventOutbox | None = None) -> Member:
    """Change a member's reception limit; a raised limit drains the queues at once.

    A lowered limit takes nothing away: the member gets no more until under it.
    """
    if not isinstance(limit, int) or limit < 0:
        raise InvalidInput("the reception limit is a whole number from 0", limit=limit)
    member = _load_member(member_id)
    raised = limit > int(member.reception_limit)
    member.update(actions=[Member.reception_limit.set(limit)], condition=Member.pk.exists())
    if raised:
        with _publishing(outbox) as events:
            do_drain_queues(_member_page_ids(member), outbox=events)
    return member


def do_deactivate_member(member_id: str, *, actor: str = SYSTEM,
                         outbox: EventOutbox | None = None) -> int:
    """Deactivate a member: their open conversations go back to the queue, then to others.

    Returns how many conversations were given back. Safe to repeat.
    """
    member = _load_member(member_id)
    member.update(actions=[Member.active.set(False)], condition=Member.pk.exists())
    returned = 0
    pages: set[str] = set()
    with _publishing(outbox) as events:
        # Once inactive, no transaction may give the member anything more, so this list
        # can only shrink while we walk it.
        for item in Conversation.by_assignee.query(
                member_id, Conversation.gsi2sk.startswith(f"{ASSIGNED}#")):
            conversation = _load(item.pk[len("CONV#"):])
            if conversation is None or conversation.status != ASSIGNED \
                    or conversation.assignee_id != member_id:
                continue
            at = clock()
            change = _Change(conversation, _queued_actions(conversation, at),
                             _conversation_held_by(member_id), kind=RETURNED, actor=actor,
                             at=at, giver=member_id, note="member deactivated")
            try:
                _commit(change, events)
            except _Refused:
                continue
            returned += 1
            pages.add(conversation.page_id or "")
        if pages:
            do_drain_queues(sorted(pages), outbox=events)
    logger.info("member deactivated", extra={"member_id": member_id, "returned": returned})
    return returned


# --- the sweep -------------------------------------------------------------------------------


def count_open_conversations(member_id: str) -> int:
    """The member's `assigned` conversations, as the `by_assignee` index lists them."""
    return Conversation.by_assignee.count(member_id,
                                          Conversation.gsi2sk.startswith(f"{ASSIGNED}#"))


def do_repair_open_counts() -> dict[str, tuple[int, int]]:
    """Recompute every member's `open_count` from `by_assignee`, no table scan.

    Returns member id → (count stored, count of conversations). A difference is written
    only if a second look, after the index has had time to settle, sees the same one.
    """
    result: dict[str, tuple[int, int]] = {}
    for member in Member.query(MEMBERS_PK, consistent_read=True):
        stored = int(member.open_count)
        truth = count_open_conversations(member.member_id)
        if truth != stored:
            truth = _settled_difference(member, stored)
        result[member.member_id] = (stored, truth)
    return result


def _settled_difference(member: Member, stored: int) -> int:
    time.sleep(REPAIR_SETTLE_SECONDS)
    truth = count_open_conversations(member.member_id)
    if truth == stored:
        return truth
    try:
        # Only if no assignment or release happened in between.
        member.update(actions=[Member.open_count.set(truth)],
                      condition=Member.open_count == stored)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return stored
    logger.error("open count repaired", extra={"member_id": member.member_id,
                                               "stored": stored, "counted": truth})
    return truth


def _hand_back_unanswered(now_ms: int, outbox: EventOutbox) -> list[str]:
    """Assigned conversations left unanswered past their page's time: to the next member,
    else back to the queue. Returns their ids."""
    handed: list[str] = []
    team: _Team | None = None
    for page in Page.query(PAGES_PK):
        if not page.unanswered_timeout_seconds:
            continue
        deadline = now_ms - int(page.unanswered_timeout_seconds) * 1000
        # by_page_status projects everything, so the filter reads no extra item.
        overdue = Conversation.by_page_status.query(
            queue_key(page.page_id, ASSIGNED),
            filter_condition=Conversation.awaiting_reply_since <= deadline)
        for conversation in overdue:
            holder = conversation.assignee_id
            if not holder:
                continue
            team = team or _Team()
            expect = _conversation_held_by(holder) & (
                Conversation.awaiting_reply_since == conversation.awaiting_reply_since)
            taker = _assign_best(conversation, team, outbox, expect=expect, kind=UNANSWERED,
                                 giver=holder, exclude={holder})
            if taker is None:
                if not _return_unanswered(conversation, holder, expect, outbox):
                    continue
                team.gave(holder, clock())
            handed.append(conversation.conversation_id or "")
    return handed


def _return_unanswered(conversation: Conversation, holder: str, expect: Condition,
                       outbox: EventOutbox) -> bool:
    at = clock()
    # Queued by how long the contact has waited, so they are not sent to the back.
    waited_since = int(conversation.awaiting_reply_since or at)
    change = _Change(conversation, _queued_actions(conversation, waited_since), expect,
                     kind=UNANSWERED, actor=SYSTEM, at=at, giver=holder,
                     note="unanswered in time")
    try:
        _commit(change, outbox)
    except _Refused:
        return False
    return True


def do_sweep(now_ms: int | None = None) -> dict[str, Any]:
    """The scheduled sweep (every minute): unanswered hand-back, queues any event missed,
    and the open-count check. Returns what it did."""
    now = clock() if now_ms is None else now_ms
    with _publishing(None) as events:
        handed = _hand_back_unanswered(now, events)
        # A conversation just taken from its holder waits for the next sweep, so that the
        # holder's freed capacity does not hand it straight back to them.
        assigned = do_drain_queues(outbox=events, skip=handed)
    counts = do_repair_open_counts()
    repaired = {mid: pair for mid, pair in counts.items() if pair[0] != pair[1]}
    summary = {"handed_back": len(handed), "assigned": assigned, "repaired": repaired}
    logger.info("sweep done", extra={"handed_back": len(handed), "assigned": assigned,
                                     "repaired": len(repaired)})
    return summary


# --- timeline --------------------------------------------------------------------------------


def list_timeline(conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's routing history, oldest first (caller checks access first)."""
    entries = TimelineEntry.query(conversation_pk(conversation_id),
                                  TimelineEntry.sk.startswith(TIMELINE_PREFIX))
    return [
        {
            "id": entry.sk[len(TIMELINE_PREFIX):],
            "kind": entry.kind,
            "actor": entry.actor,
            "from": entry.from_member_id,
            "to": entry.to_member_id,
            "note": entry.note,
            "tags": sorted(entry.tags) if entry.tags else [],
            "forced": bool(entry.forced),
            "at": int(entry.at),
        }
        for entry in entries
    ]
