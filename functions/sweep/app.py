"""The routing sweep, every minute (EventBridge Scheduler): unanswered hand-back, queues that
an event missed, and the open-count check. All of it is `inbox.actions.routing.do_sweep`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from inbox.actions.routing import do_sweep

logger = Logger()


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = do_sweep()
    # Repairs are listed by member id: ids only, no personal data.
    return {"handed_back": summary["handed_back"], "assigned": summary["assigned"],
            "repaired": {mid: list(pair) for mid, pair in summary["repaired"].items()}}
