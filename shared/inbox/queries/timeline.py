"""A conversation's timeline: assignments, transfers, closes, reopens and hand-overs, in order.

Seen with its conversation: whoever may see the conversation may see its history.
"""

from __future__ import annotations

from typing import Any

from inbox import access
from inbox.actions import routing
from inbox.models import Member
from inbox.queries.schemas import TimelineEntryOut, TimelineList, iso_from_ms


def conversation_timeline(member: Member, conversation_id: str) -> TimelineList:
    access.access_timeline(member, conversation_id)
    entries = routing.list_timeline(conversation_id)
    return TimelineList(items=[timeline_entry_out(conversation_id, e) for e in entries])


def timeline_entry_out(conversation_id: str, e: dict[str, Any]) -> TimelineEntryOut:
    return TimelineEntryOut(
        id=e["id"],
        conversation_id=conversation_id,
        kind=e["kind"],
        actor=e["actor"],
        from_member_id=e.get("from"),
        to_member_id=e.get("to"),
        note=e.get("note"),
        tags=list(e.get("tags") or ()),
        forced=bool(e.get("forced")),
        at=iso_from_ms(e["at"]) or "",
    )
