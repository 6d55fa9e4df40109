"""The brand's connected pages, as far as a member is allowed on them."""

from __future__ import annotations

from inbox import access
from inbox.models import PAGES_PK, Member, Page
from inbox.queries.schemas import PageList, PageOut, iso_from_datetime


def list_pages(member: Member) -> PageList:
    # Partition `PAGES`: a brand has a handful of pages, so one query reads them all.
    pages = [p for p in Page.query(PAGES_PK) if access.is_page_allowed(member, p.sk)]
    return PageList(items=[page_out(p) for p in pages], next=None)


def page_out(p: Page) -> PageOut:
    return PageOut(
        id=p.page_id,
        name=p.name,
        picture_url=p.picture_url,
        connected_at=iso_from_datetime(p.connected_at),
        connected_by=p.connected_by,
        faq_auto_reply=bool(p.faq_auto_reply),
        reconnect_needed=bool(p.reconnect_needed),
        subscribed_fields=[str(field) for field in p.subscribed_fields or ()],
        auto_assign=bool(p.auto_assign),
        unanswered_timeout_seconds=(None if p.unanswered_timeout_seconds is None
                                    else int(p.unanswered_timeout_seconds)),
        handover_words=[str(word) for word in p.handover_words or ()],
    )
