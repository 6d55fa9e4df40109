"""Routing's invariants after every step of random sequences of operations (issue 3).

Hypothesis drives arrivals, pick-ups, transfers, closes, reopens, status and limit changes
and deactivations over four members and two pages, and after EVERY step checks, against what
is stored:
- no member holds more open conversations than their limit (unless a lowered limit left
  them above it, which takes nothing away; and nobody ever gains past it);
- each member's stored `open_count` equals the conversations they hold, counted from the
  conversations themselves and from the `by_assignee` index;
- each conversation's status, assignee and index keys tell one story, and `assigned` means
  held by an active member;
- on the page with automatic assignment, nothing waits while an eligible member has room
  (except a conversation its holder just gave back, which routing keeps from them);
- the queue lists the waiting conversations in the order they entered it.
A refused operation must leave everything as it was.

Examples and steps: `ROUTING_PROPERTY_EXAMPLES` (default 25) and `ROUTING_PROPERTY_STEPS`
(default 30), so a run stays well under a minute on in-process moto; raise them to search
harder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.routing.conftest import PAGE_A, PAGE_B, Clock, arrive, make_member

EXAMPLES = int(os.environ.get("ROUTING_PROPERTY_EXAMPLES", "25"))
STEPS = int(os.environ.get("ROUTING_PROPERTY_STEPS", "30"))

# PAGE_A routes automatically, PAGE_B is left for pick-up.
AUTO_PAGES = {PAGE_A}
# Who may work where: ann only on A, bob on both, cal on every page (no list), sue a
# supervisor on B who may also move others' conversations there.
TEAM = {
    "ann": ("agent", {PAGE_A}),
    "bob": ("agent", {PAGE_A, PAGE_B}),
    "cal": ("agent", None),
    "sue": ("supervisor", {PAGE_B}),
}
MEMBER_IDS = sorted(TEAM)
PSIDS = [f"p{i}" for i in range(4)]
STATUSES = ("online", "away", "offline")

members_st = st.sampled_from(MEMBER_IDS)
limits_st = st.integers(min_value=0, max_value=3)


@dataclass(frozen=True)
class Snapshot:
    members: dict[str, dict[str, Any]]
    conversations: dict[str, dict[str, Any]]
    queues: dict[str, list[str]]
    indexed_counts: dict[str, int]


def _snapshot() -> Snapshot:
    from inbox.actions.routing import count_open_conversations
    from inbox.models import MEMBERS_PK, Conversation, Member, routing_queue_key

    members = {
        m.member_id: {"active": bool(m.active), "status": m.status,
                      "limit": int(m.reception_limit), "open_count": int(m.open_count),
                      "page_ids": set(m.page_ids or ()), "role": m.role}
        for m in Member.query(MEMBERS_PK, consistent_read=True)
    }
    conversations = {
        c.conversation_id: {"status": c.status, "assignee_id": c.assignee_id,
                            "page_id": c.page_id, "gsi1pk": c.gsi1pk, "gsi2pk": c.gsi2pk,
                            "gsi2sk": c.gsi2sk}
        for c in Conversation.scan(Conversation.sk == "CONV", consistent_read=True)
    }
    queues = {
        page_id: [item.gsi2sk.split("#", 1)[1]
                  for item in Conversation.by_assignee.query(routing_queue_key(page_id))]
        for page_id in (PAGE_A, PAGE_B)
    }
    indexed = {member_id: count_open_conversations(member_id) for member_id in members}
    return Snapshot(members, conversations, queues, indexed)


def _eligible(member: dict[str, Any], page_id: str) -> bool:
    allowed = member["role"] in ("owner", "admin") or not member["page_ids"] \
        or page_id in member["page_ids"]
    return (member["active"] and member["status"] == "online" and member["limit"] > 0
            and member["open_count"] < member["limit"] and allowed)


class RoutingMachine(RuleBasedStateMachine):
    """One team and two pages, wiped clean for each example."""

    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        _wipe_table()
        self.before = _snapshot()
        self.after = self.before
        # Order in which conversations entered their queue: step number, ties within a step.
        self.entered_queue: dict[str, int] = {}
        self.step = 0
        # Conversation id -> the member who gave it back to the queue (routing skips them).
        self.given_back: dict[str, str] = {}
        # Members left above a lowered limit; they get nothing until under it again.
        self.above_limit: set[str] = set()

    @initialize(limits=st.fixed_dictionaries({m: limits_st for m in MEMBER_IDS}),
                statuses=st.fixed_dictionaries({m: st.sampled_from(STATUSES)
                                                for m in MEMBER_IDS}))
    def build_team(self, limits: dict[str, int], statuses: dict[str, str]) -> None:
        from inbox.actions import inbound
        from inbox.models import PAGES_PK, Page, utcnow

        for page_id in (PAGE_A, PAGE_B):
            Page(PAGES_PK, page_id, page_id=page_id, name=page_id, connected_at=utcnow(),
                 auto_assign=page_id in AUTO_PAGES).save()
        inbound.forget_cached_pages()
        for idle, member_id in enumerate(MEMBER_IDS):
            role, page_ids = TEAM[member_id]
            make_member(member_id, role=role, page_ids=page_ids, limit=limits[member_id],
                        status=statuses[member_id], idle_since=idle)
        self._record()

    # --- operations ---------------------------------------------------------------------

    @rule(page_id=st.sampled_from([PAGE_A, PAGE_B]), psid=st.sampled_from(PSIDS))
    def contact_writes(self, page_id: str, psid: str) -> None:
        # A first message creates the conversation; a later one may reopen a closed one.
        arrive(psid, page_id=page_id, at=self.clock(), mid=f"m{self.clock()}")
        self._record()

    @precondition(lambda self: self.after.conversations)
    @rule(member_id=members_st, pick=st.integers(min_value=0))
    def pick_up(self, member_id: str, pick: int) -> None:
        from inbox.actions.routing import check_pick_up

        self._attempt(check_pick_up, self._member(member_id), self._conversation(pick))

    @precondition(lambda self: self.after.conversations)
    @rule(member_id=members_st, pick=st.integers(min_value=0),
          to=st.one_of(st.none(), members_st), by_holder=st.booleans())
    def transfer(self, member_id: str, pick: int, to: str | None, by_holder: bool) -> None:
        from inbox.actions.routing import check_transfer

        conversation_id = self._conversation(pick)
        holder = self.after.conversations[conversation_id]["assignee_id"]
        actor = holder if by_holder and holder else member_id
        status = self.after.conversations[conversation_id]["status"]
        done = self._attempt(check_transfer, self._member(actor), conversation_id,
                             to_member_id=to, note="over to you")
        if done and to is None and status == "assigned" and holder:
            self.given_back[conversation_id] = holder

    @precondition(lambda self: self.after.conversations)
    @rule(member_id=members_st, pick=st.integers(min_value=0), by_holder=st.booleans())
    def close(self, member_id: str, pick: int, by_holder: bool) -> None:
        from inbox.actions.routing import check_close

        conversation_id = self._conversation(pick)
        holder = self.after.conversations[conversation_id]["assignee_id"]
        actor = holder if by_holder and holder else member_id
        self._attempt(check_close, self._member(actor), conversation_id, tags=["done"])

    @precondition(lambda self: self.after.conversations)
    @rule(member_id=members_st, pick=st.integers(min_value=0))
    def reopen(self, member_id: str, pick: int) -> None:
        from inbox.actions.routing import check_reopen

        self._attempt(check_reopen, self._member(member_id), self._conversation(pick))

    @rule(member_id=members_st, status=st.sampled_from(STATUSES))
    def set_status(self, member_id: str, status: str) -> None:
        from inbox.actions.routing import do_set_member_status

        do_set_member_status(member_id, status)
        self._record()

    @rule(member_id=members_st, limit=limits_st)
    def change_limit(self, member_id: str, limit: int) -> None:
        from inbox.actions.routing import do_set_reception_limit

        do_set_reception_limit(member_id, limit)
        self._record()
        member = self.after.members[member_id]
        if member["limit"] and member["open_count"] > member["limit"]:
            self.above_limit.add(member_id)

    @rule(member_id=members_st)
    def deactivate(self, member_id: str) -> None:
        from inbox.actions.routing import do_deactivate_member

        do_deactivate_member(member_id)
        self._record()

    # --- helpers ------------------------------------------------------------------------

    def _member(self, member_id: str) -> Any:
        from inbox.models import MEMBERS_PK, Member

        return Member.get(MEMBERS_PK, member_id, consistent_read=True)

    def _conversation(self, pick: int) -> str:
        ids = sorted(self.after.conversations)
        return ids[pick % len(ids)]

    def _attempt(self, action: Any, *args: Any, **kwargs: Any) -> bool:
        """Run a member's action; a refusal must change nothing at all."""
        from inbox.errors import InboxError

        try:
            action(*args, **kwargs)
        except InboxError:
            assert _snapshot() == self.after, "a refused operation changed something"
            self.step += 1
            return False
        self._record()
        return True

    def _record(self) -> None:
        self.step += 1
        self.before, self.after = self.after, _snapshot()
        for conversation_id, now in self.after.conversations.items():
            if now["status"] != "unassigned":
                self.entered_queue.pop(conversation_id, None)
                self.given_back.pop(conversation_id, None)
                continue
            was = self.before.conversations.get(conversation_id)
            requeued = was is None or was["status"] != "unassigned" \
                or was["gsi2sk"] != now["gsi2sk"]
            if requeued or conversation_id not in self.entered_queue:
                self.entered_queue[conversation_id] = self.step
        self.above_limit = {m for m in self.above_limit
                            if self.after.members[m]["open_count"]
                            > self.after.members[m]["limit"]}

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def nobody_holds_more_than_their_limit(self) -> None:
        for member_id, member in self.after.members.items():
            if not member["limit"]:
                # Limit 0: outside automatic routing, holds what they take by hand.
                continue
            gained = member["open_count"] > self.before.members.get(
                member_id, {"open_count": 0})["open_count"]
            if gained or member_id not in self.above_limit:
                assert member["open_count"] <= member["limit"], (member_id, member)

    @invariant()
    def open_counts_equal_the_truth(self) -> None:
        held = {m: 0 for m in self.after.members}
        for conversation in self.after.conversations.values():
            if conversation["status"] == "assigned":
                held[conversation["assignee_id"]] += 1
        stored = {m: member["open_count"] for m, member in self.after.members.items()}
        assert stored == held
        assert self.after.indexed_counts == held

    @invariant()
    def each_state_matches_its_assignee_and_keys(self) -> None:
        for conversation_id, c in self.after.conversations.items():
            assert c["status"] in ("unassigned", "assigned", "closed"), c
            assert c["gsi1pk"] == f"{c['page_id']}#{c['status']}"
            if c["status"] == "assigned":
                assert c["assignee_id"] in self.after.members, c
                assert self.after.members[c["assignee_id"]]["active"], c
                assert c["gsi2pk"] == c["assignee_id"]
                assert c["gsi2sk"].startswith("assigned#")
            elif c["status"] == "unassigned":
                assert c["assignee_id"] is None, c
                assert c["gsi2pk"] == f"QUEUE#{c['page_id']}"
                assert c["gsi2sk"].endswith(f"#{conversation_id}")
            elif c["gsi2pk"] is not None:
                assert c["gsi2sk"].startswith("closed#"), c

    @invariant()
    def nothing_waits_while_someone_eligible_has_room(self) -> None:
        for conversation_id, c in self.after.conversations.items():
            if c["status"] != "unassigned" or c["page_id"] not in AUTO_PAGES:
                continue
            kept_from = self.given_back.get(conversation_id)
            takers = [m for m, member in self.after.members.items()
                      if m != kept_from and _eligible(member, c["page_id"])]
            assert not takers, (conversation_id, takers)

    @invariant()
    def queues_list_the_waiting_in_the_order_they_came(self) -> None:
        for page_id, queue in self.after.queues.items():
            waiting = {cid for cid, c in self.after.conversations.items()
                       if c["status"] == "unassigned" and c["page_id"] == page_id}
            assert sorted(queue) == sorted(waiting)
            steps = [self.entered_queue[cid] for cid in queue]
            assert steps == sorted(steps), (page_id, queue, steps)


def _wipe_table() -> None:
    """Each example starts from an empty table (a fresh moto account each time costs more)."""
    from inbox import aws as aws_clients
    from inbox import settings as inbox_settings
    from inbox.actions import inbound

    dynamodb = aws_clients.client("dynamodb")
    table = inbox_settings.settings.table_name
    for page in dynamodb.get_paginator("scan").paginate(TableName=table,
                                                         ProjectionExpression="pk, sk"):
        for start in range(0, len(page["Items"]), 25):
            dynamodb.batch_write_item(RequestItems={table: [
                {"DeleteRequest": {"Key": key}} for key in page["Items"][start:start + 25]]})
    inbound.forget_cached_pages()


def test_routing_invariants_hold_after_every_step(aws: Any, clock: Clock) -> None:
    RoutingMachine.clock = clock
    run_state_machine_as_test(RoutingMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


pytestmark = pytest.mark.usefixtures("aws")
