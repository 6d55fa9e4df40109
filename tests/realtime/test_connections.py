"""`$connect`, `$disconnect` and `$default` through the realtime function, as API Gateway
calls them."""

from __future__ import annotations

import time
from typing import Any

from tests.realtime.conftest import Inbox, route_event


def _stored() -> list[Any]:
    from inbox.models import CONNECTIONS_PK, Connection

    return list(Connection.query(CONNECTIONS_PK))


def test_connect_without_a_token_is_refused_and_nothing_is_kept(connect, personas) -> None:
    status, _ = connect(None)

    assert status == 401
    assert _stored() == []


def test_connect_with_a_forged_token_is_refused_and_nothing_is_kept(connect, personas) -> None:
    forged = personas["owner"].token[:-4] + "AAAA"

    assert connect(forged)[0] == 401
    assert connect("not-a-jwt")[0] == 401
    assert _stored() == []


def test_connect_of_a_deactivated_member_is_refused(connect, personas) -> None:
    from inbox.models import MEMBERS_PK, Member

    member = Member.get(MEMBERS_PK, personas["agent"].member_id)
    member.update(actions=[Member.active.set(False)])

    assert connect(personas["agent"].token)[0] == 403
    assert _stored() == []


def test_connect_with_an_api_key_is_refused(connect, personas) -> None:
    from inbox.actions.api_keys import check_create_api_key
    from inbox.models import MEMBERS_PK, Member

    owner = Member.get(MEMBERS_PK, personas["owner"].member_id)
    created = check_create_api_key(owner, name="zapier", role="admin", page_ids=None)

    assert connect(created.presented)[0] == 403
    assert _stored() == []


def test_connect_keeps_the_member_and_an_expiry_and_disconnect_forgets(
    connect, personas, websocket
) -> None:
    status, inbox = connect(personas["agent"].token)

    (stored,) = _stored()
    assert status == 200
    assert stored.connection_id == inbox.connection_id
    assert stored.member_id == personas["agent"].member_id
    assert stored.seq == 0
    # API Gateway's two-hour limit, and a little more.
    assert 2 * 3600 < stored.expires_at - time.time() <= 2 * 3600 + 300

    websocket.realtime(route_event("$disconnect", inbox.connection_id), None)

    assert _stored() == []


def test_a_ping_is_answered_pong_and_anything_else_is_ignored(connect, personas,
                                                             websocket) -> None:
    _, inbox = connect(personas["agent"].token)

    for body in ('{"action": "ping"}', '{"action": "sendmessage"}', "not json", "[1]", ""):
        answer = websocket.realtime(route_event("$default", inbox.connection_id, body=body),
                                    None)
        assert answer == {"statusCode": 200}

    assert inbox.frames == [{"event": "pong"}]


def test_a_ping_from_a_gone_connection_forgets_it(connect, personas, websocket) -> None:
    _, inbox = connect(personas["agent"].token)
    websocket.unregister(inbox.connection_id)

    websocket.realtime(route_event("$default", inbox.connection_id, body='{"action":"ping"}'),
                       None)

    assert _stored() == []
    assert isinstance(inbox, Inbox) and inbox.frames == []
