"""A contact's personal data: erase it (owner, admin) or export it as a file (supervisor up)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from inbox.actions import privacy
from inbox.publish import EventOutbox
from pydantic import BaseModel

from routes.common import BEARER, PROTECTED, answers, current_member

router = Router()
_ID = Path(max_length=128)


class ErasedOut(BaseModel):
    contact_id: str
    conversations_erased: int
    items_erased: int
    media_objects_erased: int


@router.post("/api/contacts/<contact_id>/erase",
             summary="Erase a contact and everything held about it (owner, admin)",
             tags=["contacts"], security=BEARER, responses=answers(*PROTECTED))
def erase_contact(contact_id: Annotated[str, _ID]) -> ErasedOut:
    outbox = EventOutbox()
    erased = privacy.check_erase_contact(current_member(), contact_id, outbox=outbox)
    outbox.flush()
    return ErasedOut(contact_id=contact_id, conversations_erased=erased.conversations,
                     items_erased=erased.items, media_objects_erased=erased.media_objects)


@router.get("/api/contacts/<contact_id>/export",
            summary="Everything held about a contact, as a JSON file (owner, admin, supervisor)",
            tags=["contacts"], security=BEARER, responses=answers(*PROTECTED))
def export_contact(contact_id: Annotated[str, _ID]) -> Response[Any]:
    document = privacy.check_export_contact(current_member(), contact_id)
    safe_name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in contact_id)
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON,
        body=json.dumps(document, ensure_ascii=False, default=str),
        headers={"Content-Disposition": f'attachment; filename="contact-{safe_name}.json"'},
    )
