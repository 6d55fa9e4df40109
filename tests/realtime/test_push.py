"""Domain events from the bus pushed to exactly the members allowed to see them.

Each test opens connections through `$connect`, hands the function an event as the bus's rule
delivers it, and reads what each client received through the management API.
"""

from __future__ import annotations

from tests.realtime.conftest import PAGE_A, PAGE_B, bus_event, make_conversation

CONVERSATION = f"m{PAGE_A}_2000000000000001"


def _message_created(conversation_id: str = CONVERSATION, page_id: str = PAGE_A) -> dict:
    return bus_event("message.created", conversation_id=conversation_id, page_id=page_id,
                     message_id="1767225600000#m_1", direction="in", type="text",
                     created_at=1767225600000)


def test_a_message_reaches_the_owner_and_its_assignee_and_not_another_agent(
    connect, personas, websocket
) -> None:
    make_conversation(CONVERSATION, status="assigned", assignee_id=personas["agent"].member_id)
    _, owner = connect(personas["owner"].token)
    _, agent = connect(personas["agent"].token)
    _, other = connect(personas["other_agent"].token)
    _, agent_b = connect(personas["agent_b"].token)

    websocket.realtime(_message_created(), None)

    expected = {"seq": 1, "event": "message.created", "conversation_id": CONVERSATION,
                "data": {"page_id": PAGE_A, "message_id": "1767225600000#m_1",
                         "direction": "in", "type": "text", "created_at": 1767225600000}}
    assert owner.frames == [expected]
    assert agent.frames == [expected]
    assert other.frames == []
    assert agent_b.frames == []


def test_with_isolation_off_every_agent_of_the_page_gets_it(connect, personas,
                                                          websocket) -> None:
    from inbox.models import BRAND_PK, SETTINGS_SK, BrandSettings

    BrandSettings(BRAND_PK, SETTINGS_SK, isolation=False).save()
    make_conversation(CONVERSATION, status="assigned", assignee_id=personas["agent"].member_id)
    _, other = connect(personas["other_agent"].token)
    _, agent_b = connect(personas["agent_b"].token)

    websocket.realtime(_message_created(), None)

    assert other.events() == ["message.created"]
    assert agent_b.frames == []


def test_an_unassigned_conversation_reaches_every_agent_of_its_page(connect, personas,
                                                                   websocket) -> None:
    make_conversation(CONVERSATION, status="unassigned")
    _, agent = connect(personas["agent"].token)
    _, other = connect(personas["other_agent"].token)
    _, agent_b = connect(personas["agent_b"].token)

    websocket.realtime(bus_event("conversation.created", conversation_id=CONVERSATION,
                                 page_id=PAGE_A, channel="messenger", status="unassigned",
                                 contact_id=f"{PAGE_A}_2000000000000001"), None)

    assert agent.events() == other.events() == ["conversation.created"]
    assert agent_b.frames == []


def test_every_connection_of_a_member_gets_it(connect, personas, websocket) -> None:
    make_conversation(CONVERSATION, status="assigned", assignee_id=personas["agent"].member_id)
    _, laptop = connect(personas["agent"].token)
    _, phone = connect(personas["agent"].token)

    websocket.realtime(_message_created(), None)

    assert laptop.events() == phone.events() == ["message.created"]


def test_seq_grows_by_one_per_frame_on_each_connection(connect, personas, websocket) -> None:
    make_conversation(CONVERSATION, status="assigned", assignee_id=personas["agent"].member_id)
    other_conversation = f"m{PAGE_B}_2000000000000002"
    make_conversation(other_conversation, page_id=PAGE_B, status="unassigned")
    _, owner = connect(personas["owner"].token)
    _, agent = connect(personas["agent"].token)

    websocket.realtime(_message_created(), None)
    # The agent may not see page B: the owner's seq moves on, the agent's does not.
    websocket.realtime(_message_created(other_conversation, PAGE_B), None)
    websocket.realtime(_message_created(), None)
    _, late = connect(personas["owner"].token)
    websocket.realtime(_message_created(), None)

    assert [f["seq"] for f in owner.frames] == [1, 2, 3, 4]
    assert [f["seq"] for f in agent.frames] == [1, 2, 3]
    assert [f["seq"] for f in late.frames] == [1]


def test_a_gone_connection_is_removed_on_its_first_failed_push_and_others_get_theirs(
    connect, personas, websocket
) -> None:
    from inbox.models import CONNECTIONS_PK, Connection

    make_conversation(CONVERSATION, status="assigned", assignee_id=personas["agent"].member_id)
    _, owner = connect(personas["owner"].token)
    _, gone = connect(personas["agent"].token)
    _, agent = connect(personas["agent"].token)
    # Closed at API Gateway without a $disconnect (it is best effort): it answers 410 now.
    websocket.unregister(gone.connection_id)

    websocket.realtime(_message_created(), None)

    remaining = {c.connection_id for c in Connection.query(CONNECTIONS_PK)}
    assert remaining == {owner.connection_id, agent.connection_id}
    assert owner.events() == agent.events() == ["message.created"]
    assert gone.frames == []


def test_a_transfer_reaches_both_agents_and_carries_no_note(connect, personas,
                                                           websocket) -> None:
    giver, taker = personas["agent"].member_id, personas["other_agent"].member_id
    make_conversation(CONVERSATION, status="assigned", assignee_id=taker)
    _, agent = connect(personas["agent"].token)
    _, other = connect(personas["other_agent"].token)
    _, agent_b = connect(personas["agent_b"].token)

    websocket.realtime(bus_event("conversation.transferred", conversation_id=CONVERSATION,
                                 page_id=PAGE_A, kind="transferred", actor=giver,
                                 from_member_id=giver, to_member_id=taker,
                                 note="customer is angry about order 1234", forced=False,
                                 at=1767225600000), None)

    # The giver no longer sees it, but is told once so that their inbox drops it.
    assert agent.events() == other.events() == ["conversation.transferred"]
    assert "note" not in agent.frames[0]["data"]
    assert agent.frames[0]["data"]["to_member_id"] == taker
    assert agent_b.frames == []


def test_a_member_status_goes_to_owners_and_the_member_concerned(connect, personas,
                                                                 websocket) -> None:
    _, owner = connect(personas["owner"].token)
    _, agent = connect(personas["agent"].token)
    _, other = connect(personas["other_agent"].token)

    websocket.realtime(bus_event("member.status_changed", member_id=personas["agent"].member_id,
                                 status="online", previous="offline", at=1), None)

    assert owner.events() == agent.events() == ["member.status_changed"]
    assert other.frames == []


def test_a_page_event_goes_to_the_members_allowed_on_the_page(connect, personas,
                                                              websocket) -> None:
    _, owner = connect(personas["owner"].token)
    _, agent = connect(personas["agent"].token)
    _, agent_b = connect(personas["agent_b"].token)

    websocket.realtime(bus_event("page.reconnect_needed", page_id=PAGE_B, graph_code=190), None)

    assert owner.events() == agent_b.events() == ["page.reconnect_needed"]
    assert agent.frames == []


def test_a_deactivated_member_gets_nothing_more(connect, personas, websocket) -> None:
    from inbox.models import MEMBERS_PK, Member

    make_conversation(CONVERSATION, status="unassigned")
    _, agent = connect(personas["agent"].token)
    Member.get(MEMBERS_PK, personas["agent"].member_id).update(
        actions=[Member.active.set(False)])

    websocket.realtime(_message_created(), None)

    assert agent.frames == []


def test_an_event_with_no_connection_open_reads_nothing_else(personas, websocket) -> None:
    from inbox.actions import realtime

    outcome = realtime.do_push_event("message.created", {"conversation_id": CONVERSATION})

    assert (outcome.connections, outcome.recipients, outcome.posted) == (0, 0, 0)


def test_an_erased_contact_is_told_to_those_who_saw_its_whole_page(connect, personas,
                                                                   websocket) -> None:
    _, owner = connect(personas["owner"].token)
    _, agent = connect(personas["agent"].token)
    _, agent_b = connect(personas["agent_b"].token)

    # The contact and its conversation are gone already when the event is pushed.
    websocket.realtime(bus_event("contact.erased", contact_id=f"{PAGE_A}_2000000000000001",
                                 page_id=PAGE_A, conversation_ids=[CONVERSATION]), None)

    assert owner.events() == ["contact.erased"]
    assert owner.frames[0]["data"]["conversation_ids"] == [CONVERSATION]
    # With isolation on, agents cannot be told apart from who never saw it: they refetch.
    assert agent.frames == agent_b.frames == []
