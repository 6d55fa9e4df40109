"""The WebSocket API's routes, and the push of every domain event from the stack's bus.

One function serves both, told apart by the event: API Gateway's WebSocket events carry a
`requestContext.routeKey` (`$connect`, `$disconnect`, `$default`); EventBridge's carry a
`detail-type`, the domain event's name.

`$connect` authenticates the member with the `token` query parameter (browsers cannot set
headers on a WebSocket), the same bearer token the REST API takes; a refusal keeps no
connection.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from inbox import auth
from inbox.actions import realtime
from inbox.errors import InboxError

logger = Logger()


def on_connect(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token") or ""
    try:
        member = auth.authenticate(f"Bearer {token}")
        realtime.check_connect(member, connection_id)
    except InboxError as exc:
        logger.info("connection refused", extra={"connection_id": connection_id,
                                                 "code": exc.code})
        return {"statusCode": exc.status}
    return {"statusCode": 200}


def on_route(event: dict[str, Any]) -> dict[str, Any]:
    context = event["requestContext"]
    route, connection_id = context["routeKey"], context["connectionId"]
    logger.append_keys(connection_id=connection_id, route=route)
    if route == "$connect":
        return on_connect(event, connection_id)
    if route == "$disconnect":
        realtime.do_disconnect(connection_id)
    else:
        realtime.answer_client_message(connection_id, event.get("body"))
    return {"statusCode": 200}


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    outcome = realtime.do_push_event(event["detail-type"], event.get("detail") or {})
    return {"recipients": outcome.recipients, "posted": outcome.posted, "gone": outcome.gone}


# clear_state: a push invocation must not log the connection id of the last route call.
@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "detail-type" in event:
        return on_domain_event(event)
    return on_route(event)
