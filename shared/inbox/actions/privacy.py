"""People's data: erase everything held about a contact, export it, and Facebook's requests.

What a contact leaves in the inbox: the contact item and its tag entries; each of its
conversations with every item under the conversation's key (messages, reactions and edits,
routing history); the aliases of its comments; and the copies of its media in the bucket,
old versions included. Erasing removes all of it. Domain events already sent to the brand's
bus are not recalled (the bus keeps nothing; what a brand's own automation stored is theirs to
erase), and daily figures hold counts only, no identities.

Facebook's data-deletion callback names the person by their app-scoped user id, the id their
comments carry. Their Messenger contacts are stored by page-scoped ids (PSIDs), one per page,
which the ID Matching API (`ids_for_pages`, with the app's token) names for the pages in the
app's business. A callback erases both; when Facebook will not match the ids (the pages are
in no business with the app), it erases the comments' contacts and its status says so, and a
member erases the Messenger contact from the inbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from inbox import access, event_names, storage
from inbox import secrets as secrets_module
from inbox import settings as settings_module
from inbox.actions.contacts import tag_item_keys
from inbox.actions.graph_calls import graph_client
from inbox.actions.inbound import messenger_thread
from inbox.errors import GraphError, InvalidSignature, NotFound
from inbox.models import (
    CONTACT_SK,
    CONVERSATION_SK,
    MEMBERS_PK,
    CommentAlias,
    Contact,
    ContactTag,
    Conversation,
    DeletionRequest,
    Member,
    Message,
    comment_pk,
    contact_pk,
    conversation_pk,
    deletion_request_pk,
)
from inbox.publish import EventOutbox
from inbox.queries.schemas import iso_from_datetime, iso_from_ms

logger = Logger(child=True)


@dataclass
class Erased:
    contacts: int = 0
    conversations: int = 0
    items: int = 0
    media_objects: int = 0


# --- erase -----------------------------------------------------------------------------------


def check_erase_contact(member: Member, contact_id: str, *, outbox: EventOutbox) -> Erased:
    """A member erases a contact (owner, admin): everything, at once, for good.

    Raises:
        NotFound: no such contact, or one the member may not see.
        Forbidden: the member is not an owner or an admin.
    """
    contact = access.access_contact(member, contact_id)
    access.check_can_manage_team(member)
    erased = do_erase_contact(contact, outbox=outbox)
    logger.info("contact erased", extra={"contact_id": contact_id,
                                         "by_member_id": member.member_id,
                                         "conversations": erased.conversations})
    return erased


def do_erase_contact(contact: Contact, *, outbox: EventOutbox) -> Erased:
    erased = Erased(contacts=1)
    for conversation_id in sorted(contact.conversation_ids or ()):
        erased.items += _erase_conversation(conversation_id)
        erased.media_objects += storage.delete_prefix(storage.inbound_prefix(conversation_id))
        erased.conversations += 1

    doomed: list[Any] = [ContactTag(key, contact.contact_id)
                         for tag in contact.tags or () for key in tag_item_keys(tag)]
    doomed.append(contact)
    _delete_all(doomed)
    erased.items += len(doomed)
    outbox.add(event_names.CONTACT_ERASED, contact_id=contact.contact_id,
               page_id=contact.page_id,
               conversation_ids=sorted(contact.conversation_ids or ()))
    return erased


def _erase_conversation(conversation_id: str) -> int:
    """Delete every item under the conversation's key and its comments' aliases."""
    pk = conversation_pk(conversation_id)
    items = list(Conversation.query(pk))
    aliases = [CommentAlias(comment_pk(m.facebook_id), "COMMENT")
               for m in Message.query(pk, Message.sk.startswith("MSG#"))
               if m.type == "comment" and m.facebook_id]
    head = next((i for i in items if i.sk == CONVERSATION_SK), None)
    if head is not None and head.status == "assigned" and head.assignee_id:
        _release_capacity(head.assignee_id)
    _delete_all([*items, *aliases])
    return len(items) + len(aliases)


def _release_capacity(member_id: str) -> None:
    # The erased conversation no longer counts against its assignee's reception limit.
    try:
        Member(MEMBERS_PK, member_id).update(
            actions=[Member.open_count.add(-1)], condition=Member.open_count > 0,
            add_version_condition=False)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _delete_all(items: list[Any]) -> None:
    # One batch per model: a batch writes items of its own model class.
    for model in {type(item) for item in items}:
        with model.batch_write() as batch:
            for item in items:
                if type(item) is model:
                    batch.delete(item)


# --- export ----------------------------------------------------------------------------------


def check_export_contact(member: Member, contact_id: str) -> dict[str, Any]:
    """Everything held about a contact, as one JSON document (owner, admin, supervisor).

    Raises:
        NotFound: no such contact, or one the member may not see.
        Forbidden: the member is an agent.
    """
    contact = access.access_contact(member, contact_id)
    access.check_can_review(member)
    conversations = []
    for conversation_id in sorted(contact.conversation_ids or ()):
        pk = conversation_pk(conversation_id)
        items = list(Conversation.query(pk))
        head = next((i for i in items if i.sk == CONVERSATION_SK), None)
        messages = [m for m in Message.query(pk, Message.sk.startswith("MSG#"))]
        conversations.append({
            "conversation": _plain(head) if head else {"conversation_id": conversation_id},
            "messages": [_plain(m) for m in messages],
            "media": [a.media_key for m in messages for a in m.attachments or ()
                      if a.media_key],
        })
    logger.info("contact exported", extra={"contact_id": contact_id,
                                           "by_member_id": member.member_id})
    return {
        "exported_at": iso_from_ms(time.time() * 1000),
        "contact": _plain(contact),
        "conversations": conversations,
    }


def _plain(item: Any) -> dict[str, Any]:
    # Index keys are storage details, not data about the person.
    data = item.to_simple_dict(force=True)
    plain = {k: v for k, v in data.items() if not k.startswith(("gsi", "pk", "sk"))}
    # Times as the API gives them (ISO 8601, UTC, `Z`), not as stored (ms, or "+0000").
    for name in plain.keys() & set(type(item).get_attributes()):
        value = getattr(item, name)
        if isinstance(value, datetime):
            plain[name] = iso_from_datetime(value)
        elif name == "expires_at" and isinstance(value, int | float):
            plain[name] = iso_from_ms(value * 1000)  # DynamoDB's TTL is in seconds
        elif name.endswith("_at") and isinstance(value, int | float):
            plain[name] = iso_from_ms(value)
    return plain


# --- Facebook's data-deletion callback -------------------------------------------------------


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_signed_request(signed_request: str, app_secret: str) -> dict[str, Any]:
    """The payload of a Facebook signed request, once its HMAC-SHA256 signature holds.

    The format is `<signature>.<payload>`, both base64url without padding; the signature is
    HMAC-SHA256 of the encoded payload with the app secret.

    Raises:
        InvalidSignature: malformed, signed with another secret, or another algorithm.
    """
    try:
        encoded_signature, encoded_payload = signed_request.split(".", 1)
        signature = _b64url(encoded_signature)
        payload = json.loads(_b64url(encoded_payload))
    except (ValueError, TypeError) as exc:
        raise InvalidSignature("the signed request is malformed") from exc
    expected = hmac.new(app_secret.encode(), encoded_payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise InvalidSignature("the signed request's signature does not match")
    if not isinstance(payload, dict) or payload.get("algorithm", "").upper() != "HMAC-SHA256":
        raise InvalidSignature("the signed request uses another algorithm")
    if not isinstance(payload.get("user_id"), str) or not payload["user_id"]:
        raise InvalidSignature("the signed request names no user")
    return payload


def do_facebook_deletion_request(user_id: str, *, outbox: EventOutbox) -> DeletionRequest:
    """Erase the contacts Facebook's user id names, and record the request for its status page.

    The record keeps no identity: a code, counts and times only.
    """
    code = secrets.token_hex(10)
    request = DeletionRequest(deletion_request_pk(code), "DELETION", code=code,
                              status="in_progress", requested_at=int(time.time() * 1000))
    request.save()

    # A scan: deletion requests are rare, and no index should cost every contact write.
    found = {c.contact_id: c for c in Contact.scan(
        (Contact.sk == CONTACT_SK) & (Contact.facebook_user_id == user_id))}
    messenger, matched = _messenger_contacts_of(user_id)
    found.update((c.contact_id, c) for c in messenger)
    erased = Erased()
    for contact in found.values():
        result = do_erase_contact(contact, outbox=outbox)
        erased.contacts += 1
        erased.conversations += result.conversations

    request.update(actions=[DeletionRequest.status.set("done"),
                            DeletionRequest.contacts_erased.set(erased.contacts),
                            DeletionRequest.conversations_erased.set(erased.conversations),
                            DeletionRequest.messenger_ids_matched.set(matched),
                            DeletionRequest.finished_at.set(int(time.time() * 1000))])
    logger.info("deletion request done", extra={"confirmation_code": code,
                                                "contacts": erased.contacts,
                                                "conversations": erased.conversations,
                                                "messenger_ids_matched": matched})
    return request


def _messenger_contacts_of(user_id: str) -> tuple[list[Contact], bool]:
    """The stored Messenger contacts of an app-scoped user, and whether Facebook matched."""
    app_token = f"{settings_module.settings.facebook_app_id}|" \
                f"{secrets_module.app_credentials()['app_secret']}"
    try:
        pairs = graph_client().ids_for_pages(user_id, app_token)
    except GraphError as exc:
        logger.warning("messenger ids not matched",
                       extra={"code": exc.code, "graph_code": exc.fields.get("graph_code")})
        return [], False
    contacts: list[Contact] = []
    for page_id, psid in pairs:
        contact_id = messenger_thread(page_id, psid).contact_id
        try:
            contacts.append(Contact.get(contact_pk(contact_id), CONTACT_SK))
        except Contact.DoesNotExist:
            continue
    return contacts, True


def deletion_status(code: str) -> DeletionRequest:
    """Raises NotFound for a code this inbox never gave."""
    if not code.isalnum() or len(code) > 64:
        raise NotFound("no such deletion request", confirmation_code=code[:64])
    try:
        return DeletionRequest.get(deletion_request_pk(code), "DELETION")
    except DeletionRequest.DoesNotExist:
        raise NotFound("no such deletion request", confirmation_code=code) from None

