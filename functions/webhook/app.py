"""Facebook's webhook: the verify challenge, the signature check, and the events queued.

Runs on a Lambda function URL (no API Gateway charge per message) and must answer within
Facebook's few seconds, so it stores nothing: it splits the batch into events, queues each
on the FIFO queue grouped by conversation, and answers 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from aws_lambda_powertools import Logger
from inbox import aws, secrets
from inbox import settings as settings_module
from inbox.errors import MalformedNotification
from inbox.facebook.events import QueueItem, split_notification

logger = Logger()

_BATCH = 10  # SendMessageBatch takes at most ten entries.


def _answer(status: int, body: str = "") -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "text/plain"}, "body": body}


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def verify_challenge(query: dict[str, str], verify_token: str) -> dict[str, Any]:
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token", "")
    if mode == "subscribe" and hmac.compare_digest(token.encode(), verify_token.encode()):
        logger.info("webhook verified")
        return _answer(200, query.get("hub.challenge", ""))
    logger.warning("webhook verification refused", extra={"mode": mode})
    return _answer(403, "verification refused")


def signature_matches(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the exact bytes received."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def queue_items(items: list[QueueItem]) -> None:
    """Queue every item; raises if SQS refuses any, so Facebook delivers the batch again."""
    sqs = aws.client("sqs")
    queue_url = settings_module.settings.queue_url
    for start in range(0, len(items), _BATCH):
        chunk = items[start : start + _BATCH]
        entries = [
            {
                "Id": str(index),
                "MessageBody": item.body,
                "MessageGroupId": item.group_id,
                "MessageDeduplicationId": item.deduplication_id,
            }
            for index, item in enumerate(chunk)
        ]
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = answer.get("Failed") or []
        if failed:
            logger.error("events not queued", extra={"failed": len(failed),
                                                     "codes": sorted({f["Code"] for f in failed})})
            raise RuntimeError("SQS refused some events")


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    credentials = secrets.app_credentials()
    if method == "GET":
        return verify_challenge(event.get("queryStringParameters") or {},
                                credentials["verify_token"])
    if method != "POST":
        return _answer(405, "method not allowed")

    raw_body = _raw_body(event)
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    if not signature_matches(raw_body, headers.get("x-hub-signature-256"),
                             credentials["app_secret"]):
        # The body is not logged: it is unverified and may hold personal data.
        logger.warning("webhook signature refused",
                       extra={"has_signature": "x-hub-signature-256" in headers,
                              "body_bytes": len(raw_body)})
        return _answer(401, "invalid signature")

    try:
        items = split_notification(raw_body)
    except MalformedNotification as exc:
        logger.warning("webhook body refused", extra={"reason": exc.message})
        return _answer(400, exc.message)

    queue_items(items)
    logger.info("webhook events queued", extra={"events": len(items),
                                                "page_ids": sorted({i.page_id for i in items})})
    return _answer(200, "EVENT_RECEIVED")
