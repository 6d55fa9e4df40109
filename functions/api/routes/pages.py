"""A page's settings (owner, admin): routing and the bot's hand-over."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions.page_settings import PageSettingsChanges, check_update_page_settings
from inbox.queries import pages
from inbox.queries.schemas import PageOut
from pydantic import Field, StrictBool

from routes.common import BEARER, BODY, PROTECTED, RequestBody, answers, current_member

router = Router()
_NOT_NULL = ("auto_assign", "handover_words", "faq_auto_reply")


class PageSettingsRequest(RequestBody):
    auto_assign: StrictBool | None = Field(default=None, description="Assign new conversations "
                                           "automatically; off leaves them for pick-up.")
    unanswered_timeout_seconds: int | None = Field(
        default=None, ge=60, le=7 * 24 * 3600,
        description="Hand an unanswered conversation to the next member after this long; "
                    "null: never.")
    handover_words: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        default=None, max_length=50,
        description="Words in a contact's message that make the bot hand over to a person.")
    faq_auto_reply: StrictBool | None = None


@router.patch("/api/pages/<page_id>", summary="Change a page's settings (owner, admin)",
              tags=["pages"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def update_page_settings(page_id: Annotated[str, Path(min_length=1, max_length=64)],
                         body: Annotated[PageSettingsRequest, Body()]) -> PageOut:
    # Only the fields sent change; a null is "off" for the timeout and "unchanged" elsewhere.
    given = {name: value for name, value in body.model_dump(exclude_unset=True).items()
             if value is not None or name not in _NOT_NULL}
    if "handover_words" in given:
        given["handover_words"] = tuple(given["handover_words"])
    page = check_update_page_settings(current_member(), page_id,
                                      PageSettingsChanges(**given))
    return pages.page_out(page)
