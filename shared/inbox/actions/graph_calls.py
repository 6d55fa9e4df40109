"""Graph API calls on behalf of a page: the road every send, comment action and read takes.

`page_graph_call` owns what a call as a page needs besides the request itself: the page's
token, refusing a page already flagged for reconnection, bounded retries on rate limits, and
recording a token Facebook rejects on the page, once, with its event. The Graph client
(`inbox.facebook.graph`) has already turned Facebook's codes into domain errors.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from inbox import event_names, secrets
from inbox import settings as settings_module
from inbox.errors import GraphError, GraphRateLimited, PageTokenInvalid
from inbox.facebook.graph import GraphClient
from inbox.models import PAGES_PK, Page
from inbox.publish import EventOutbox

logger = Logger(child=True)

# Inside a Lambda behind the HTTP API (a 30-second limit) a member waits for the answer: a
# few short waits absorb a burst, anything longer is the caller's to schedule.
MAX_ATTEMPTS = 3
MAX_WAIT_SECONDS = 2.0
FIRST_WAIT_SECONDS = 0.25
# Facebook's transient failures (PLATFORM.md §5.7): temporary, unexpected, send failure.
_TRANSIENT_CODES = {1, 2, 1200}

# Replaced by tests, so that backing off costs no wall-clock time there.
sleep: Callable[[float], None] = time.sleep

_clients: dict[tuple[str, str, str], GraphClient] = {}


def graph_client() -> GraphClient:
    """The process's Graph client: one HTTP session, the pinned version, the app secret.

    Made again when the settings point elsewhere, as they do between test sandboxes.
    """
    settings = settings_module.settings
    app_secret = secrets.app_credentials()["app_secret"]
    key = (settings.graph_api_url, settings.graph_api_version, app_secret)
    client = _clients.get(key)
    if client is None:
        _clients.clear()
        client = _clients[key] = GraphClient(*key)
    return client


def page_graph_call(page_id: str, method: str, path: str, *, page: Page | None = None,
                    **params: Any) -> dict[str, Any]:
    """Make one Graph call with the page's token and return Facebook's answer.

    Args:
        page_id: the connected page acting.
        method: `GET`, `POST` or `DELETE`.
        path: the Graph path after the version, such as `me/messages`.
        page: the page item, when the caller has read it already (saves a read).
        **params: query parameters (GET) or the JSON body (POST, DELETE).

    Raises:
        PageTokenInvalid: the page is flagged for reconnection (no call is made), has no
            token, or Facebook rejected its token now (the page is then flagged and
            `page.reconnect_needed` published).
        GraphRateLimited: still throttled after the retries, or throttled for longer than
            a request may wait; `retry_after` is in seconds when Facebook said.
        GraphError: any other refusal, as its domain subclass.

    Example:
        page_graph_call("100000000000001", "POST", "me/messages",
                        recipient={"id": psid}, message={"text": "Hi"})
    """
    page = page or _load_page(page_id)
    check_page_can_call(page, page_id)
    token = secrets.page_token(page_id)
    if not token:
        raise PageTokenInvalid("the page has no access token; reconnect it", page_id=page_id,
                               reason="reconnect_needed")

    client = graph_client()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return client.call(method, path, token, **params)
        except PageTokenInvalid as exc:
            flag_reconnect_needed(page_id, exc)
            raise PageTokenInvalid("Facebook rejected the page's token; reconnect the page",
                                   page_id=page_id, reason="reconnect_needed",
                                   **exc.fields) from exc
        except GraphError as exc:
            wait = _wait_before_retry(exc, attempt)
            if wait is None:
                raise
            logger.warning("graph call retried", extra={
                "page_id": page_id, "graph_code": exc.fields.get("graph_code"),
                "attempt": attempt, "wait_seconds": round(wait, 2)})
            sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def check_page_can_call(page: Page | None, page_id: str) -> Page:
    """The page, if it may call Facebook now; a page flagged for reconnection may not."""
    if page is None:
        raise PageTokenInvalid("the page is not connected", page_id=page_id,
                               reason="not_connected")
    if page.reconnect_needed:
        raise PageTokenInvalid("Facebook rejected the page's token; reconnect the page",
                               page_id=page_id, reason="reconnect_needed")
    return page


def flag_reconnect_needed(page_id: str, error: GraphError) -> bool:
    """Mark the page as needing reconnection; True (and the event) only the first time.

    Conditional, so that many sends failing at once publish one event, and a page
    disconnected meanwhile is not brought back as a stub.
    """
    page = Page(PAGES_PK, page_id)
    try:
        page.update(
            actions=[Page.reconnect_needed.set(True)],
            condition=Page.pk.exists() & (Page.reconnect_needed != True),  # noqa: E712
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise

    outbox = EventOutbox()
    outbox.add(event_names.PAGE_RECONNECT_NEEDED, page_id=page_id,
               graph_code=error.fields.get("graph_code"),
               graph_subcode=error.fields.get("graph_subcode"))
    outbox.flush()
    logger.warning("page needs reconnecting", extra={
        "page_id": page_id, "graph_code": error.fields.get("graph_code"),
        "graph_subcode": error.fields.get("graph_subcode")})
    return True


def _wait_before_retry(error: GraphError, attempt: int) -> float | None:
    """Seconds to wait before another attempt, or None when retrying cannot help."""
    if attempt >= MAX_ATTEMPTS:
        return None
    if isinstance(error, GraphRateLimited):
        told = error.fields.get("retry_after")
        # Calls made while throttled still count against the page (PLATFORM.md §8.4):
        # when Facebook names a longer wait, the caller is told rather than kept waiting.
        if told and told > MAX_WAIT_SECONDS:
            return None
    elif error.fields.get("graph_code") not in _TRANSIENT_CODES:
        return None
    backoff = FIRST_WAIT_SECONDS * 2 ** (attempt - 1)
    return min(MAX_WAIT_SECONDS, backoff * random.uniform(0.8, 1.2))


def _load_page(page_id: str) -> Page | None:
    try:
        return Page.get(PAGES_PK, page_id)
    except Page.DoesNotExist:
        return None
