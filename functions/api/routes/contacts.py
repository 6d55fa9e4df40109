"""Editing a contact from the inbox's contact panel: email, phone, notes and tags."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions.contacts import MAX_TAG_LENGTH, MAX_TAGS, ContactChanges, check_update_contact
from inbox.queries.contacts import contact_out
from inbox.queries.schemas import ContactOut
from pydantic import Field

from routes.common import BEARER, BODY, PROTECTED, RequestBody, answers, current_member

router = Router()


class ContactChangesRequest(RequestBody):
    email: str | None = Field(default=None, max_length=320,
                              pattern=r"^\s*$|^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
                              description="Empty or null clears it.")
    phone: str | None = Field(default=None, max_length=40,
                              description="Kept as written; the phone filter matches its "
                                          "digits. Empty or null clears it.")
    notes: str | None = Field(default=None, max_length=4000,
                              description="Empty or null clears them.")
    tags: list[Annotated[str, Field(max_length=MAX_TAG_LENGTH)]] | None = Field(
        default=None, max_length=MAX_TAGS,
        description="The whole set of tags; duplicates are dropped, case-insensitively.")


@router.patch("/api/contacts/<contact_id>", summary="Change a contact's email, phone, notes or "
              "tags (whoever may see it)", tags=["contacts"], security=BEARER,
              responses=answers(*PROTECTED, *BODY))
def update_contact(contact_id: Annotated[str, Path(min_length=1, max_length=128)],
                   body: Annotated[ContactChangesRequest, Body()]) -> ContactOut:
    # Only the fields sent change; null tags means "unchanged", an empty list clears them.
    given = body.model_dump(exclude_unset=True)
    if given.get("tags", ()) is None:
        del given["tags"]
    if "tags" in given:
        given["tags"] = tuple(given["tags"])
    contact = check_update_contact(current_member(), contact_id, ContactChanges(**given))
    return contact_out(contact)
