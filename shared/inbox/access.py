"""Who sees what (DESIGN "Who sees what"): the only road from a member to an object.

Every route, list and filter reaches a conversation, a contact or a page through the functions
here. An object a member may not see is reported as missing (`NotFound`), never as forbidden,
so that its existence stays hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.errors import Forbidden, NotFound
from inbox.models import (
    CONTACT_SK,
    CONVERSATION_SK,
    PAGES_PK,
    Contact,
    Conversation,
    Member,
    Page,
    contact_pk,
    conversation_pk,
)

OWNER = "owner"
ADMIN = "admin"
SUPERVISOR = "supervisor"
AGENT = "agent"
ROLES = (OWNER, ADMIN, SUPERVISOR, AGENT)

BOT = "bot"
UNASSIGNED = "unassigned"
ASSIGNED = "assigned"
CLOSED = "closed"
STATUSES = (BOT, UNASSIGNED, ASSIGNED, CLOSED)
# Waiting for anyone: every agent allowed on the page sees these.
QUEUE_STATUSES = frozenset({BOT, UNASSIGNED})

_PAGE_MANAGERS = frozenset({OWNER, ADMIN})


def is_isolation_on() -> bool:
    # The brand's isolation switch is stored with the team settings (issue 3); until then it
    # is on, DESIGN's default, so an agent never sees another agent's conversations.
    return True


def can_manage_pages(member: Member) -> bool:
    return member.role in _PAGE_MANAGERS


def check_can_manage_pages(member: Member) -> None:
    if not can_manage_pages(member):
        raise Forbidden("only an owner or an admin may manage pages", role=member.role)


def is_page_allowed(member: Member, page_id: str | None) -> bool:
    if member.role in _PAGE_MANAGERS:
        return True
    # An empty set means every page (models.Member.page_ids).
    return not member.page_ids or page_id in member.page_ids


def connected_page_ids() -> list[str]:
    """Ids of the brand's connected pages: one query on the `PAGES` partition."""
    return [page.sk for page in Page.query(PAGES_PK, attributes_to_get=["pk", "sk"])]


def visible_page_ids(member: Member) -> list[str]:
    """The connected pages whose conversations the member may see, in a stable order."""
    return sorted(pid for pid in connected_page_ids() if is_page_allowed(member, pid))


@dataclass(frozen=True)
class ConversationScope:
    """What a member may see of the conversation lists, as the list query needs it.

    `own_only_statuses`: in these statuses only the member's own conversations are visible.
    """

    member_id: str
    page_ids: tuple[str, ...]
    own_only_statuses: frozenset[str]


def conversation_scope(member: Member) -> ConversationScope:
    own_only: frozenset[str] = frozenset()
    if member.role == AGENT and is_isolation_on():
        own_only = frozenset(STATUSES) - QUEUE_STATUSES
    return ConversationScope(member.member_id, tuple(visible_page_ids(member)), own_only)


def can_see_conversation(member: Member, conversation: Conversation) -> bool:
    if not member.active or not is_page_allowed(member, conversation.page_id):
        return False
    if member.role != AGENT or conversation.status in QUEUE_STATUSES:
        return True
    return not is_isolation_on() or conversation.assignee_id == member.member_id


def access_conversation(member: Member, conversation_id: str) -> Conversation:
    """The conversation, if the member may see it.

    Raises:
        NotFound: it does not exist, or the member may not see it.
    """
    try:
        conversation = Conversation.get(conversation_pk(conversation_id), CONVERSATION_SK)
    except Conversation.DoesNotExist:
        conversation = None
    if conversation is None or not can_see_conversation(member, conversation):
        raise NotFound("no such conversation", conversation_id=conversation_id)
    return conversation


def can_see_contact(member: Member, contact: Contact) -> bool:
    if not is_page_allowed(member, contact.page_id):
        return False
    if member.role != AGENT:
        return True

    # Contacts follow their conversations: an agent sees a contact through one of them.
    keys = [(conversation_pk(cid), CONVERSATION_SK) for cid in contact.conversation_ids or ()]
    return any(can_see_conversation(member, c) for c in Conversation.batch_get(keys))


def access_contact(member: Member, contact_id: str) -> Contact:
    """The contact, if the member may see one of its conversations (agents) or its page.

    Raises:
        NotFound: it does not exist, or the member may not see it.
    """
    try:
        contact = Contact.get(contact_pk(contact_id), CONTACT_SK)
    except Contact.DoesNotExist:
        contact = None
    if contact is None or not can_see_contact(member, contact):
        raise NotFound("no such contact", contact_id=contact_id)
    return contact


def access_page(member: Member, page_id: str) -> Page:
    """A connected page the member is allowed on.

    Raises:
        NotFound: it is not connected, or the member is not allowed on it.
    """
    try:
        page = Page.get(PAGES_PK, page_id)
    except Page.DoesNotExist:
        page = None
    if page is None or not is_page_allowed(member, page_id):
        raise NotFound("no such page", page_id=page_id)
    return page
