"""The media bucket: where inbound attachments are kept, and the signed links that show them.

Objects are never public. A member's screen gets a pre-signed GET that lives a few minutes;
signing is local (no AWS request), so listing a conversation costs nothing extra.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

from inbox import settings as settings_module

# Inbound copies live under their conversation, so erasing a contact removes its
# conversations' prefixes, and retention is one lifecycle rule on this prefix.
INBOUND_PREFIX = "inbound/"
SIGNED_URL_SECONDS = 300


def inbound_prefix(conversation_id: str) -> str:
    return f"{INBOUND_PREFIX}{conversation_id}/"


def inbound_message_prefix(conversation_id: str, message_id: str) -> str:
    # A message id is `<ms>#<Facebook id>`; '#' would need escaping in every URL.
    return f"{inbound_prefix(conversation_id)}{message_id.replace('#', '-')}/"


def inbound_key(conversation_id: str, message_id: str, index: int) -> str:
    return f"{inbound_message_prefix(conversation_id, message_id)}{index}"


@cache
def _s3(region: str, endpoint_url: str | None) -> Any:
    # Signature version 4: S3 refuses version 2 pre-signed URLs on buckets made since 2020.
    import boto3

    return boto3.session.Session().client(
        "s3", region_name=region, endpoint_url=endpoint_url,
        config=Config(signature_version="s3v4", connect_timeout=2, read_timeout=20,
                      retries={"mode": "standard", "max_attempts": 3}))


def s3_client() -> Any:
    settings = settings_module.settings
    return _s3(settings.region, settings.aws_endpoint_url)


def forget_client() -> None:
    _s3.cache_clear()


def own_key(url: str | None) -> str | None:
    """The object key of an `s3://<media bucket>/...` link (a reply's upload), else None."""
    prefix = f"s3://{settings_module.settings.media_bucket}/"
    if url and url.startswith(prefix):
        return url[len(prefix):]
    return None


def signed_url(key: str, *, seconds: int = SIGNED_URL_SECONDS) -> str:
    return str(s3_client().generate_presigned_url(
        "get_object", Params={"Bucket": settings_module.settings.media_bucket, "Key": key},
        ExpiresIn=seconds))


def delete_prefix(prefix: str) -> int:
    """Delete every object and every version under a prefix; returns how many were deleted.

    Versions too: the bucket keeps replaced and deleted objects for recovery, and an erased
    person's media must not survive as an old version.
    """
    s3 = s3_client()
    bucket = settings_module.settings.media_bucket
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            chunk = doomed[start:start + 1000]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            deleted += len(chunk)
    return deleted
