"""Personas and factories for the routing tests: a team, pages and conversations.

Conversations arrive through ingestion itself (`arrive`), so the hooks under test are the
ones production runs; `clock` pins time where an assertion depends on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PAGE_A, PAGE_B

__all__ = ["PAGE_A", "PAGE_B"]


@pytest.fixture
def routing_pages(aws: dict[str, str]) -> list[str]:
    """Pages A and B connected, without the Facebook sandbox: routing never calls Graph."""
    from inbox.models import PAGES_PK, Page, utcnow

    for page_id, name in ((PAGE_A, "Sample Shop Page"), (PAGE_B, "Sample Tea House")):
        Page(PAGES_PK, page_id, page_id=page_id, name=name, connected_at=utcnow()).save()
    return [PAGE_A, PAGE_B]


class Clock:
    """Milliseconds that tests move by hand; each reading moves on by one so keys differ."""

    def __init__(self, start: int = 1_767_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    from inbox.actions import routing

    fake = Clock()
    monkeypatch.setattr(routing, "clock", fake)
    monkeypatch.setattr(routing, "REPAIR_SETTLE_SECONDS", 0)
    yield fake


def make_member(member_id: str, *, role: str = "agent", status: str = "online",
                limit: int = 5, page_ids: set[str] | None = None, idle_since: int = 0,
                active: bool = True) -> Any:
    from inbox.models import MEMBERS_PK, Member, utcnow

    member = Member(MEMBERS_PK, member_id, member_id=member_id, email=f"{member_id}@example.com",
                    name=member_id.title(), role=role, page_ids=page_ids or None,
                    active=active, created_at=utcnow(), status=status,
                    reception_limit=limit, idle_since=idle_since)
    member.save()
    return member


def member(member_id: str) -> Any:
    from inbox.models import MEMBERS_PK, Member

    return Member.get(MEMBERS_PK, member_id, consistent_read=True)


def conversation(conversation_id: str) -> Any:
    from inbox.models import CONVERSATION_SK, Conversation, conversation_pk

    return Conversation.get(conversation_pk(conversation_id), CONVERSATION_SK,
                            consistent_read=True)


def arrive(psid: str, *, page_id: str = PAGE_A, text: str | None = "hello",
           at: int = 1_767_000_000_000, mid: str | None = None, outbox: Any = None) -> str:
    """A contact's Messenger message, ingested; returns the conversation id."""
    from inbox.actions.inbound import IngestContext, do_ingest_event, messenger_thread
    from inbox.facebook import events as fb
    from inbox.publish import EventOutbox

    event = fb.InboundMessage(page_id=page_id, psid=psid, timestamp=at,
                              mid=mid or f"m_{psid}_{at}", text=text)
    ctx = IngestContext(app_id="900000000000001", outbox=outbox or EventOutbox())
    do_ingest_event(event, ctx)
    return messenger_thread(page_id, psid).conversation_id


def set_page(page_id: str, **fields: Any) -> None:
    from inbox.actions import inbound
    from inbox.models import PAGES_PK, Page

    page = Page.get(PAGES_PK, page_id)
    page.update(actions=[getattr(Page, name).set(value) for name, value in fields.items()])
    inbound.forget_cached_pages()
