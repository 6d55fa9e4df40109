"""Settings read from the environment, the same names in the template and on the local stack.

Read once per process: Lambda sets them at deploy time, the local stack and the tests set them
before the first import of the domain package.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    region: str
    table_name: str
    queue_url: str
    event_bus_name: str
    app_secret_id: str
    page_token_prefix: str
    user_pool_id: str
    user_pool_client_id: str
    facebook_app_id: str
    graph_api_url: str
    graph_api_version: str
    aws_endpoint_url: str | None
    cognito_jwks_url: str | None
    cors_origin: str
    media_bucket: str
    # The API Gateway Management API of the WebSocket API (`https://<api>.execute-api...
    # /<stage>`); on the local stack, the gateway's emulation of it.
    websocket_management_url: str
    # Inbound media copies (actions/media.py).
    media_queue_url: str
    media_max_bytes: int
    media_allowed_types: tuple[str, ...]
    media_allowed_hosts: tuple[str, ...]
    # The local stack only: Cognito there sends no email, so invitations get this first
    # password, which `make dev` prints. Unset in a deployed stack (Cognito makes one up).
    invite_temporary_password: str | None


DEFAULT_MEDIA_TYPES = (
    "image/,audio/,video/,application/pdf,application/zip,application/msword,"
    "application/vnd.openxmlformats-officedocument.,application/vnd.ms-excel,"
    "application/vnd.ms-powerpoint,application/octet-stream,text/plain,text/csv"
)
DEFAULT_MEDIA_HOSTS = "fbcdn.net,fbsbx.com,facebook.com,fbcdn.com"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


def load_settings() -> Settings:
    region = _env("AWS_REGION") or _env("AWS_DEFAULT_REGION", "us-east-1")
    return Settings(
        region=region,
        table_name=_env("TABLE_NAME", "inbox"),
        queue_url=_env("EVENTS_QUEUE_URL"),
        event_bus_name=_env("EVENT_BUS_NAME", "default"),
        app_secret_id=_env("APP_SECRET_ID", "inbox/facebook-app"),
        page_token_prefix=_env("PAGE_TOKEN_PREFIX", "inbox/page-token/"),
        user_pool_id=_env("USER_POOL_ID"),
        user_pool_client_id=_env("USER_POOL_CLIENT_ID"),
        facebook_app_id=_env("FB_APP_ID", "900000000000001"),
        graph_api_url=_env("GRAPH_API_URL", "https://graph.facebook.com").rstrip("/"),
        graph_api_version=_env("GRAPH_API_VERSION", "v25.0"),
        # Set only on the local stack and in tests: every AWS client then talks to moto.
        aws_endpoint_url=_env("AWS_ENDPOINT_URL") or None,
        cognito_jwks_url=_env("COGNITO_JWKS_URL") or None,
        cors_origin=_env("CORS_ORIGIN", "*"),
        media_bucket=_env("MEDIA_BUCKET"),
        websocket_management_url=_env("WEBSOCKET_MANAGEMENT_URL"),
        media_queue_url=_env("MEDIA_QUEUE_URL"),
        # Facebook's own attachment limit is 25 MB.
        media_max_bytes=int(_env("MEDIA_MAX_BYTES", str(25 * 1024 * 1024))),
        # MIME types or whole families (`image/`); anything else is refused with the reason.
        media_allowed_types=_csv(_env("MEDIA_ALLOWED_TYPES", DEFAULT_MEDIA_TYPES)),
        # Hosts (and their subdomains) the worker may fetch from: Facebook's CDNs in
        # production, the sandbox's host on the local stack. Nothing else, so a crafted
        # attachment URL cannot make the worker reach the stack's own network.
        media_allowed_hosts=_csv(_env("MEDIA_ALLOWED_HOSTS", DEFAULT_MEDIA_HOSTS)),
        invite_temporary_password=_env("INVITE_TEMPORARY_PASSWORD") or None,
    )


settings = load_settings()


def reload_settings() -> Settings:
    """Re-read the environment; tests and the local stack call this after setting it."""
    global settings
    settings = load_settings()
    return settings
