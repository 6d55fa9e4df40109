"""Routing, one rule per test: who gets a conversation, who may move it, what is recorded.

The team: `ann` and `bob` are agents, `sue` a supervisor, `olive` the owner. Conversations
arrive through ingestion, so the hooks are the ones production runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.routing.conftest import (
    PAGE_A,
    PAGE_B,
    Clock,
    arrive,
    conversation,
    make_member,
    member,
    set_page,
)

pytestmark = pytest.mark.usefixtures("routing_pages")


@pytest.fixture
def outbox() -> Any:
    from inbox.publish import EventOutbox

    return EventOutbox()


def timeline_kinds(conversation_id: str) -> list[tuple[str, str | None, str | None]]:
    from inbox.actions.routing import list_timeline

    return [(e["kind"], e["from"], e["to"]) for e in list_timeline(conversation_id)]


def queue_of(page_id: str) -> list[str]:
    from inbox.models import Conversation, routing_queue_key

    return [item.gsi2sk.split("#", 1)[1]
            for item in Conversation.by_assignee.query(routing_queue_key(page_id))]


def assert_keys_match_state(conversation_id: str) -> None:
    """Status, the inbox list key and the by_assignee keys tell the same story."""
    c = conversation(conversation_id)
    assert c.gsi1pk == f"{c.page_id}#{c.status}"
    if c.status == "unassigned":
        assert (c.gsi2pk, c.assignee_id) == (f"QUEUE#{c.page_id}", None)
        assert c.gsi2sk.endswith(f"#{conversation_id}")
    elif c.status == "assigned":
        assert c.gsi2pk == c.assignee_id
        assert c.gsi2sk.startswith("assigned#")
    elif c.status == "bot":
        assert c.gsi2pk is None
    elif c.status == "closed" and c.assignee_id:
        assert c.gsi2sk.startswith("closed#")


# --- automatic assignment --------------------------------------------------------------------


def test_new_conversation_goes_to_the_member_with_fewest_open(aws: Any, clock: Clock) -> None:
    make_member("ann", idle_since=1)
    make_member("bob", idle_since=2)

    first = arrive("p1", at=1)
    second = arrive("p2", at=2)
    third = arrive("p3", at=3)

    # Ties go to the member idle longest: ann (idle since 1) before bob (2).
    assert conversation(first).assignee_id == "ann"
    assert conversation(second).assignee_id == "bob"
    assert conversation(third).assignee_id == "ann"
    assert (member("ann").open_count, member("bob").open_count) == (2, 1)
    for cid in (first, second, third):
        assert_keys_match_state(cid)
    assert timeline_kinds(first) == [("assigned", None, "ann")]


@pytest.mark.parametrize("who", [
    {"status": "offline"},
    {"status": "away"},
    {"limit": 0},
    {"active": False},
    {"page_ids": {PAGE_B}},
])
def test_an_ineligible_member_gets_nothing_and_it_waits_in_the_queue(
        aws: Any, clock: Clock, who: dict[str, Any]) -> None:
    make_member("ann", **who)

    cid = arrive("p1")

    assert conversation(cid).status == "unassigned"
    assert queue_of(PAGE_A) == [cid]
    assert member("ann").open_count == 0
    assert_keys_match_state(cid)


def test_a_member_at_their_limit_gets_nothing_more(aws: Any, clock: Clock) -> None:
    make_member("ann", limit=1)

    first = arrive("p1", at=1)
    second = arrive("p2", at=2)

    assert conversation(first).assignee_id == "ann"
    assert conversation(second).status == "unassigned"
    assert member("ann").open_count == 1


def test_owner_takes_every_page_and_an_agent_only_theirs(aws: Any, clock: Clock) -> None:
    make_member("olive", role="owner", page_ids={PAGE_B})
    make_member("ann", page_ids={PAGE_B}, idle_since=0)

    on_a = arrive("p1", page_id=PAGE_A)

    # Owners and admins are allowed on every page, whatever their list says.
    assert conversation(on_a).assignee_id == "olive"


def test_auto_assign_off_leaves_new_conversations_for_pick_up(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_pick_up

    set_page(PAGE_A, auto_assign=False)
    ann = make_member("ann")

    cid = arrive("p1")

    assert conversation(cid).status == "unassigned"
    assert queue_of(PAGE_A) == [cid]
    check_pick_up(ann, cid)
    assert conversation(cid).assignee_id == "ann"
    assert timeline_kinds(cid) == [("picked_up", None, "ann")]


# --- pick-up ---------------------------------------------------------------------------------


def test_pick_up_refusals(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_pick_up
    from inbox.errors import ConversationStateChanged, NotFound, ReceptionLimitReached

    ann = make_member("ann", status="offline", limit=1)
    bea = make_member("bea", status="offline", page_ids={PAGE_B})
    first, second = arrive("p1", at=1), arrive("p2", at=2)

    with pytest.raises(NotFound):
        check_pick_up(bea, first)
    check_pick_up(ann, first)
    with pytest.raises(ConversationStateChanged):
        check_pick_up(ann, first)
    with pytest.raises(ReceptionLimitReached) as refused:
        check_pick_up(member("ann"), second)

    assert refused.value.fields == {"member_id": "ann", "limit": 1, "open_count": 1}
    assert conversation(second).status == "unassigned"
    assert member("ann").open_count == 1


def test_a_member_outside_automatic_routing_picks_up_by_hand(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_pick_up

    sue = make_member("sue", role="supervisor", limit=0)
    cids = [arrive(f"p{i}", at=i) for i in range(3)]

    for cid in cids:
        check_pick_up(sue, cid)

    assert member("sue").open_count == 3


# --- transfer --------------------------------------------------------------------------------


def test_transfer_to_a_member_records_who_when_and_why(
        aws: Any, clock: Clock, outbox: Any) -> None:
    from inbox.actions.routing import check_transfer

    make_member("ann", idle_since=0)
    make_member("bob", status="offline")
    cid = arrive("p1")

    check_transfer(member("ann"), cid, to_member_id="bob", note="speaks Portuguese",
                   outbox=outbox)

    assert conversation(cid).assignee_id == "bob"
    assert (member("ann").open_count, member("bob").open_count) == (0, 1)
    assert timeline_kinds(cid)[-1] == ("transferred", "ann", "bob")
    [event] = outbox.events
    assert event.name == "conversation.transferred"
    assert event.detail["note"] == "speaks Portuguese"
    assert event.detail["actor"] == "ann"
    assert_keys_match_state(cid)


def test_transfer_to_a_member_at_their_limit_is_refused_with_member_and_limit(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_transfer
    from inbox.errors import ReceptionLimitReached

    make_member("ann", idle_since=0)
    make_member("bob", limit=1, idle_since=1)
    mine, _bobs = arrive("p1", at=1), arrive("p2", at=2)
    assert conversation(mine).assignee_id == "ann"

    with pytest.raises(ReceptionLimitReached) as refused:
        check_transfer(member("ann"), mine, to_member_id="bob", note=None, force=False)

    assert refused.value.fields["member_id"] == "bob"
    assert refused.value.fields["limit"] == 1
    assert refused.value.status == 409
    assert conversation(mine).assignee_id == "ann"
    assert timeline_kinds(mine) == [("assigned", None, "ann")]


def test_only_a_supervisor_may_force_a_transfer_past_the_limit(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_transfer
    from inbox.errors import Forbidden

    make_member("ann", idle_since=0)
    make_member("bob", limit=1, idle_since=1)
    sue = make_member("sue", role="supervisor", status="offline")
    mine, _bobs = arrive("p1", at=1), arrive("p2", at=2)

    with pytest.raises(Forbidden):
        check_transfer(member("ann"), mine, to_member_id="bob", note=None, force=True)
    check_transfer(sue, mine, to_member_id="bob", note="urgent", force=True)

    assert member("bob").open_count == 2
    assert conversation(mine).assignee_id == "bob"


def test_an_agent_cannot_move_another_agents_conversation(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_close, check_transfer
    from inbox.errors import NotFound

    make_member("ann", idle_since=0)
    make_member("bob", idle_since=1)
    annes = arrive("p1")

    # Isolation hides it, so it is missing rather than forbidden.
    with pytest.raises(NotFound):
        check_transfer(member("bob"), annes, to_member_id="bob", note=None, force=False)
    with pytest.raises(NotFound):
        check_close(member("bob"), annes, tags=[])


def test_transfer_refusals_for_the_target(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_transfer
    from inbox.errors import InvalidInput, NotFound

    make_member("ann")
    make_member("gone", active=False)
    make_member("bea", page_ids={PAGE_B})
    cid = arrive("p1")

    for target, error in (("nobody", NotFound), ("gone", InvalidInput), ("bea", InvalidInput),
                          ("ann", InvalidInput)):
        with pytest.raises(error):
            check_transfer(member("ann"), cid, to_member_id=target, note=None, force=False)
    assert member("ann").open_count == 1


def test_transfer_back_to_the_queue_goes_to_someone_else(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_transfer

    make_member("ann", idle_since=0)
    cid = arrive("p1")
    make_member("bob")

    check_transfer(member("ann"), cid, to_member_id=None, note="not my language")

    assert conversation(cid).assignee_id == "bob"
    assert timeline_kinds(cid) == [("assigned", None, "ann"), ("returned", "ann", None),
                                   ("assigned", None, "bob")]
    assert member("ann").open_count == 0


def test_transfer_back_to_the_queue_with_nobody_else_waits_there(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_transfer

    make_member("ann")
    cid = arrive("p1")

    check_transfer(member("ann"), cid, to_member_id=None)

    assert conversation(cid).status == "unassigned"
    assert queue_of(PAGE_A) == [cid]
    assert_keys_match_state(cid)


def test_a_supervisor_assigns_a_waiting_conversation_by_hand_and_an_agent_may_not(
        aws: Any, clock: Clock, outbox: Any) -> None:
    from inbox.actions.routing import check_transfer
    from inbox.errors import ConversationStateChanged, ReceptionLimitReached

    make_member("ann", status="offline")
    make_member("full", status="offline", limit=1)
    sue = make_member("sue", role="supervisor", status="offline")
    held, cid = arrive("p0", at=1), arrive("p1", at=2)
    check_transfer(sue, held, to_member_id="full")
    outbox.events.clear()
    assert conversation(cid).status == "unassigned"

    with pytest.raises(ConversationStateChanged):
        check_transfer(member("ann"), cid, to_member_id="ann")
    with pytest.raises(ReceptionLimitReached):
        check_transfer(sue, cid, to_member_id="full")
    check_transfer(sue, cid, to_member_id="ann", note="she knows this order", outbox=outbox)

    assert (conversation(cid).status, conversation(cid).assignee_id) == ("assigned", "ann")
    assert member("ann").open_count == 1
    assert queue_of(PAGE_A) == []
    assert timeline_kinds(cid)[-1] == ("assigned", None, "ann")
    [event] = outbox.events
    assert (event.name, event.detail["actor"], event.detail["note"]) == (
        "conversation.assigned", "sue", "she knows this order")
    assert_keys_match_state(cid)


def test_transfer_back_to_the_queue_frees_the_giver_for_an_older_waiting_one(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_transfer

    make_member("ann", limit=1)
    held = arrive("p1", at=1)
    older = arrive("p2", at=2)

    check_transfer(member("ann"), held, to_member_id=None)

    # The invariant of test_properties (nothing waits while an eligible member has room):
    # the freed slot once took nothing while `older` waited for it.
    assert conversation(older).assignee_id == "ann"
    assert conversation(held).status == "unassigned"
    assert queue_of(PAGE_A) == [held]
    assert member("ann").open_count == 1


def test_a_conversation_given_back_never_comes_back_to_its_giver_by_itself(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_pick_up, check_transfer, do_drain_queues

    make_member("ann", limit=2)
    first, second = arrive("p1", at=1), arrive("p2", at=2)

    # Found on the local stack: giving back the second freed a slot that took the first back.
    check_transfer(member("ann"), first, to_member_id=None)
    check_transfer(member("ann"), second, to_member_id=None)
    do_drain_queues()

    assert queue_of(PAGE_A) == [first, second]
    assert member("ann").open_count == 0
    # Someone else still gets them, and the giver may still take one back by hand.
    make_member("bob", limit=1)
    do_drain_queues()
    assert conversation(first).assignee_id == "bob"
    check_pick_up(member("ann"), second)
    assert conversation(second).assignee_id == "ann"


# --- close -----------------------------------------------------------------------------------


def test_close_keeps_tags_frees_capacity_and_drains_the_queue_oldest_first(
        aws: Any, clock: Clock, outbox: Any) -> None:
    from inbox.actions.routing import check_close

    make_member("ann", limit=1)
    held = arrive("p1", at=1)
    older, newer = arrive("p2", at=2), arrive("p3", at=3)

    check_close(member("ann"), held, tags=["refund", " refund ", "vip"], outbox=outbox)

    closed = conversation(held)
    assert (closed.status, closed.tags, closed.assignee_id) == ("closed", {"refund", "vip"}, "ann")
    assert conversation(older).assignee_id == "ann"
    assert conversation(newer).status == "unassigned"
    assert [e.name for e in outbox.events] == ["conversation.closed", "conversation.assigned"]
    assert_keys_match_state(held)


def test_close_refusals(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_close
    from inbox.errors import ConversationStateChanged, Forbidden, InvalidInput

    ann = make_member("ann", status="offline")
    sue = make_member("sue", role="supervisor", status="offline")
    waiting = arrive("p1")

    with pytest.raises(Forbidden):
        check_close(ann, waiting, tags=[])
    with pytest.raises(InvalidInput):
        check_close(sue, waiting, tags=["x" * 51])
    check_close(sue, waiting, tags=["spam"])
    with pytest.raises(ConversationStateChanged):
        check_close(sue, waiting, tags=[])

    # Closed from the queue: out of the queue and out of every member's list.
    assert queue_of(PAGE_A) == []
    assert conversation(waiting).gsi2pk is None


# --- reopen ----------------------------------------------------------------------------------


def test_inbound_on_a_closed_conversation_goes_back_to_its_last_assignee(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_close

    make_member("ann", idle_since=0)
    cid = arrive("p1", at=1)
    do_close(cid, actor="ann")
    make_member("bob", idle_since=0)

    arrive("p1", at=2, text="one more thing")

    assert conversation(cid).assignee_id == "ann"
    assert timeline_kinds(cid)[-1] == ("reopened", None, "ann")
    # The wait for an answer counts from the reopening.
    assert conversation(cid).awaiting_reply_since is not None
    assert_keys_match_state(cid)


def test_inbound_on_a_closed_conversation_with_last_assignee_away_goes_to_another(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_close, do_set_member_status

    make_member("ann")
    cid = arrive("p1", at=1)
    do_close(cid, actor="ann")
    do_set_member_status("ann", "away")
    make_member("bob")

    arrive("p1", at=2)

    assert conversation(cid).assignee_id == "bob"
    assert timeline_kinds(cid)[-2:] == [("reopened", None, None), ("assigned", None, "bob")]


def test_inbound_on_a_closed_conversation_with_nobody_eligible_waits(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_close, do_set_member_status

    make_member("ann")
    cid = arrive("p1", at=1)
    do_close(cid, actor="ann")
    do_set_member_status("ann", "offline")

    arrive("p1", at=2)

    assert conversation(cid).status == "unassigned"
    assert queue_of(PAGE_A) == [cid]
    assert conversation(cid).last_assignee_id == "ann"


def test_a_redelivered_message_reopens_once(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_close

    make_member("ann")
    cid = arrive("p1", at=1)
    do_close(cid, actor="ann")

    arrive("p1", at=2, mid="m-again")
    arrive("p1", at=2, mid="m-again")

    assert [k for k, _f, _t in timeline_kinds(cid)].count("reopened") == 1
    assert member("ann").open_count == 1


def test_a_late_message_older_than_the_close_neither_reopens_nor_counts_unread(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_close

    make_member("ann")
    cid = arrive("p1", at=clock.now - 5000)
    arrive("p1", at=clock.now - 1000, text="thanks, bye")
    do_close(cid, actor="ann")
    unread = conversation(cid).unread_count

    # Delivered late, sent between the two messages the member had before closing.
    arrive("p1", at=clock.now - 3000, text="sent before the close")

    assert (conversation(cid).status, conversation(cid).unread_count) == ("closed", unread)
    assert [k for k, _f, _t in timeline_kinds(cid)].count("reopened") == 0


def test_a_member_reopens_a_closed_conversation_to_themselves(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_reopen, do_close
    from inbox.errors import ConversationStateChanged

    make_member("ann")
    cid = arrive("p1")
    do_close(cid, actor="ann")
    sue = make_member("sue", role="supervisor", status="offline")

    check_reopen(sue, cid)

    assert conversation(cid).assignee_id == "sue"
    assert timeline_kinds(cid)[-1] == ("reopened", None, "sue")
    with pytest.raises(ConversationStateChanged):
        check_reopen(sue, cid)


# --- bot hand-over ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "hands_over"), [
    ("I want to talk to a HUMAN please", True),
    ("agent?", True),
    ("is this humanity?", False),
    ("reagent prices", False),
    (None, False),
])
def test_the_bot_hands_over_on_a_whole_word(
        aws: Any, clock: Clock, text: str | None, hands_over: bool) -> None:
    set_page(PAGE_A, faq_auto_reply=True)
    make_member("ann")

    cid = arrive("p1", at=1, text="hi")
    assert conversation(cid).status == "bot"
    arrive("p1", at=2, text=text)

    assert conversation(cid).status == ("assigned" if hands_over else "bot")
    if hands_over:
        assert timeline_kinds(cid) == [("handed_over", None, None), ("assigned", None, "ann")]
    assert_keys_match_state(cid)


def test_a_page_sets_its_own_hand_over_words(aws: Any, clock: Clock) -> None:
    set_page(PAGE_A, faq_auto_reply=True, handover_words=["Atendente"])
    make_member("ann")

    first = arrive("p1", at=1, text="quero um atendente")
    other = arrive("p2", at=2, text="human")

    assert conversation(first).assignee_id == "ann"
    assert conversation(other).status == "bot"


def test_hand_over_with_auto_assign_off_waits_in_the_queue(aws: Any, clock: Clock) -> None:
    set_page(PAGE_A, faq_auto_reply=True, auto_assign=False)
    make_member("ann")

    cid = arrive("p1", text="agent")

    assert conversation(cid).status == "unassigned"
    assert queue_of(PAGE_A) == [cid]


# --- members ---------------------------------------------------------------------------------


def test_coming_online_drains_the_queue_oldest_first(
        aws: Any, clock: Clock, outbox: Any) -> None:
    from inbox.actions.routing import do_set_member_status

    make_member("ann", status="offline", limit=2)
    cids = [arrive(f"p{i}", at=i) for i in (3, 1, 2)]

    do_set_member_status("ann", "online", outbox=outbox)

    assert [conversation(c).status for c in cids] == ["unassigned", "assigned", "assigned"]
    assert outbox.events[0].name == "member.status_changed"
    assert member("ann").idle_since > 0


def test_unknown_member_status_is_refused(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_set_member_status
    from inbox.errors import InvalidInput

    make_member("ann")

    with pytest.raises(InvalidInput):
        do_set_member_status("ann", "busy")


def test_a_raised_limit_drains_at_once(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_set_reception_limit

    make_member("ann", limit=1)
    first, second = arrive("p1", at=1), arrive("p2", at=2)

    do_set_reception_limit("ann", 2)

    assert conversation(second).assignee_id == "ann"
    assert conversation(first).assignee_id == "ann"


def test_deactivation_returns_open_conversations_then_routes_them(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_deactivate_member

    make_member("ann", idle_since=0)
    cids = [arrive(f"p{i}", at=i) for i in range(2)]
    make_member("bob")

    assert do_deactivate_member("ann", actor="olive") == 2

    assert {conversation(c).assignee_id for c in cids} == {"bob"}
    assert member("ann").open_count == 0
    assert not member("ann").active
    assert timeline_kinds(cids[0])[1] == ("returned", "ann", None)


# --- replies and the unanswered hand-back ----------------------------------------------------


def test_the_wait_for_a_reply_starts_once_and_ends_with_the_reply(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_mark_replied

    make_member("ann")
    cid = arrive("p1", at=1_000)
    started = conversation(cid).awaiting_reply_since
    arrive("p1", at=2_000)

    assert conversation(cid).awaiting_reply_since == started
    assert do_mark_replied(cid, "ann") is True
    assert conversation(cid).awaiting_reply_since is None
    assert do_mark_replied(cid, "ann") is False
    arrive("p1", at=3_000)
    assert conversation(cid).awaiting_reply_since == 3_000


def test_an_inbound_message_on_an_awaiting_conversation_costs_no_extra_write(
        aws: Any, clock: Clock) -> None:
    import boto3

    from tests.bench.meter import CapacityMeter

    make_member("ann")
    arrive("p1", at=1_000)
    arrive("p1", at=2_000)
    meter = CapacityMeter(boto3.client("dynamodb", region_name="us-east-1"))

    with meter.installed(), meter.tally() as tally:
        arrive("p1", at=3_000, text="still there?")

    writes = {op: n for (service, op), n in meter.calls.items()
              if service == "dynamodb" and op in ("PutItem", "UpdateItem",
                                                  "TransactWriteItems")}
    assert writes == {"PutItem": 1, "UpdateItem": 1}
    # write_units includes the index writes (the list index re-keyed: 2 of them).
    assert tally.write_units <= 4


def test_sweep_hands_an_unanswered_conversation_to_the_next_member(
        aws: Any, clock: Clock, outbox: Any) -> None:
    from inbox.actions.routing import do_sweep

    set_page(PAGE_A, unanswered_timeout_seconds=300)
    make_member("ann", idle_since=0)
    cid = arrive("p1")
    make_member("bob")

    assert do_sweep(clock.now + 299_000)["handed_back"] == 0
    summary = do_sweep(clock.now + 301_000)

    assert summary["handed_back"] == 1
    assert conversation(cid).assignee_id == "bob"
    assert timeline_kinds(cid)[-1] == ("unanswered", "ann", "bob")
    assert (member("ann").open_count, member("bob").open_count) == (0, 1)


def test_sweep_returns_an_unanswered_conversation_to_the_queue_when_nobody_else(
        aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_sweep

    set_page(PAGE_A, unanswered_timeout_seconds=60)
    make_member("ann")
    cid = arrive("p1")

    do_sweep(clock.now + 61_000)

    assert conversation(cid).status == "unassigned"
    assert queue_of(PAGE_A) == [cid]
    assert member("ann").open_count == 0
    # The next sweep may give it back: nobody else can take it.
    do_sweep(clock.now + 62_000)
    assert conversation(cid).assignee_id == "ann"


def test_a_page_without_a_timeout_never_hands_back(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_sweep

    make_member("ann")
    cid = arrive("p1")
    make_member("bob")

    assert do_sweep(clock.now + 10 * 86_400_000)["handed_back"] == 0
    assert conversation(cid).assignee_id == "ann"


def test_sweep_drains_a_queue_an_event_missed(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_sweep

    cid = arrive("p1")
    # Online without going through do_set_member_status: no drain happened.
    make_member("ann")

    assert do_sweep()["assigned"] == 1
    assert conversation(cid).assignee_id == "ann"


def test_repair_proves_the_counts_and_fixes_a_corrupted_one(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import do_repair_open_counts, do_sweep
    from inbox.models import Member

    make_member("ann")
    arrive("p1")
    assert do_repair_open_counts() == {"ann": (1, 1)}

    member("ann").update(actions=[Member.open_count.set(4)])
    assert do_sweep()["repaired"] == {"ann": (4, 1)}
    assert member("ann").open_count == 1


def test_sweep_function_runs_the_sweep(aws: Any, clock: Clock) -> None:
    from tests.ingest.helpers import LambdaContext, load_function

    cid = arrive("p1")
    make_member("ann")

    answer = load_function("sweep").handler({}, LambdaContext())

    assert answer == {"handed_back": 0, "assigned": 1, "repaired": {}}
    assert conversation(cid).assignee_id == "ann"


def test_timeline_lists_every_change_in_order(aws: Any, clock: Clock) -> None:
    from inbox.actions.routing import check_close, check_transfer, list_timeline

    make_member("ann", idle_since=0)
    make_member("bob", idle_since=1)
    cid = arrive("p1")
    check_transfer(member("ann"), cid, to_member_id="bob", note="handover")
    check_close(member("bob"), cid, tags=["done"])

    entries = list_timeline(cid)

    assert [(e["kind"], e["actor"], e["from"], e["to"]) for e in entries] == [
        ("assigned", "system", None, "ann"),
        ("transferred", "ann", "ann", "bob"),
        ("closed", "bob", "bob", None),
    ]
    assert entries[1]["note"] == "handover"
    assert entries[2]["tags"] == ["done"]
    assert entries[0]["at"] < entries[1]["at"] < entries[2]["at"]
