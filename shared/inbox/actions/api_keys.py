"""API keys for the brand's own automation (DESIGN "Flows", 6): created with a role, shown once.

A key reads `ik_<key id>_<secret>`. The id finds the item with one GetItem; only a SHA-256 of
the secret is stored, so a copy of the table cannot be used to call the API.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from inbox import access
from inbox.access import ADMIN, AGENT, SUPERVISOR
from inbox.actions.team import check_page_ids
from inbox.auth import API_KEY_PREFIX, hash_api_key_secret
from inbox.errors import Forbidden, InvalidInput
from inbox.models import API_KEYS_PK, ApiKey, Member, utcnow

logger = Logger(child=True)

# Owners are people: a key acts at most as an admin, and only an owner makes admin keys.
KEY_ROLES = (ADMIN, SUPERVISOR, AGENT)
_KEY_ID_BYTES = 8
_SECRET_BYTES = 32


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    # The whole key, shown to its creator this once and never stored.
    presented: str


def check_create_api_key(actor: Member, *, name: str, role: str,
                         page_ids: tuple[str, ...] | None) -> CreatedKey:
    """Create a key acting with `role` on `page_ids` (every page when empty).

    Raises:
        Forbidden: the actor may not manage the team, or an admin asks for an admin key.
        InvalidInput: an unknown role or page, or an empty name.
    """
    access.check_can_manage_team(actor)
    if role not in KEY_ROLES:
        raise InvalidInput("unknown role for an API key", field="role", allowed=list(KEY_ROLES))
    if role == ADMIN and actor.role != access.OWNER:
        raise Forbidden("only an owner may create an admin key", role=actor.role)
    if not name.strip():
        raise InvalidInput("a name is required", field="name")
    return do_create_api_key(actor, name=name.strip(), role=role,
                             page_ids=check_page_ids(page_ids))


def do_create_api_key(actor: Member, *, name: str, role: str,
                      page_ids: tuple[str, ...] | None) -> CreatedKey:
    key_id = secrets.token_hex(_KEY_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    key = ApiKey(API_KEYS_PK, key_id, key_id=key_id, name=name, role=role,
                 page_ids=set(page_ids) if page_ids else None,
                 secret_hash=hash_api_key_secret(secret), created_at=utcnow(),
                 created_by=actor.member_id)
    # A fresh 64-bit id: the condition only guards against the impossible collision.
    key.save(condition=ApiKey.pk.does_not_exist())
    logger.info("API key created", extra={"key_id": key_id, "by_member_id": actor.member_id})
    return CreatedKey(key, f"{API_KEY_PREFIX}{key_id}_{secret}")


def list_api_keys(actor: Member) -> list[ApiKey]:
    access.check_can_manage_team(actor)
    # Partition `APIKEYS`: a brand has a handful of keys.
    return sorted(ApiKey.query(API_KEYS_PK), key=lambda k: k.created_at)


def check_revoke_api_key(actor: Member, key_id: str) -> ApiKey:
    """Revoke a key: it is refused from the next request on. Revoking twice changes nothing.

    Raises:
        Forbidden: the actor may not manage the team.
        NotFound: no such key.
    """
    key = access.access_api_key(actor, key_id)
    if key.revoked_at is not None:
        return key
    key.update(actions=[ApiKey.revoked_at.set(utcnow()),
                        ApiKey.revoked_by.set(actor.member_id)])
    logger.info("API key revoked", extra={"key_id": key_id, "by_member_id": actor.member_id})
    return key
