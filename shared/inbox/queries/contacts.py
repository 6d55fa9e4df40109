"""One contact, as a member may see it (contacts follow their conversations)."""

from __future__ import annotations

from inbox import access
from inbox.models import Contact, Member
from inbox.queries.schemas import ContactOut, iso_from_datetime


def contact_detail(member: Member, contact_id: str) -> ContactOut:
    return contact_out(access.access_contact(member, contact_id))


def contact_out(c: Contact) -> ContactOut:
    return ContactOut(
        id=c.contact_id,
        page_id=c.page_id,
        kind=c.kind,
        facebook_user_id=c.facebook_user_id,
        name=c.name,
        name_source=c.name_source,
        picture_url=c.picture_url,
        email=c.email,
        phone=c.phone,
        notes=c.notes,
        tags=sorted(c.tags or ()),
        conversation_ids=sorted(c.conversation_ids or ()),
        created_at=iso_from_datetime(c.created_at),
    )
