"""Inbound attachments copied into the media bucket, because Facebook's links expire.

Ingestion stores a message with its attachments marked `pending` and queues one media job per
message (`enqueue_copy`); the media worker (functions/media) fetches each file and writes it to
the bucket (`do_copy_media`). Off the ingest path on purpose: a 25 MB video must not hold up
the conversation's FIFO group, and a slow CDN must not make ingestion retry its writes.

Failures are recorded on the attachment, never on the message: a refused file (too large, a
type not allowed, a host not allowed, a link Facebook no longer serves) is `failed` with its
reason at once; an unreachable host or a 5xx is retried by the queue, and marked `failed`
on the last attempt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from inbox import aws, event_names, storage
from inbox import settings as settings_module
from inbox.models import Attachment, Message, message_id_from_sk
from inbox.publish import EventOutbox

logger = Logger(child=True)

# Kinds whose URL is the file itself. A location, a shared link (`fallback`) or a reel point
# at a Facebook page, not at media, and are kept as links.
COPIED_TYPES = frozenset({"image", "audio", "video", "file", "sticker"})
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_TIMEOUT = (3.05, 20)


class MediaRefused(Exception):
    """The file will never be copied: its reason is recorded and it is not tried again."""


class MediaUnavailable(Exception):
    """The file could not be fetched now; the queue tries again later."""


@dataclass(frozen=True)
class FetchedMedia:
    body: bytes
    content_type: str


# --- ingest side -----------------------------------------------------------------------------


def is_copyable(attachment: Attachment) -> bool:
    url = attachment.url or ""
    return attachment.type in COPIED_TYPES and url.startswith(("https://", "http://"))


def mark_pending(attachments: list[Attachment] | None) -> None:
    for attachment in attachments or ():
        if is_copyable(attachment):
            attachment.media_status = "pending"


def has_pending(message: Message) -> bool:
    return any(a.media_status == "pending" for a in message.attachments or ())


def enqueue_copy(message: Message) -> None:
    """Queue the copy of a message's pending attachments: one SQS request per message.

    Called for a redelivered message too: the job is idempotent, and a record that stopped
    between storing the message and queueing its job gets its job this way.
    """
    if not has_pending(message):
        return
    job = {"conversation_id": message.conversation_id, "message_sk": message.sk}
    aws.client("sqs").send_message(QueueUrl=settings_module.settings.media_queue_url,
                                   MessageBody=json.dumps(job, separators=(",", ":")))


# --- worker side -----------------------------------------------------------------------------


def check_url(url: str) -> None:
    """Refuse a URL the worker must not fetch: only http(s), only the allowed hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise MediaRefused("scheme_not_allowed")
    host = (parts.hostname or "").lower()
    allowed = settings_module.settings.media_allowed_hosts
    if not host or not any(host == h or host.endswith("." + h) for h in allowed):
        raise MediaRefused("host_not_allowed")


def is_allowed_type(content_type: str) -> bool:
    allowed = settings_module.settings.media_allowed_types
    return any(content_type == t or (t.endswith((".", "/")) and content_type.startswith(t))
               for t in allowed)


def fetch_media(url: str, session: requests.Session) -> FetchedMedia:
    """Download one attachment within the size limit, following a few checked redirects.

    Raises:
        MediaRefused: a host, scheme, type or size that is not allowed, or a 4xx answer.
        MediaUnavailable: a network error, a timeout, a 5xx or a 429.
    """
    limit = settings_module.settings.media_max_bytes
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        try:
            response = session.get(url, stream=True, timeout=_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            raise MediaUnavailable("unreachable") from exc
        with response:
            if response.is_redirect and response.headers.get("location"):
                url = urljoin(url, response.headers["location"])
                continue
            _check_status(response.status_code)
            content_type = _content_type(response)
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise MediaRefused("too_large")
            return FetchedMedia(body=_read_within(response, limit), content_type=content_type)
    raise MediaRefused("too_many_redirects")


def _check_status(status: int) -> None:
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise MediaUnavailable(f"http_{status}")
    raise MediaRefused(f"http_{status}")


def _content_type(response: requests.Response) -> str:
    content_type = (response.headers.get("content-type") or "application/octet-stream")
    content_type = content_type.split(";", 1)[0].strip().lower()
    if not is_allowed_type(content_type):
        raise MediaRefused("type_not_allowed")
    return content_type


def _read_within(response: requests.Response, limit: int) -> bytes:
    # The declared length may be missing or wrong: count what actually arrives.
    chunks, total = [], 0
    try:
        for chunk in response.iter_content(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise MediaRefused("too_large")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise MediaUnavailable("interrupted") from exc
    return b"".join(chunks)


def do_copy_media(conversation_id: str, message_sk: str, *, last_attempt: bool,
                  session: requests.Session, outbox: EventOutbox) -> str:
    """Copy a message's pending attachments to the bucket and record each outcome on them.

    Raises MediaUnavailable when a file could not be fetched now and this is not the last
    attempt: the queue then delivers the job again, and files already stored are skipped.
    """
    try:
        message = Message.get(f"CONV#{conversation_id}", message_sk)
    except Message.DoesNotExist:
        # Erased, or expired by retention, before its media was copied.
        logger.info("media job for a message that is gone",
                    extra={"conversation_id": conversation_id})
        return "message_gone"

    attachments = list(message.attachments or ())
    message_id = message_id_from_sk(message_sk)
    retry: MediaUnavailable | None = None
    for index, attachment in enumerate(attachments):
        if attachment.media_status != "pending":
            continue
        try:
            _store(attachment, conversation_id, message_id, index, session)
        except MediaRefused as exc:
            _mark_failed(attachment, str(exc), conversation_id, message_id)
        except MediaUnavailable as exc:
            if not last_attempt:
                retry = retry or exc
                continue
            _mark_failed(attachment, str(exc), conversation_id, message_id)

    if not _save_attachments(message, attachments):
        storage.delete_prefix(storage.inbound_message_prefix(conversation_id, message_id))
        return "message_gone"
    outbox.add(event_names.MESSAGE_UPDATED, conversation_id=conversation_id,
               message_id=message_id, facebook_id=message.facebook_id, change="media")
    if retry is not None:
        raise retry
    return "copied"


def _store(attachment: Attachment, conversation_id: str, message_id: str, index: int,
           session: requests.Session) -> None:
    fetched = fetch_media(attachment.url or "", session)
    key = storage.inbound_key(conversation_id, message_id, index)
    storage.s3_client().put_object(Bucket=settings_module.settings.media_bucket, Key=key,
                                   Body=fetched.body, ContentType=fetched.content_type)
    attachment.media_status = "stored"
    attachment.media_key = key
    attachment.content_type = fetched.content_type
    attachment.size = len(fetched.body)
    attachment.media_error = None
    logger.info("media stored", extra={"conversation_id": conversation_id,
                                       "message_id": message_id, "index": index,
                                       "size": len(fetched.body),
                                       "content_type": fetched.content_type})


def _mark_failed(attachment: Attachment, reason: str, conversation_id: str,
                 message_id: str) -> None:
    attachment.media_status = "failed"
    attachment.media_error = reason
    logger.warning("media not stored", extra={"conversation_id": conversation_id,
                                              "message_id": message_id, "reason": reason})


def _save_attachments(message: Message, attachments: list[Attachment]) -> bool:
    """Write the attachments alone (1 unit); False when the message was deleted meanwhile."""
    try:
        message.update(actions=[Message.attachments.set(attachments)],
                       condition=Message.pk.exists())
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise

