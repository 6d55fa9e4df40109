"""AWS clients, made lazily once per process.

Lazily, because a client made before moto starts in a test talks to real AWS, and because a
function that never uses a client should not pay for it on a cold start.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

from inbox import settings as settings_module

_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


@cache
def client(service: str) -> Any:
    import boto3

    settings = settings_module.settings
    return boto3.session.Session().client(
        service,
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=_CONFIG,
    )


def reset_clients() -> None:
    """Forget every client; tests call this when they start a fresh emulated account."""
    client.cache_clear()
