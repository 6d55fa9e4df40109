"""Retention: a brand deletes messages and inbound media older than the age it chooses.

Messages carry `expires_at`, stamped at ingestion from the brand's setting, and DynamoDB's TTL
deletes them (within days of expiry, at no cost: TTL deletes are free). Inbound media expire
by an S3 lifecycle rule on the `inbound/` prefix, written when the setting changes. The
conversation, contact and daily figures stay: they hold no message text.

A change applies to messages stored after it; media follow the lifecycle rule, which acts
on every object by its age. A stack update rewrites the bucket's lifecycle from the template,
so the setting is applied again whenever it is saved (README, Retention).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aws_lambda_powertools import Logger

from inbox import access, storage
from inbox import settings as settings_module
from inbox.errors import InvalidInput
from inbox.models import BRAND_PK, SETTINGS_SK, BrandSettings, Member

logger = Logger(child=True)

RULE_ID = "retention-inbound-media"
MAX_DAYS = 3650
_CACHE_SECONDS = 60
_cached: tuple[float, int | None] | None = None


def retention_days() -> int | None:
    """The brand's setting, cached briefly: every stored message reads it."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > _CACHE_SECONDS:
        days = access.brand_settings().retention_days
        _cached = (now, int(days) if days else None)
    return _cached[1]


def forget_cached() -> None:
    global _cached
    _cached = None


def expires_at(created_at_ms: int) -> int | None:
    """The TTL of a message created then, in epoch seconds; None when kept for good."""
    days = retention_days()
    if days is None:
        return None
    return created_at_ms // 1000 + days * 86400


def check_set_retention(actor: Member, days: int | None) -> BrandSettings:
    """Set how long messages and media are kept (owner, admin); None keeps them for good.

    Raises:
        Forbidden: the actor is not an owner or an admin.
        InvalidInput: days outside 1 to 3650.
    """
    access.check_can_manage_team(actor)
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InvalidInput("retention is 1 to 3650 days, or null to keep everything",
                           field="days", maximum=MAX_DAYS)
    apply_media_lifecycle(days)
    current = access.brand_settings()
    settings = BrandSettings(BRAND_PK, SETTINGS_SK, isolation=bool(current.isolation),
                             retention_days=days, updated_at=datetime.now(UTC),
                             updated_by=actor.member_id)
    settings.save()
    forget_cached()
    logger.info("retention set", extra={"by_member_id": actor.member_id, "days": days})
    return settings


def apply_media_lifecycle(days: int | None) -> None:
    """Write the bucket's lifecycle: the rules already there, and ours for inbound media."""
    s3 = storage.s3_client()
    bucket = settings_module.settings.media_bucket
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    rules = [r for r in rules if r.get("ID") != RULE_ID]
    if days is not None:
        rules.append({
            "ID": RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": storage.INBOUND_PREFIX},
            "Expiration": {"Days": days},
            # The bucket is versioned: the expired copy must not live on as an old version.
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        })
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration={"Rules": rules})
    else:
        s3.delete_bucket_lifecycle(Bucket=bucket)
