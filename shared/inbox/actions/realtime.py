"""Realtime push: members' WebSocket connections, and each domain event sent to those allowed.

The protocol is the WebSocket contract of the README ("Realtime"): a frame is
`{"seq", "event", "conversation_id", "data"}`, `seq` grows by exactly one per frame sent to a
connection, and `data` holds ids and changed fields, never message text.

Who receives a frame is decided by `inbox.access`, the functions the REST API uses:
- an event on a conversation: the members who may see it now (`can_see_conversation`), plus
  the member a routing change took it from, whose inbox must drop it;
- an event on a contact: the members who may see the contact (`can_see_contact`);
- an event on a page: the members allowed on the page;
- an event on a member: owners, admins and the member concerned.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pynamodb.exceptions import UpdateError

from inbox import access
from inbox import settings as settings_module
from inbox.models import (
    CONNECTIONS_PK,
    CONTACT_SK,
    CONVERSATION_SK,
    MEMBERS_PK,
    Connection,
    Contact,
    Conversation,
    Member,
    contact_pk,
    conversation_pk,
)

logger = Logger(child=True)

# API Gateway closes every WebSocket after two hours; the item outlives it a little, so a
# connection is never forgotten while it can still receive.
CONNECTION_LIFETIME_SECONDS = 2 * 3600 + 300

# Detail fields never put in a frame: member-written text (a transfer note) and Facebook's
# error descriptions. A frame carries ids and changed fields; the client fetches the rest.
_WITHHELD_FIELDS = frozenset({"note", "text", "preview", "message"})

_MANAGERS = frozenset({access.OWNER, access.ADMIN})


class ConnectionGone(Exception):
    """The connection no longer exists at API Gateway (410 GoneException)."""


class ConnectionPoster(Protocol):
    def post(self, connection_id: str, data: bytes) -> None:
        """Send one frame; raises `ConnectionGone` when the connection is closed."""


class ManagementApiPoster:
    """The API Gateway Management API's `PostToConnection`, for one WebSocket API stage.

    Args:
        endpoint_url: `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`, or the
            local gateway's emulation of it.
    """

    def __init__(self, endpoint_url: str, *, client: Any = None) -> None:
        self.endpoint_url = endpoint_url
        self.client = client or _management_client(endpoint_url)

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self.client.exceptions.GoneException as exc:
            raise ConnectionGone(connection_id) from exc


@cache
def _management_client(endpoint_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url,
        region_name=settings_module.settings.region,
        config=Config(connect_timeout=2, read_timeout=5,
                      retries={"mode": "standard", "max_attempts": 3}),
    )


def default_poster() -> ManagementApiPoster:
    return ManagementApiPoster(settings_module.settings.websocket_management_url)


# --- connections -----------------------------------------------------------------------------


def do_connect(member: Member, connection_id: str, *, now: float | None = None) -> Connection:
    """Keep a member's new connection. The caller has authenticated the member."""
    at = time.time() if now is None else now
    connection = Connection(CONNECTIONS_PK, connection_id, connection_id=connection_id,
                            member_id=member.member_id, connected_at=int(at * 1000),
                            expires_at=int(at) + CONNECTION_LIFETIME_SECONDS, seq=0)
    connection.save()
    logger.info("connection opened", extra={"connection_id": connection_id,
                                            "member_id": member.member_id})
    return connection


def check_connect(member: Member, connection_id: str) -> Connection:
    """Open a connection for a signed-in member; API keys hold none (pushes follow people).

    Raises:
        Forbidden: the principal is an API key.
    """
    access.check_is_person(member)
    return do_connect(member, connection_id)


def do_disconnect(connection_id: str) -> None:
    Connection(CONNECTIONS_PK, connection_id).delete()
    logger.info("connection closed", extra={"connection_id": connection_id})


def live_connections(*, now: float | None = None) -> list[Connection]:
    """Every open connection: one query of the `CONNECTIONS` partition.

    TTL deletes expired items up to days late, so the expiry is checked here too.
    """
    at = int(time.time() if now is None else now)
    return [c for c in Connection.query(CONNECTIONS_PK) if c.expires_at > at]


# --- recipients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    event: str
    conversation_id: str | None
    data: dict[str, Any]

    def encode(self, seq: int) -> bytes:
        body = {"seq": seq, "event": self.event, "conversation_id": self.conversation_id,
                "data": self.data}
        return json.dumps(body, separators=(",", ":")).encode()


def frame_of(name: str, detail: Mapping[str, Any]) -> Frame:
    data = {k: v for k, v in detail.items()
            if k not in _WITHHELD_FIELDS and k != "conversation_id" and v is not None}
    return Frame(name, detail.get("conversation_id"), data)


def _members(member_ids: Iterable[str]) -> dict[str, Member]:
    # One query of the team's partition rather than a get per connected member: a team's
    # items fit in a few KB, so this costs less from the second member connected on.
    wanted = set(member_ids)
    return {m.member_id: m for m in Member.query(MEMBERS_PK)
            if m.member_id in wanted and m.active}


def allowed_member_ids(detail: Mapping[str, Any], members: Mapping[str, Member]) -> set[str]:
    """Which of these (active) members may receive the event, by the access rules."""
    if not members:
        return set()
    conversation_id = detail.get("conversation_id")
    if conversation_id:
        return _conversation_audience(conversation_id, detail, members)
    if detail.get("contact_id"):
        return _contact_audience(detail["contact_id"], detail.get("page_id"), members)
    if detail.get("member_id"):
        return {mid for mid, m in members.items()
                if m.role in _MANAGERS or mid == detail["member_id"]}
    if detail.get("page_id"):
        return {mid for mid, m in members.items() if access.is_page_allowed(m, detail["page_id"])}
    return {mid for mid, m in members.items() if m.role in _MANAGERS}


def _conversation_audience(conversation_id: str, detail: Mapping[str, Any],
                           members: Mapping[str, Member]) -> set[str]:
    try:
        # Consistent: the event follows the write, and an assignment must reach its assignee.
        conversation = Conversation.get(conversation_pk(conversation_id), CONVERSATION_SK,
                                        consistent_read=True)
    except Conversation.DoesNotExist:
        return _erased_audience(detail.get("page_id"), members)
    isolation = _isolation_if_needed(members)
    audience = {mid for mid, m in members.items()
                if access.can_see_conversation(m, conversation, isolation=isolation)}
    # A transfer or a return takes the conversation away from its holder, who may no longer
    # see it; they still get this one frame, which names only ids they had, to drop it.
    giver = detail.get("from_member_id")
    if giver in members and access.is_page_allowed(members[giver], conversation.page_id):
        audience.add(giver)
    return audience


def _contact_audience(contact_id: str, page_id: str | None,
                      members: Mapping[str, Member]) -> set[str]:
    try:
        contact = Contact.get(contact_pk(contact_id), CONTACT_SK, consistent_read=True)
    except Contact.DoesNotExist:
        return _erased_audience(page_id, members)
    return {mid for mid, m in members.items() if access.can_see_contact(m, contact)}


def _erased_audience(page_id: str | None, members: Mapping[str, Member]) -> set[str]:
    """Who hears of a contact or conversation that is gone (erased): whoever saw all of its page.

    Its item cannot say who saw it any more. Those who see every conversation of the page
    did; an isolated agent may have too, and finds it missing on the next refetch.
    """
    if not page_id:
        return {mid for mid, m in members.items() if m.role in _MANAGERS}
    isolation = _isolation_if_needed(members)
    return {mid for mid, m in members.items()
            if access.is_page_allowed(m, page_id) and (m.role != access.AGENT or not isolation)}


def _isolation_if_needed(members: Mapping[str, Member]) -> bool:
    # Only agents are isolated: a push with no agent connected skips the settings read.
    if any(m.role == access.AGENT for m in members.values()):
        return access.is_isolation_on()
    return False


# --- push ------------------------------------------------------------------------------------


@dataclass
class PushOutcome:
    connections: int = 0
    recipients: int = 0
    posted: int = 0
    gone: int = 0
    failed: int = 0


def do_push_event(name: str, detail: Mapping[str, Any], *,
                  poster: ConnectionPoster | None = None) -> PushOutcome:
    """Send one domain event to the connections of every member allowed to see it.

    A connection found gone is deleted at once and the others still get theirs; any other
    failure to post is logged and skipped, and that client, seeing the `seq` gap on its next
    frame, refetches over REST.
    """
    outcome = PushOutcome()
    connections = live_connections()
    outcome.connections = len(connections)
    if not connections:
        return outcome

    members = _members(c.member_id for c in connections)
    allowed = allowed_member_ids(detail, members)
    recipients = [c for c in connections if c.member_id in allowed]
    outcome.recipients = len(recipients)
    frame = frame_of(name, detail)
    poster = poster or default_poster()
    if recipients:
        # Each post is a round trip to API Gateway; a few at a time keep a big team's push
        # within a second without opening a connection pool per member.
        with ThreadPoolExecutor(max_workers=min(_POST_WORKERS, len(recipients))) as pool:
            results = list(pool.map(lambda c: _send(c, frame, poster), recipients))
        outcome.posted = results.count(_POSTED)
        outcome.gone = results.count(_GONE)
        outcome.failed = results.count(_FAILED)

    logger.info("event pushed", extra={"event": name,
                                       "conversation_id": detail.get("conversation_id"),
                                       "recipients": outcome.recipients,
                                       "posted": outcome.posted, "gone": outcome.gone})
    return outcome


_POST_WORKERS = 8
_POSTED, _GONE, _FAILED = "posted", "gone", "failed"


def _send(connection: Connection, frame: Frame, poster: ConnectionPoster) -> str:
    seq = _next_seq(connection)
    if seq is None:
        return _GONE
    try:
        poster.post(connection.connection_id, frame.encode(seq))
    except ConnectionGone:
        do_disconnect(connection.connection_id)
        return _GONE
    except Exception:  # noqa: BLE001 - one client's failure must not cost the others theirs
        logger.warning("frame not posted", exc_info=True,
                       extra={"connection_id": connection.connection_id, "seq": seq})
        return _FAILED
    return _POSTED


def _next_seq(connection: Connection) -> int | None:
    """Take the connection's next `seq`, or None when it was closed meanwhile.

    An atomic counter: pushes run concurrently, and each frame must get its own number.
    """
    try:
        # The condition keeps a closed connection's item from being re-created by ADD.
        connection.update(actions=[Connection.seq.add(1)],
                          condition=Connection.pk.exists())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return None
    return int(connection.seq)


# --- WebSocket routes ------------------------------------------------------------------------


PONG = json.dumps({"event": "pong"}, separators=(",", ":")).encode()


def answer_client_message(connection_id: str, body: str | None, *,
                          poster: ConnectionPoster | None = None) -> bool:
    """Answer `{"action": "ping"}` with `{"event": "pong"}`; ignore anything else.

    Returns whether a pong was sent.
    """
    try:
        message = json.loads(body or "")
    except ValueError:
        return False
    if not isinstance(message, dict) or message.get("action") != "ping":
        return False
    try:
        (poster or default_poster()).post(connection_id, PONG)
    except ConnectionGone:
        do_disconnect(connection_id)
        return False
    return True
