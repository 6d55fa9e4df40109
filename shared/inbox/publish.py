"""Domain events out: the only place that publishes, called by the write layer after a write.

Events are collected during one unit of work and put on the EventBridge bus together, so a
batch of Facebook events costs one PutEvents call per ten domain events, not one each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from inbox import aws, event_names
from inbox import settings as settings_module

logger = Logger(child=True)

_PUT_EVENTS_LIMIT = 10


@dataclass
class DomainEvent:
    name: str
    detail: dict[str, Any]


@dataclass
class EventOutbox:
    """Events of one unit of work, published by `flush` once its writes have succeeded."""

    events: list[DomainEvent] = field(default_factory=list)

    def add(self, name: str, **detail: Any) -> None:
        assert name in event_names.ALL, f"undeclared event name {name}"
        self.events.append(DomainEvent(name, detail))

    def flush(self) -> list[DomainEvent]:
        sent, self.events = self.events, []
        if sent:
            put_events(sent)
        return sent


def put_events(events: list[DomainEvent]) -> None:
    bus = settings_module.settings.event_bus_name
    entries = [
        {
            "Source": event_names.SOURCE,
            "DetailType": event.name,
            "Detail": json.dumps(event.detail, separators=(",", ":")),
            "EventBusName": bus,
        }
        for event in events
    ]
    for start in range(0, len(entries), _PUT_EVENTS_LIMIT):
        chunk = entries[start : start + _PUT_EVENTS_LIMIT]
        answer = aws.client("events").put_events(Entries=chunk)
        if answer.get("FailedEntryCount"):
            # Raising fails the unit of work, so the queue delivers it again.
            codes = sorted({e["ErrorCode"] for e in answer["Entries"] if e.get("ErrorCode")})
            logger.error("events not published", extra={"failed": answer["FailedEntryCount"],
                                                          "error_codes": codes})
            raise RuntimeError("EventBridge refused some events")
