"""The Facebook app secret, the webhook verify token and page tokens, from Secrets Manager.

Cached in the process for a few minutes: a secret read per request would cost more than the
request itself, and rotating a token takes effect within the cache time.
"""

from __future__ import annotations

import json
import time
from typing import Any

from inbox import aws
from inbox import settings as settings_module

_CACHE_SECONDS = 300
_cache: dict[str, tuple[float, Any]] = {}


def _get(secret_id: str) -> str | None:
    now = time.monotonic()
    hit = _cache.get(secret_id)
    if hit and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    sm = aws.client("secretsmanager")
    try:
        value = sm.get_secret_value(SecretId=secret_id)["SecretString"]
    except sm.exceptions.ResourceNotFoundException:
        value = None
    _cache[secret_id] = (now, value)
    return value


def forget_cached() -> None:
    _cache.clear()


def app_credentials() -> dict[str, str]:
    """`{"app_secret": ..., "verify_token": ...}` of the Facebook app."""
    raw = _get(settings_module.settings.app_secret_id)
    if not raw:
        raise RuntimeError("the Facebook app secret is not set")
    return json.loads(raw)


def page_token(page_id: str) -> str | None:
    return _get(settings_module.settings.page_token_prefix + page_id)


def store_page_token(page_id: str, token: str) -> None:
    secret_id = settings_module.settings.page_token_prefix + page_id
    sm = aws.client("secretsmanager")
    try:
        sm.put_secret_value(SecretId=secret_id, SecretString=token)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=secret_id, SecretString=token)
    _cache.pop(secret_id, None)


def delete_page_token(page_id: str) -> None:
    secret_id = settings_module.settings.page_token_prefix + page_id
    sm = aws.client("secretsmanager")
    try:
        sm.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
    except sm.exceptions.ResourceNotFoundException:
        pass
    _cache.pop(secret_id, None)
