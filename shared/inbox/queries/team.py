"""The team, the brand's settings and its API keys, as a member may see them."""

from __future__ import annotations

from inbox import access
from inbox.actions import api_keys
from inbox.models import MEMBERS_PK as _MEMBERS_PK
from inbox.models import ApiKey, BrandSettings, Member
from inbox.queries.schemas import (
    ApiKeyList,
    ApiKeyOut,
    BrandSettingsOut,
    MemberList,
    MemberOut,
    iso_from_datetime,
)


def list_members(member: Member) -> MemberList:
    # Every member sees the team (access.access_member); one query on the `MEMBERS` partition.
    team = sorted(Member.query(_MEMBERS_PK), key=lambda m: (m.name.casefold(), m.member_id))
    return MemberList(items=[member_out(m) for m in team])


def member_detail(member: Member, member_id: str) -> MemberOut:
    return member_out(access.access_member(member, member_id))


def member_out(m: Member) -> MemberOut:
    return MemberOut(
        id=m.member_id,
        email=m.email,
        name=m.name,
        role=m.role,  # type: ignore[arg-type]
        page_ids=sorted(m.page_ids or ()),
        active=bool(m.active),
        status=m.status if m.status in ("online", "away", "offline") else "offline",
        reception_limit=int(m.reception_limit or 0),
        open_count=int(m.open_count or 0),
        created_at=iso_from_datetime(m.created_at),
        language=m.language,
    )


def brand_settings(member: Member) -> BrandSettingsOut:
    # Every member may read them: the inbox explains why other agents' work is hidden.
    return brand_settings_out(access.brand_settings())


def brand_settings_out(s: BrandSettings) -> BrandSettingsOut:
    return BrandSettingsOut(isolation=bool(s.isolation), updated_at=iso_from_datetime(s.updated_at),
                            updated_by=s.updated_by,
                            retention_days=int(s.retention_days) if s.retention_days else None)


def list_api_keys(member: Member) -> ApiKeyList:
    return ApiKeyList(items=[api_key_out(k) for k in api_keys.list_api_keys(member)])


def api_key_out(k: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=k.key_id,
        name=k.name,
        role=k.role,  # type: ignore[arg-type]
        page_ids=sorted(k.page_ids or ()),
        created_at=iso_from_datetime(k.created_at),
        created_by=k.created_by,
        revoked_at=iso_from_datetime(k.revoked_at),
    )
