"""The bus's rule to the realtime function, emulated: domain events reach it as in AWS.

The deployed stack has an EventBridge rule (the realtime function's `DomainEvents` event in
template.yaml) that invokes the function with each matching event. moto's EventBridge matches
rules but cannot invoke a local function, so the local stack gives the same rule, with the
pattern read from the template, an SQS queue as its target; a poller hands each event on that
queue to the function, shaped as EventBridge delivers it. One invocation at a time: locally a
connection's frames arrive in `seq` order, where deployed, concurrent invocations may swap two
(README, "Known trade-offs"); delivering side by side here saved about 0.15 s on a new
conversation's three events but made the inbox refetch on most of them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from infra.cfn_yaml import load_template
from infra.local.events import LambdaContext

logger = logging.getLogger("local.bus")

Handler = Callable[[dict[str, Any], Any], Any]
RULE_FUNCTION, RULE_EVENT = "RealtimeFunction", "DomainEvents"


def rule_pattern() -> dict[str, Any]:
    """The event pattern of the template's rule from the bus to the realtime function."""
    events = load_template()["Resources"][RULE_FUNCTION]["Properties"]["Events"]
    return events[RULE_EVENT]["Properties"]["Pattern"]


class BusTap:
    """Delivers the bus's matching events to a handler, one invocation per event.

    Args:
        handler: the realtime function's `handler(event, context)`.
        bus_name: the stack's event bus.
        events: a boto3 EventBridge client; sqs: a boto3 SQS client (same endpoint).
        name: names the rule and its queue.
    """

    def __init__(self, *, handler: Handler, bus_name: str, events: Any, sqs: Any,
                 name: str = "inbox-local-realtime-rule", wait_seconds: int = 1) -> None:
        self.handler = handler
        self.sqs = sqs
        self.wait_seconds = wait_seconds
        self.queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName=bus_name,
                        EventPattern=json.dumps(rule_pattern()), State="ENABLED")
        events.put_targets(Rule=name, EventBusName=bus_name,
                           Targets=[{"Id": "realtime", "Arn": arn}])
        self.delivered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self, wait_seconds: int | None = None) -> int:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_seconds if wait_seconds is None else wait_seconds)
        messages = answer.get("Messages") or []
        for message in messages:
            self._deliver(json.loads(message["Body"]))
            self.sqs.delete_message(QueueUrl=self.queue_url,
                                    ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def drain(self) -> int:
        delivered = 0
        while count := self.poll_once(wait_seconds=0):
            delivered += count
        return delivered

    def _deliver(self, event: dict[str, Any]) -> None:
        self.delivered += 1
        try:
            self.handler(event, LambdaContext(function_name="inbox-local-realtime"))
        except Exception:
            # EventBridge's retries would bring it back a little later; a push that late is of
            # no use locally, and the traceback is what the developer needs.
            logger.exception("realtime push failed", extra={"event": event.get("detail-type")})

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bus-tap", daemon=True)
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
                logger.exception("bus poll failed")
                self._stop.wait(1)
