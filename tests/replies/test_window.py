"""The messaging window rules, table-driven: every sender, age and tag (PLATFORM.md §5.2)."""

from __future__ import annotations

import pytest
from inbox.rules import window

NOW = 1_800_000_000_000
H = 3600 * 1000
JUST_OPENED, DAY_END, DAY_AFTER = 1 * H, 24 * H - 1, 24 * H
WEEK_END, WEEK_AFTER = 168 * H - 1, 168 * H

RULES = [
    # age of the last inbound, sender, tag → allowed?, messaging_type / reason, allowed tags
    (JUST_OPENED, "member", None, True, "RESPONSE", ()),
    (DAY_END, "member", None, True, "RESPONSE", ()),
    (JUST_OPENED, "bot", None, True, "RESPONSE", ()),
    (JUST_OPENED, "member", "HUMAN_AGENT", True, "MESSAGE_TAG", ()),
    (JUST_OPENED, "bot", "HUMAN_AGENT", False, "human_agent_tag_is_for_people", ()),
    (DAY_AFTER, "member", None, False, "tag_required", ("HUMAN_AGENT",)),
    (DAY_AFTER, "member", "HUMAN_AGENT", True, "MESSAGE_TAG", ()),
    (WEEK_END, "member", "HUMAN_AGENT", True, "MESSAGE_TAG", ()),
    (DAY_AFTER, "bot", None, False, "window_closed", ()),
    (DAY_AFTER, "bot", "HUMAN_AGENT", False, "human_agent_tag_is_for_people", ()),
    (WEEK_AFTER, "member", None, False, "window_closed", ()),
    (WEEK_AFTER, "member", "HUMAN_AGENT", False, "window_closed", ()),
    (WEEK_AFTER, "bot", None, False, "window_closed", ()),
    (None, "member", None, False, "window_closed", ()),
    (JUST_OPENED, "member", "ACCOUNT_UPDATE", False, "tag_retired", ("HUMAN_AGENT",)),
    (DAY_AFTER, "member", "CONFIRMED_EVENT_UPDATE", False, "tag_retired", ("HUMAN_AGENT",)),
    (DAY_AFTER, "member", "POST_PURCHASE_UPDATE", False, "tag_retired", ("HUMAN_AGENT",)),
    (JUST_OPENED, "member", "SHIPPING_UPDATE", False, "tag_retired", ("HUMAN_AGENT",)),
    (WEEK_AFTER, "member", "ISSUE_RESOLUTION", False, "tag_retired", ()),
    (JUST_OPENED, "member", "CUSTOMER_FEEDBACK", False, "tag_not_supported", ("HUMAN_AGENT",)),
    (DAY_AFTER, "member", "MADE_UP", False, "tag_not_supported", ("HUMAN_AGENT",)),
]


@pytest.mark.parametrize(("age", "sender", "tag", "allowed", "outcome", "choices"), RULES)
def test_send_rules(age, sender, tag, allowed, outcome, choices):
    last = None if age is None else NOW - age

    decision = window.decide_send(last_inbound_at=last, now_ms=NOW, sender=sender, tag=tag)

    assert decision.allowed is allowed
    if allowed:
        assert (decision.messaging_type, decision.tag) == (
            outcome, "HUMAN_AGENT" if outcome == "MESSAGE_TAG" else None)
    else:
        assert (decision.reason, decision.allowed_tags) == (outcome, choices)


@pytest.mark.parametrize(("age", "state", "ends_after"), [
    (JUST_OPENED, "open", 23 * H),
    (DAY_AFTER, "human_agent", 144 * H),
    (WEEK_AFTER, "closed", None),
    (None, "closed", None),
])
def test_window_state_and_when_it_ends(age, state, ends_after):
    last = None if age is None else NOW - age

    found = window.window_state(last, NOW)

    assert found.state == state
    assert found.ends_at == (None if ends_after is None else NOW + ends_after)


def test_after_a_week_the_refusal_explains_that_templates_are_not_built():
    decision = window.decide_send(last_inbound_at=NOW - WEEK_AFTER, now_ms=NOW,
                                  sender="member", tag=None)

    assert decision.note == window.NO_TEMPLATES_NOTE


@pytest.mark.parametrize(("age", "allowed"), [(JUST_OPENED, True), (DAY_AFTER, False),
                                              (None, False)])
def test_typing_and_seen_only_inside_24_hours(age, allowed):
    last = None if age is None else NOW - age

    assert window.decide_sender_action(last_inbound_at=last, now_ms=NOW).allowed is allowed


def test_the_conversation_api_shows_the_same_window():
    from inbox.queries.conversations import window_of

    shown = window_of(NOW - DAY_AFTER, now_ms=NOW)

    assert (shown.state, shown.ends_at) == ("human_agent", "2027-01-21T08:00:00.000Z")
