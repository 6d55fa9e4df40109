"""Facebook's data-deletion callback and its public status page.

`POST /webhooks/facebook/data-deletion` takes the form field `signed_request`, checks it with
the app secret (a forged one gets 401), erases what the inbox holds about that person and
answers `{"url": <status page>, "confirmation_code": <code>}` as Facebook requires.
`GET /webhooks/facebook/data-deletion/<code>` is that status page: public, as Facebook shows
its link to the person, and it names no one.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from inbox import secrets
from inbox.actions import privacy
from inbox.errors import InboxError
from inbox.publish import EventOutbox

logger = Logger()
PATH = "/webhooks/facebook/data-deletion"
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}


def _form(event: dict[str, Any]) -> dict[str, str]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(raw).items()}


def status_url(event: dict[str, Any], code: str) -> str:
    # The host the callback came to: a custom domain in front of the API keeps its own name.
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    domain = headers.get("host") or event.get("requestContext", {}).get("domainName", "")
    scheme = "http" if domain.split(":")[0] in _LOCAL_HOSTS else "https"
    return f"{scheme}://{domain}{PATH}/{code}"


def request_deletion(event: dict[str, Any]) -> dict[str, Any]:
    signed_request = _form(event).get("signed_request", "")
    payload = privacy.parse_signed_request(signed_request,
                                           secrets.app_credentials()["app_secret"])
    outbox = EventOutbox()
    request = privacy.do_facebook_deletion_request(payload["user_id"], outbox=outbox)
    outbox.flush()
    return _answer(200, {"url": status_url(event, request.code),
                         "confirmation_code": request.code})


def show_status(code: str) -> dict[str, Any]:
    request = privacy.deletion_status(code)
    return _answer(200, {
        "confirmation_code": request.code,
        "status": request.status,
        "requested_at": int(request.requested_at),
        "finished_at": int(request.finished_at) if request.finished_at else None,
        "contacts_erased": int(request.contacts_erased),
        "conversations_erased": int(request.conversations_erased),
        "messenger_ids_matched": request.messenger_ids_matched,
        "message": _status_message(request),
    })


def _status_message(request: Any) -> str:
    if request.status != "done":
        return "Your request is being processed."
    if request.messenger_ids_matched is False:
        return ("Your comments and the conversations they started have been deleted. Your "
                "Messenger conversations could not be matched to you automatically; the "
                "page's team deletes them on request.")
    return ("Your data held by this inbox has been deleted: contact details, messages and "
            "files.")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    path = (event.get("rawPath") or "").rstrip("/")
    try:
        if method == "POST" and path == PATH:
            return request_deletion(event)
        if method == "GET" and path.startswith(PATH + "/"):
            return show_status(path[len(PATH) + 1:])
    except InboxError as exc:
        if exc.status == 401:
            logger.warning("deletion request refused", extra={"reason": exc.message})
        return _answer(exc.status, exc.to_dict())
    return _answer(404, {"code": "not_found", "message": "no such route"})
