"""Who sees what (DESIGN "Who sees what"): the only road from a member to an object.

Every route, list and filter reaches a conversation, a contact, a page, a member, an API key
or a conversation's timeline through the `access_*` functions here. An object a member may not
see is reported as missing (`NotFound`), never as forbidden, so that its existence stays
hidden. What a role may do (manage the team, review) is a `check_can_*` here too.

An API key acts as a member of its role (`auth.api_key_principal`): the same rules hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.errors import Forbidden, NotFound
from inbox.models import (
    API_KEYS_PK,
    BRAND_PK,
    CONTACT_SK,
    CONVERSATION_SK,
    DISCONNECTED_PAGES_PK,
    MEMBERS_PK,
    PAGES_PK,
    SETTINGS_SK,
    ApiKey,
    BrandSettings,
    Contact,
    Conversation,
    DisconnectedPage,
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
_TEAM_MANAGERS = frozenset({OWNER, ADMIN})
_REVIEWERS = frozenset({OWNER, ADMIN, SUPERVISOR})

# The member id an API key acts under: never a Cognito `sub` (a UUID), so never a member's.
API_KEY_PRINCIPAL_PREFIX = "apikey:"


def brand_settings() -> BrandSettings:
    """The brand's settings item, or the defaults when none was ever saved."""
    try:
        return BrandSettings.get(BRAND_PK, SETTINGS_SK)
    except BrandSettings.DoesNotExist:
        return BrandSettings(BRAND_PK, SETTINGS_SK, isolation=True)


def is_isolation_on() -> bool:
    # Read on each request rather than cached: a brand that turns isolation on expects every
    # Lambda instance to hide other agents' conversations at once. One small GetItem.
    return bool(brand_settings().isolation)


def is_api_key(member: Member) -> bool:
    return member.member_id.startswith(API_KEY_PRINCIPAL_PREFIX)


def can_manage_team(member: Member) -> bool:
    return member.role in _TEAM_MANAGERS


def check_can_manage_team(member: Member) -> None:
    if not can_manage_team(member):
        raise Forbidden("only an owner or an admin may manage the team", role=member.role)


def check_can_review(member: Member) -> None:
    """Archive, analytics and quality review: supervisors and up."""
    if member.role not in _REVIEWERS:
        raise Forbidden("only a supervisor, an admin or an owner may review", role=member.role)


def check_is_person(member: Member) -> None:
    """Holding conversations and having a status are for people, not for API keys."""
    if is_api_key(member):
        raise Forbidden("an API key cannot do this; a member must", role=member.role)


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


def disconnected_page_ids() -> list[str]:
    """Ids of pages disconnected from the inbox, whose conversations stay: one query."""
    return [page.sk for page in
            DisconnectedPage.query(DISCONNECTED_PAGES_PK, attributes_to_get=["pk", "sk"])]


def visible_page_ids(member: Member) -> list[str]:
    """The pages whose conversations the member may see, in a stable order.

    Disconnected pages count: their conversations stay readable (`access_conversation` never
    asked whether the page is connected), so the list shows them too, to the same members.
    """
    page_ids = set(connected_page_ids()) | set(disconnected_page_ids())
    return sorted(pid for pid in page_ids if is_page_allowed(member, pid))


@dataclass(frozen=True)
class ConversationScope:
    """What a member may see of the conversation lists, as the list query needs it.

    `own_only_statuses`: in these statuses only the member's own conversations are visible.
    """

    member_id: str
    page_ids: tuple[str, ...]
    own_only_statuses: frozenset[str]
    isolation: bool


def conversation_scope(member: Member) -> ConversationScope:
    own_only: frozenset[str] = frozenset()
    isolation = member.role == AGENT and is_isolation_on()
    if isolation:
        own_only = frozenset(STATUSES) - QUEUE_STATUSES
    return ConversationScope(member.member_id, tuple(visible_page_ids(member)), own_only,
                             isolation)


def can_see_conversation(member: Member, conversation: Conversation, *,
                         isolation: bool | None = None) -> bool:
    """`isolation`: the brand's switch when the caller read it already (a list reads it once)."""
    if not member.active or not is_page_allowed(member, conversation.page_id):
        return False
    if member.role != AGENT or conversation.status in QUEUE_STATUSES:
        return True
    if conversation.assignee_id == member.member_id:
        return True
    return not (is_isolation_on() if isolation is None else isolation)


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
    isolation = is_isolation_on()
    return any(can_see_conversation(member, c, isolation=isolation)
               for c in Conversation.batch_get(keys))


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


def access_member(member: Member, member_id: str) -> Member:
    """A member of the team (active or not), or the caller's own item for `me`.

    Every member may see the team: transfers name a member, and the inbox shows assignees.
    Only owners and admins change it (`check_can_manage_team`).

    Raises:
        Forbidden: `me` asked with an API key, which is no member (as its other `me` routes).
        NotFound: no such member.
    """
    if member_id == "me":
        check_is_person(member)
        member_id = member.member_id
    try:
        return Member.get(MEMBERS_PK, member_id)
    except Member.DoesNotExist as exc:
        raise NotFound("no such member", member_id=member_id) from exc


def access_api_key(member: Member, key_id: str) -> ApiKey:
    """An API key of the brand, for an owner or an admin.

    Raises:
        Forbidden: the member may not manage the team (keys are part of it).
        NotFound: no such key.
    """
    check_can_manage_team(member)
    try:
        return ApiKey.get(API_KEYS_PK, key_id)
    except ApiKey.DoesNotExist as exc:
        raise NotFound("no such API key", key_id=key_id) from exc


def access_timeline(member: Member, conversation_id: str) -> Conversation:
    """The conversation whose timeline is asked for: its timeline is seen with it.

    Raises:
        NotFound: as `access_conversation`.
    """
    return access_conversation(member, conversation_id)
