"""A connected page's settings: automatic assignment, unanswered hand-back, hand-over words and
the FAQ auto-reply. Owners and admins change them (DESIGN "Who sees what").
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.expressions.update import Action

from inbox import access
from inbox.actions import routing
from inbox.models import PAGES_PK, Member, Page

logger = Logger(child=True)

_UNSET: Any = object()


@dataclass(frozen=True)
class PageSettingsChanges:
    """Only the fields given change; `unanswered_timeout_seconds=None` turns the hand-back off."""

    auto_assign: bool | None = _UNSET
    unanswered_timeout_seconds: int | None = _UNSET
    handover_words: tuple[str, ...] | None = _UNSET
    faq_auto_reply: bool | None = _UNSET

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not _UNSET}


def check_update_page_settings(actor: Member, page_id: str,
                               changes: PageSettingsChanges) -> Page:
    """Change some of a page's settings.

    Raises:
        Forbidden: the actor is not an owner or an admin.
        NotFound: the page is not connected.
    """
    access.check_can_manage_pages(actor)
    page = access.access_page(actor, page_id)
    return do_update_page_settings(actor, page, changes)


def do_update_page_settings(actor: Member, page: Page, changes: PageSettingsChanges) -> Page:
    given = changes.given()
    actions: list[Action] = []
    for name, value in given.items():
        attribute = getattr(Page, name)
        if name == "handover_words":
            # One spelling per word: matching is case-insensitive.
            value = sorted({w.strip().casefold() for w in value or () if w.strip()})
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if not actions:
        return page
    page.update(actions=actions)

    # Automatic assignment back on: the conversations that waited get members now.
    if given.get("auto_assign"):
        routing.do_drain_queues([page.page_id])
    logger.info("page settings updated", extra={"page_id": page.page_id,
                                                "by_member_id": actor.member_id,
                                                "fields": sorted(given)})
    return Page.get(PAGES_PK, page.page_id)
