"""Media jobs from ingestion: copy each message's attachments into the media bucket.

A standard queue, not FIFO: copies of different messages need no order. A job that cannot
fetch its file now fails alone and comes back after the visibility timeout; on its last
receive (the queue's maxReceiveCount, MEDIA_MAX_ATTEMPTS here) the file is marked failed
instead, so the message shows the reason rather than waiting forever.
"""

from __future__ import annotations

import json
import os
from typing import Any

import requests
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from inbox.actions.media import do_copy_media
from inbox.publish import EventOutbox

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
session = requests.Session()
MAX_ATTEMPTS = int(os.environ.get("MEDIA_MAX_ATTEMPTS", "4"))


def record_handler(record: SQSRecord) -> str:
    job = json.loads(record.body)
    attempt = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(conversation_id=job["conversation_id"], attempt=attempt)
    outbox = EventOutbox()
    outcome = do_copy_media(job["conversation_id"], job["message_sk"],
                            last_attempt=attempt >= MAX_ATTEMPTS, session=session,
                            outbox=outbox)
    outbox.flush()
    return outcome


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)
