"""What members write about a contact: email, phone, notes and tags (the contact panel).

Whoever may see the contact may edit it (agents included: they are the ones talking to the
person), through `access.access_contact`. Name and picture stay Facebook's.

The list filters read two things kept in step here, in one transaction with the contact:
- a `ContactTag` item `tag_key(tag)` / contact id per tag (the tag filter);
- `gsi3pk`/`gsi3sk` on the contact, `phone_key(phone)` / contact id (the phone filter).
The contact's update is conditioned on the tags it was read with, so two members changing tags
at once cannot leave a tag item behind: the later one reads again and applies its change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from inbox import access, event_names
from inbox.errors import Conflict, InvalidInput
from inbox.models import (
    CONTACT_SK,
    Contact,
    ContactTag,
    Member,
    contact_pk,
    phone_key,
    tag_key,
)
from inbox.publish import EventOutbox

logger = Logger(child=True)

_UNSET: Any = object()
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
_ATTEMPTS = 3


@dataclass(frozen=True)
class ContactChanges:
    """Only the fields given change; None (or an empty string) clears email, phone or notes."""

    email: str | None = _UNSET
    phone: str | None = _UNSET
    notes: str | None = _UNSET
    tags: tuple[str, ...] = _UNSET

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not _UNSET}


def normalize_tags(tags: tuple[str, ...]) -> list[str]:
    """One spelling per tag (trimmed, case kept, duplicates ignored case-insensitively)."""
    kept: dict[str, str] = {}
    for tag in tags:
        clean = " ".join(tag.split())
        if clean:
            kept.setdefault(clean.casefold(), clean)
    if len(kept) > MAX_TAGS:
        raise InvalidInput("too many tags", limit=MAX_TAGS)
    if any(len(tag) > MAX_TAG_LENGTH for tag in kept.values()):
        raise InvalidInput("a tag is too long", limit=MAX_TAG_LENGTH)
    return sorted(kept.values())


def check_update_contact(actor: Member, contact_id: str, changes: ContactChanges) -> Contact:
    """Change a contact's email, phone, notes or tags.

    Raises:
        NotFound: no such contact, or the actor may not see it.
        InvalidInput: a phone with no digit, too many or too long tags.
        Conflict: others kept changing its tags while this was tried.
    """
    contact = access.access_contact(actor, contact_id)
    return do_update_contact(actor, contact, changes)


def do_update_contact(actor: Member, contact: Contact, changes: ContactChanges) -> Contact:
    given = changes.given()
    tags = normalize_tags(given["tags"]) if "tags" in given else None
    phone = _clean(given.get("phone"))
    if phone is not None and phone_key(phone) is None:
        raise InvalidInput("a phone number needs digits")
    if not given:
        return contact

    outbox = EventOutbox()
    for attempt in range(_ATTEMPTS):
        if _try_write(contact, given, tags, phone):
            break
        if attempt == _ATTEMPTS - 1:
            raise Conflict("the contact's tags kept changing; try again",
                           contact_id=contact.contact_id)
        contact = Contact.get(contact_pk(contact.contact_id), CONTACT_SK, consistent_read=True)

    # Field names only: the frame goes to every member who sees the contact, who refetch it.
    outbox.add(event_names.CONTACT_UPDATED, contact_id=contact.contact_id,
               page_id=contact.page_id, fields=sorted(given))
    outbox.flush()
    logger.info("contact updated", extra={"contact_id": contact.contact_id,
                                          "by_member_id": actor.member_id,
                                          "fields": sorted(given)})
    return Contact.get(contact_pk(contact.contact_id), CONTACT_SK, consistent_read=True)


def _try_write(contact: Contact, given: dict[str, Any], tags: list[str] | None,
               phone: str | None) -> bool:
    """One transaction; False when the contact's tags changed since it was read."""
    actions: list[Action] = []
    for name in ("email", "notes"):
        if name in given:
            value = _clean(given[name])
            attribute = getattr(Contact, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
    if "phone" in given:
        if phone is None:
            actions += [Contact.phone.remove(), Contact.gsi3pk.remove(), Contact.gsi3sk.remove()]
        else:
            actions += [Contact.phone.set(phone), Contact.gsi3pk.set(phone_key(phone)),
                        Contact.gsi3sk.set(contact.contact_id)]

    before = set(contact.tags or ())
    added: set[str] = set()
    removed: set[str] = set()
    condition: Condition = Contact.pk.exists()
    if tags is not None:
        after = set(tags)
        added, removed = after - before, before - after
        actions.append(Contact.tags.set(after) if after else Contact.tags.remove())
        condition &= (Contact.tags == before) if before else Contact.tags.does_not_exist()

    connection = Contact._get_connection().connection
    try:
        with TransactWrite(connection=connection) as tx:
            tx.update(contact, actions=actions, condition=condition)
            for tag in sorted(added):
                tx.save(ContactTag(tag_key(tag), contact.contact_id, tag=tag,
                                   contact_id=contact.contact_id))
            # A tag respelled ("vip" to "VIP") keeps its folded item, saved above: one
            # transaction may not touch an item twice.
            saved = {tag_key(tag) for tag in added}
            doomed = {key for tag in removed for key in tag_item_keys(tag)} - saved
            for key in sorted(doomed):
                tx.delete(ContactTag(key, contact.contact_id))
    except TransactWriteError as exc:
        if exc.cause_response_code != "TransactionCanceledException":
            raise
        return False
    return True


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def tag_item_keys(tag: str) -> list[str]:
    """The partitions a contact's tag item may be in: folded, or as spelled when written
    before keys were folded (deleting a missing item is harmless)."""
    return sorted({tag_key(tag), f"TAG#{tag}"})
