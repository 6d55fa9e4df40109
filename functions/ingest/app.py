"""Queued Facebook events into the inbox: one record at a time, failures reported alone.

The FIFO processor keeps a conversation's order: when one of its records fails, the records
after it in the same group are handed back too, and other conversations go on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from inbox import settings as settings_module
from inbox.actions.inbound import IngestContext, do_ingest_event
from inbox.facebook.events import parse_event
from inbox.facebook.profiles import GraphProfiles

logger = Logger()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
profiles = GraphProfiles()


def record_handler(record: SQSRecord) -> str:
    logger.append_keys(sqs_message_id=record.message_id)
    event = parse_event(record.body)
    context = IngestContext(app_id=settings_module.settings.facebook_app_id, profiles=profiles)
    outcome = do_ingest_event(event, context)
    context.outbox.flush()
    return outcome


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)
