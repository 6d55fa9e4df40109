"""Lambda's SQS event source mapping, emulated: the local stack's bridge from queue to ingest.

What it reproduces, because ingest depends on it: batches of up to ten records in Lambda's
event shape; partial batch responses (`batchItemFailures`), where the records not named are
deleted and the named ones come back after a back-off; a handler that raises fails the whole
batch; and the queue's own redrive policy, so a record that keeps failing reaches the
dead-letter queue after `maxReceiveCount` receives, as in AWS.

`drain()` processes until the queue is empty, so tests can drive it step by step; `start()`
runs it in a thread with one-second long polls, as `make dev` does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from infra.local.events import LambdaContext, sqs_event

logger = logging.getLogger("local.queue_runner")

Handler = Callable[[dict[str, Any], Any], Any]
_SQS_BATCH = 10  # the most ReceiveMessage, DeleteMessageBatch and the mapping take at once


class QueueRunner:
    """Feeds one queue to one handler, as an event source mapping with partial failures.

    Args:
        handler: the function's `handler(event, context)`.
        queue_url: the source queue.
        sqs: a boto3 SQS client for the queue's endpoint.
        function_name: for the Lambda context handed to the handler.
        batch_size: records per invocation, at most ten.
        wait_seconds: the long poll of the background loop.
        retry_delay_seconds: how long a failed record stays invisible before its next try;
            AWS waits the queue's visibility timeout, which is too slow to watch locally.
    """

    def __init__(
        self,
        *,
        handler: Handler,
        queue_url: str,
        sqs: Any,
        function_name: str = "inbox-local-ingest",
        batch_size: int = _SQS_BATCH,
        wait_seconds: int = 1,
        retry_delay_seconds: int = 1,
    ) -> None:
        self.handler = handler
        self.queue_url = queue_url
        self.sqs = sqs
        self.function_name = function_name
        self.batch_size = min(batch_size, _SQS_BATCH)
        self.wait_seconds = wait_seconds
        self.retry_delay_seconds = retry_delay_seconds
        self.region = sqs.meta.region_name
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.invocations = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One invocation at a time, like a mapping limited to one concurrent function.
        self._lock = threading.Lock()

    def poll_once(self, wait_seconds: int | None = None) -> int:
        """Receive one batch and hand it to the handler; returns how many records it held."""
        with self._lock:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=self.wait_seconds if wait_seconds is None else wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = answer.get("Messages") or []
            if messages:
                self._invoke(messages)
            return len(messages)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        event = sqs_event(messages, queue_arn=self.queue_arn, region=self.region)
        handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        self.invocations += 1

        try:
            result = self.handler(
                event, LambdaContext(function_name=self.function_name, region=self.region)
            )
            failed = _failed_ids(result, set(handles))
        except Exception:
            # Lambda fails the whole batch when the function raises; the traceback is what a
            # developer needs here, and it carries no message bodies.
            logger.exception("ingest invocation failed", extra={"records": len(messages)})
            failed = set(handles)

        self._delete([handles[i] for i in handles if i not in failed])
        self._retry_later([handles[i] for i in handles if i in failed])
        if failed:
            logger.warning(
                "records failed", extra={"failed": len(failed), "records": len(messages)}
            )

    def _delete(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), _SQS_BATCH):
            chunk = receipt_handles[start : start + _SQS_BATCH]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": handle} for n, handle in enumerate(chunk)],
            )

    def _retry_later(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), _SQS_BATCH):
            chunk = receipt_handles[start : start + _SQS_BATCH]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(n),
                        "ReceiptHandle": handle,
                        "VisibilityTimeout": self.retry_delay_seconds,
                    }
                    for n, handle in enumerate(chunk)
                ],
            )

    def pending(self) -> int:
        """Records in the queue, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def drain(self, timeout: float = 30.0) -> int:
        """Process until the queue holds nothing, failed records' retries and redrives included.

        Returns the number of invocations made. Raises `TimeoutError` if records remain after
        `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        start = self.invocations
        while True:
            if self.poll_once(wait_seconds=0):
                continue
            if self.pending() == 0:
                return self.invocations - start
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.pending()} records still queued after {timeout} s")
            # Records wait out their back-off; a short nap keeps the loop from spinning.
            time.sleep(0.05)

    def start(self) -> None:
        """Poll in a background thread until `stop()`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="queue-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=self.wait_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                # The emulator itself went away or refused a call: keep the loop alive and
                # try again, as the real mapping does.
                logger.exception("queue poll failed")
                self._stop.wait(1)


def _failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """The records a partial batch response names as failed.

    As in AWS, a response naming a record outside the batch, or without an id, fails the
    whole batch.
    """
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    ids = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
    if len(ids) != len(failures) or not ids <= batch_ids:
        logger.warning("malformed batch response", extra={"failures": len(failures)})
        return set(batch_ids)
    return ids
