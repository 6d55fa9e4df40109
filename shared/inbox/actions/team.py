"""The team: inviting and adding members, editing and deactivating them, their own status, and
the brand's settings (the isolation switch).

Rules (DESIGN "Who sees what", issue 3): only owners and admins manage the team; an admin
never makes, edits or deactivates an owner; the last active owner can be neither demoted nor
deactivated. A member is keyed by their Cognito `sub`, which is what a token names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from inbox import access, aws
from inbox import settings as settings_module
from inbox.access import ADMIN, AGENT, OWNER, ROLES, SUPERVISOR
from inbox.actions import routing
from inbox.errors import Conflict, Forbidden, InvalidInput, NotFound
from inbox.models import BRAND_PK, MEMBERS_PK, SETTINGS_SK, BrandSettings, Member, utcnow

logger = Logger(child=True)

# What an admin may hand out: every role but owner.
_ADMIN_GRANTS = frozenset({ADMIN, SUPERVISOR, AGENT})


class LastOwner(Conflict):
    """The change would leave the brand without an active owner."""

    code = "last_owner"


class MemberExists(Conflict):
    code = "member_exists"


class UserExists(Conflict):
    """An invitation for an email the user pool knows already: add them as an existing user."""

    code = "user_exists"


class UnknownUser(NotFound):
    """No user of the pool has this email: invite them instead."""

    code = "unknown_user"


@dataclass(frozen=True)
class NewMember:
    email: str
    role: str
    name: str | None = None
    # None or empty: every page.
    page_ids: tuple[str, ...] | None = None
    reception_limit: int | None = None


@dataclass(frozen=True)
class MemberChanges:
    """Fields to change; None leaves one as it is. `page_ids=()` means every page."""

    role: str | None = None
    name: str | None = None
    page_ids: tuple[str, ...] | None = None
    reception_limit: int | None = None


# Checks ----------------------------------------------------------------------------------

def check_role_grant(actor: Member, role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("unknown role", field="role", allowed=list(ROLES))
    if actor.role != OWNER and role not in _ADMIN_GRANTS:
        raise Forbidden("only an owner may make an owner", role=actor.role)


def check_page_ids(page_ids: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if not page_ids:
        return None
    unknown = sorted(set(page_ids) - set(access.connected_page_ids()))
    if unknown:
        raise InvalidInput("unknown pages", field="page_ids", values=unknown)
    return tuple(sorted(set(page_ids)))


def check_may_change(actor: Member, target: Member) -> None:
    access.check_can_manage_team(actor)
    if target.role == OWNER and actor.role != OWNER:
        raise Forbidden("only an owner may change an owner", role=actor.role,
                        member_id=target.member_id)


def _normal_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email.strip("@"):
        raise InvalidInput("not an email address", field="email")
    return email


# Adding members ----------------------------------------------------------------------------

def check_invite_member(actor: Member, new: NewMember) -> Member:
    """Invite a new person: Cognito emails them a temporary password to change at first sign-in.

    Raises:
        Forbidden: the actor may not manage the team, or grant that role.
        InvalidInput: a malformed email, an unknown role or page.
        UserExists: the pool knows the email already (add them as an existing user).
    """
    access.check_can_manage_team(actor)
    check_role_grant(actor, new.role)
    email = _normal_email(new.email)
    page_ids = check_page_ids(new.page_ids)
    return do_invite_member(actor, new, email=email, page_ids=page_ids)


def do_invite_member(actor: Member, new: NewMember, *, email: str,
                     page_ids: tuple[str, ...] | None) -> Member:
    cognito = aws.client("cognito-idp")
    temporary = settings_module.settings.invite_temporary_password
    try:
        user = cognito.admin_create_user(
            UserPoolId=settings_module.settings.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email},
                            {"Name": "email_verified", "Value": "true"}],
            DesiredDeliveryMediums=["EMAIL"],
            **({"TemporaryPassword": temporary} if temporary else {}),
        )["User"]
    except cognito.exceptions.UsernameExistsException as exc:
        raise UserExists("this email already has an account: add it as an existing user",
                         field="email") from exc

    member = _save_new_member(_sub(user["Attributes"]), new, email=email, page_ids=page_ids)
    logger.info("member invited", extra={"member_id": member.member_id,
                                         "by_member_id": actor.member_id})
    return member


def check_add_existing_user(actor: Member, new: NewMember) -> Member:
    """Make an existing user of the pool a member (or an inactive member active again).

    Raises:
        Forbidden: the actor may not manage the team, or grant that role.
        UnknownUser: no user of the pool has this email.
        MemberExists: the user is an active member already.
    """
    access.check_can_manage_team(actor)
    check_role_grant(actor, new.role)
    email = _normal_email(new.email)
    page_ids = check_page_ids(new.page_ids)

    cognito = aws.client("cognito-idp")
    pool_id = settings_module.settings.user_pool_id
    try:
        user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    except cognito.exceptions.UserNotFoundException as exc:
        raise UnknownUser("no user has this email: invite them", field="email") from exc
    member_id = _sub(user["UserAttributes"])

    existing = _member_or_none(member_id)
    if existing is not None and existing.active:
        raise MemberExists("already a member", member_id=member_id)
    if existing is not None and existing.role == OWNER and actor.role != OWNER:
        raise Forbidden("only an owner may change an owner", role=actor.role,
                        member_id=member_id)
    return do_add_existing_user(actor, new, member_id=member_id, email=email,
                                page_ids=page_ids, existing=existing)


def do_add_existing_user(actor: Member, new: NewMember, *, member_id: str, email: str,
                         page_ids: tuple[str, ...] | None, existing: Member | None) -> Member:
    if existing is None:
        member = _save_new_member(member_id, new, email=email, page_ids=page_ids)
    else:
        member = existing
        actions: list[Action] = [
            Member.active.set(True),
            Member.role.set(new.role),
            _page_ids_action(page_ids),
        ]
        if new.reception_limit is not None:
            actions.append(Member.reception_limit.set(new.reception_limit))
        member.update(actions=actions)
    # Deactivation disabled the user's sign-in; membership gives it back.
    aws.client("cognito-idp").admin_enable_user(
        UserPoolId=settings_module.settings.user_pool_id, Username=email)
    logger.info("member added from existing user",
                extra={"member_id": member_id, "by_member_id": actor.member_id})
    return member


def _save_new_member(member_id: str, new: NewMember, *, email: str,
                     page_ids: tuple[str, ...] | None) -> Member:
    fields: dict[str, Any] = {}
    if new.reception_limit is not None:
        fields["reception_limit"] = new.reception_limit
    member = Member(MEMBERS_PK, member_id, member_id=member_id, email=email,
                    name=(new.name or "").strip() or email.split("@")[0], role=new.role,
                    page_ids=set(page_ids) if page_ids else None, active=True,
                    created_at=utcnow(), **fields)
    try:
        # One member per Cognito user, however many admins add them at once.
        member.save(condition=Member.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise MemberExists("already a member", member_id=member_id) from exc
        raise
    return member


# Editing and deactivating -------------------------------------------------------------------

def check_update_member(actor: Member, member_id: str, changes: MemberChanges) -> Member:
    """Change a member's role, name, pages or reception limit.

    Raises:
        Forbidden: the actor may not manage the team, change an owner or grant that role.
        NotFound: no such member.
        InvalidInput: an unknown role or page.
        LastOwner: it would demote the last active owner.
    """
    target = access.access_member(actor, member_id)
    check_may_change(actor, target)
    if changes.role is not None:
        check_role_grant(actor, changes.role)
    page_ids = check_page_ids(changes.page_ids) if changes.page_ids is not None else None
    return do_update_member(actor, target, changes, page_ids=page_ids)


def do_update_member(actor: Member, target: Member, changes: MemberChanges, *,
                     page_ids: tuple[str, ...] | None) -> Member:
    actions: list[Action] = []
    if changes.role is not None:
        actions.append(Member.role.set(changes.role))
    if changes.name is not None and changes.name.strip():
        actions.append(Member.name.set(changes.name.strip()))
    if changes.page_ids is not None:
        actions.append(_page_ids_action(page_ids))

    demotes_owner = target.role == OWNER and changes.role not in (None, OWNER)
    if actions and demotes_owner and target.active:
        _write_keeping_an_owner(target, actions)
    elif actions:
        target.update(actions=actions)

    # Routing owns the limit: a raised one drains the queues at once.
    if changes.reception_limit is not None:
        routing.do_set_reception_limit(target.member_id, changes.reception_limit)
    # More pages: their queues may now have a member for them.
    if target.active and changes.page_ids is not None:
        routing.do_drain_queues(list(page_ids) if page_ids else None)
    logger.info("member updated", extra={"member_id": target.member_id,
                                         "by_member_id": actor.member_id})
    return Member.get(MEMBERS_PK, target.member_id)


def check_deactivate_member(actor: Member, member_id: str) -> Member:
    """Deactivate a member: their tokens are refused and their open conversations requeued.

    Raises:
        Forbidden: the actor may not manage the team or change an owner.
        NotFound: no such member.
        LastOwner: it is the last active owner.
    """
    target = access.access_member(actor, member_id)
    check_may_change(actor, target)
    if not target.active:
        return target
    return do_deactivate_member(actor, target)


def do_deactivate_member(actor: Member, target: Member) -> Member:
    if target.role == OWNER:
        # Written here first, guarded, so two owners deactivating each other at once cannot
        # both succeed; routing then finds the member inactive and requeues their work.
        _write_keeping_an_owner(target, [Member.active.set(False)])
    routing.do_deactivate_member(target.member_id)

    _disable_sign_in(target)
    logger.info("member deactivated", extra={"member_id": target.member_id,
                                             "by_member_id": actor.member_id})
    return Member.get(MEMBERS_PK, target.member_id)


def _disable_sign_in(target: Member) -> None:
    # Sign-in refused too, not only the API: a deactivated member gets no new tokens.
    cognito = aws.client("cognito-idp")
    try:
        cognito.admin_disable_user(UserPoolId=settings_module.settings.user_pool_id,
                                   Username=target.email)
    except cognito.exceptions.UserNotFoundException:
        # The user was deleted from the pool by hand: nobody can sign in as them anyway,
        # and the member item alone already refuses their old tokens.
        logger.warning("deactivated member has no user in the pool",
                       extra={"member_id": target.member_id})


def _write_keeping_an_owner(target: Member, actions: list[Action]) -> None:
    """Apply `actions` to an owner only while another owner stays active, atomically.

    The transaction re-checks that other owner, so two owners demoting (or deactivating)
    each other at the same moment cannot leave the brand with none.
    """
    other = next((m for m in list_team() if m.role == OWNER and m.active
                  and m.member_id != target.member_id), None)
    if other is None:
        raise LastOwner("the brand needs at least one active owner", member_id=target.member_id)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.condition_check(Member, MEMBERS_PK, other.member_id,
                               condition=(Member.role == OWNER) & (Member.active == True))  # noqa: E712
            tx.update(target, actions=actions)
    except TransactWriteError as exc:
        raise LastOwner("the brand needs at least one active owner",
                        member_id=target.member_id) from exc


def list_team() -> list[Member]:
    # Partition `MEMBERS`: a brand's team is small enough for one query.
    return list(Member.query(MEMBERS_PK))


# Status and settings -----------------------------------------------------------------------

def check_set_own_status(actor: Member, status: str) -> Member:
    """A member sets their own status; going online may take conversations from the queue.

    Raises:
        Forbidden: an API key (it has no status).
        InvalidInput: not online, away or offline.
    """
    access.check_is_person(actor)
    routing.do_set_member_status(actor.member_id, status)
    return Member.get(MEMBERS_PK, actor.member_id)


LANGUAGES = ("en", "zh-CN")


def check_set_own_language(actor: Member, language: str) -> Member:
    """A member picks the inbox's language for themselves, kept across browsers.

    Raises:
        Forbidden: an API key (it has no interface).
        InvalidInput: not a language the inbox speaks.
    """
    access.check_is_person(actor)
    if language not in LANGUAGES:
        raise InvalidInput("the inbox does not speak that language", language=language)
    actor.update(actions=[Member.language.set(language)])
    logger.info("member language set", extra={"member_id": actor.member_id,
                                               "language": language})
    return Member.get(MEMBERS_PK, actor.member_id)


def check_update_brand_settings(actor: Member, *, isolation: bool) -> BrandSettings:
    """Turn the brand's isolation (agents see only their own conversations) on or off.

    Raises:
        Forbidden: the actor may not manage the team.
    """
    access.check_can_manage_team(actor)
    # The whole item is written: the retention setting is carried over.
    settings = BrandSettings(BRAND_PK, SETTINGS_SK, isolation=isolation, updated_at=utcnow(),
                             updated_by=actor.member_id,
                             retention_days=access.brand_settings().retention_days)
    settings.save()
    logger.info("brand settings updated", extra={"by_member_id": actor.member_id,
                                                 "isolation": isolation})
    return settings


# Helpers -------------------------------------------------------------------------------------

def _page_ids_action(page_ids: tuple[str, ...] | None) -> Action:
    # An empty set cannot be stored in DynamoDB: "every page" is the attribute removed.
    return Member.page_ids.set(set(page_ids)) if page_ids else Member.page_ids.remove()


def _member_or_none(member_id: str) -> Member | None:
    try:
        return Member.get(MEMBERS_PK, member_id)
    except Member.DoesNotExist:
        return None


def _sub(attributes: list[dict[str, str]]) -> str:
    return next(a["Value"] for a in attributes if a["Name"] == "sub")


def _connection() -> Connection:
    meta = Member.Meta
    return Connection(region=meta.region, host=meta.host)
