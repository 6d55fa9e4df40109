"""Messaging windows (DESIGN "Messaging windows", PLATFORM.md §5.2): what a reply may be now.

The contact's last interaction opens the window. Within 24 hours anything goes out as a
`RESPONSE`; from 24 hours to 7 days only a member (never the bot) may reply, tagged
`HUMAN_AGENT`; after 7 days no free-form reply is allowed. Facebook's replacement for the
retired update tags, utility message templates, is not built in this inbox, so nothing is
offered then. One decision serves both the send (refused before any Graph call) and the
conversation API (the window it shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HOUR_MS = 3600 * 1000
STANDARD_WINDOW_MS = 24 * HOUR_MS
HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR_MS

HUMAN_AGENT = "HUMAN_AGENT"
RESPONSE = "RESPONSE"
MESSAGE_TAG = "MESSAGE_TAG"

# Retired by Facebook: the update tags on 27 April 2026, the older ones around 2020. Requests
# carrying them fail with code 100, so they are refused here with a clearer reason.
RETIRED_TAGS = frozenset({
    "ACCOUNT_UPDATE",
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "APPLICATION_UPDATE",
    "APPOINTMENT_UPDATE",
    "COMMUNITY_ALERT",
    "FEATURE_FUNCTIONALITY_UPDATE",
    "GAME_EVENT",
    "ISSUE_RESOLUTION",
    "PAIRING_UPDATE",
    "PAYMENT_UPDATE",
    "PERSONAL_FINANCE_UPDATE",
    "RESERVATION_UPDATE",
    "SHIPPING_UPDATE",
    "TICKET_UPDATE",
    "TRANSPORTATION_UPDATE",
})
# CUSTOMER_FEEDBACK is still valid on Facebook, but only with the feedback survey template,
# which this inbox does not send; a free-form reply with it would be refused.
UNSUPPORTED_TAGS = frozenset({"CUSTOMER_FEEDBACK"})

NO_TEMPLATES_NOTE = ("Facebook allows only utility message templates after 7 days, and this "
                     "inbox does not send them: wait for the contact to write again.")

WindowStateName = Literal["open", "human_agent", "closed"]
Sender = Literal["member", "bot"]


@dataclass(frozen=True)
class WindowState:
    """Where the window stands: `ends_at` (epoch ms) is when the current state ends."""

    state: WindowStateName
    ends_at: int | None


@dataclass(frozen=True)
class SendDecision:
    """Whether a reply may go out, and how: `messaging_type` and `tag` for the Send API.

    Refused decisions carry `reason` (a stable code) and `allowed_tags`, the tags that would
    be accepted now for this sender (an empty list when none would).
    """

    allowed: bool
    messaging_type: str | None = None
    tag: str | None = None
    reason: str | None = None
    allowed_tags: tuple[str, ...] = ()
    note: str | None = None


def window_state(last_inbound_at: int | float | None, now_ms: int) -> WindowState:
    if last_inbound_at is None:
        return WindowState("closed", None)
    opened = int(last_inbound_at)
    age = now_ms - opened
    if age < STANDARD_WINDOW_MS:
        return WindowState("open", opened + STANDARD_WINDOW_MS)
    if age < HUMAN_AGENT_WINDOW_MS:
        return WindowState("human_agent", opened + HUMAN_AGENT_WINDOW_MS)
    return WindowState("closed", None)


def is_within_messaging_window(last_inbound_at: int | float | None, now_ms: int) -> bool:
    return window_state(last_inbound_at, now_ms).state == "open"


def allowed_tags(state: WindowStateName, sender: Sender) -> tuple[str, ...]:
    """Tags a reply of `sender` may carry in `state`; HUMAN_AGENT is for people only."""
    if sender == "member" and state in ("open", "human_agent"):
        return (HUMAN_AGENT,)
    return ()


def decide_send(*, last_inbound_at: int | float | None, now_ms: int, sender: Sender,
                tag: str | None) -> SendDecision:
    """May `sender` reply now with `tag` (None for no tag)? See the module's rules."""
    state = window_state(last_inbound_at, now_ms).state
    choices = allowed_tags(state, sender)

    def refuse(reason: str) -> SendDecision:
        note = NO_TEMPLATES_NOTE if state == "closed" else None
        return SendDecision(False, reason=reason, allowed_tags=choices, note=note)

    if tag is not None:
        if tag in RETIRED_TAGS:
            return refuse("tag_retired")
        if tag != HUMAN_AGENT:
            return refuse("tag_not_supported")
        if sender != "member":
            return refuse("human_agent_tag_is_for_people")
        if state == "closed":
            return refuse("window_closed")
        return SendDecision(True, messaging_type=MESSAGE_TAG, tag=HUMAN_AGENT)

    if state == "open":
        return SendDecision(True, messaging_type=RESPONSE)
    if state == "human_agent" and sender == "member":
        return refuse("tag_required")
    return refuse("window_closed")


def decide_sender_action(*, last_inbound_at: int | float | None, now_ms: int) -> SendDecision:
    """Typing and seen markers go out only inside the 24-hour window; they carry no tag."""
    if is_within_messaging_window(last_inbound_at, now_ms):
        return SendDecision(True)
    return SendDecision(False, reason="window_closed")
