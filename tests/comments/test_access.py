"""Who may act on a comment: a conversation the member cannot see, or a comment outside the
conversation named, is missing (404), and Facebook is never called."""

from __future__ import annotations

import pytest

from tests.api.conftest import PAGE_A
from tests.comments.helpers import ALEX_PSID, comment, conversation_of, deliver, outsider

ACTIONS = [
    ("POST", "reply", {"text": "Hello"}),
    ("POST", "private-reply", {"text": "Hello"}),
    ("PUT", "like", None),
    ("DELETE", "like", None),
    ("PUT", "hidden", None),
    ("DELETE", "hidden", None),
    ("DELETE", "", None),
]


def _call(api, token, conversation_id, comment_id, method, action, body):
    path = f"/api/conversations/{conversation_id}/comments/{comment_id}"
    return api(method, f"{path}/{action}" if action else path, token=token, body=body)


@pytest.mark.parametrize(("method", "action", "body"), ACTIONS)
def test_a_member_who_cannot_see_the_conversation_gets_404_and_no_graph_call(
        api, stack, facebook, page_a, method, action, body):
    comment_id = comment(stack, facebook)
    stranger = outsider(stack)

    answer = _call(api, stranger.token, conversation_of(), comment_id, method, action, body)

    assert (answer.status, answer.body["code"]) == (404, "not_found")
    assert facebook.calls == []


@pytest.mark.parametrize(("method", "action", "body"), ACTIONS)
def test_a_comment_of_another_conversation_is_missing_here(api, stack, facebook, page_a,
                                                           personas, method, action, body):
    alex_comment = comment(stack, facebook)
    comment(stack, facebook, person="2500000000000002", text="And a white one?")

    answer = _call(api, personas["owner"].token, conversation_of("2500000000000002"),
                   alex_comment, method, action, body)

    assert (answer.status, answer.body["code"]) == (404, "not_found")
    assert facebook.calls == []


def test_a_messenger_conversation_has_no_comments(api, stack, facebook, page_a, personas):
    comment_id = comment(stack, facebook)
    deliver(stack, facebook.message_body(page_id=PAGE_A, psid=ALEX_PSID, text="Hello"))
    facebook.reset_calls()

    answer = _call(api, personas["owner"].token, f"m{PAGE_A}_{ALEX_PSID}", comment_id,
                   "PUT", "like", None)

    assert answer.status == 404
    assert facebook.calls == []


def test_an_agent_on_the_page_may_act_on_a_queued_comment(api, stack, facebook, page_a,
                                                          personas):
    from inbox.models import Conversation

    comment_id = comment(stack, facebook)
    # Queued for anyone on the page, whatever routing did with it on arrival.
    conversation = Conversation.get(f"CONV#{conversation_of()}", "CONV")
    conversation.update(actions=[Conversation.status.set("unassigned"),
                                 Conversation.assignee_id.remove()])

    answer = _call(api, personas["agent"].token, conversation_of(), comment_id, "PUT", "like",
                   None)

    assert (answer.status, answer.body["liked_by_page"]) == (200, True)


def test_a_malformed_comment_id_is_refused_by_validation(api, stack, facebook, page_a,
                                                         personas):
    answer = _call(api, personas["owner"].token, conversation_of(), "not-a-comment", "PUT",
                   "like", None)

    assert answer.status == 422
    assert facebook.calls == []


def test_every_comment_route_is_in_the_openapi_document(api):
    paths = api("GET", "/api/openapi.json").body["paths"]
    base = "/api/conversations/{conversation_id}/comments/{comment_id}"

    assert set(paths[base + "/reply"]) == {"post"}
    assert set(paths[base + "/private-reply"]) == {"post"}
    assert set(paths[base + "/like"]) == {"put", "delete"}
    assert set(paths[base + "/hidden"]) == {"put", "delete"}
    assert set(paths[base]) == {"delete"}
    reply = paths[base + "/reply"]["post"]
    schema = reply["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/CommentReplyRequest"}


def test_an_agent_gets_404_for_a_comment_conversation_another_agent_holds(
        api, stack, facebook, page_a, personas):
    from inbox.models import Conversation

    comment_id = comment(stack, facebook)
    conversation = Conversation.get(f"CONV#{conversation_of()}", "CONV")
    # Isolation (on by default): an agent sees only the conversations they hold.
    conversation.update(actions=[Conversation.status.set("assigned"),
                                 Conversation.assignee_id.set(
                                     personas["other_agent"].member_id)])
    facebook.reset_calls()

    answer = _call(api, personas["agent"].token, conversation_of(), comment_id, "DELETE", "",
                   None)

    assert answer.status == 404
    assert facebook.calls == []


def test_the_post_of_a_comment_conversation_is_read_from_facebook(api, stack, facebook,
                                                                   page_a, personas):
    from tests.comments.helpers import POST

    comment(stack, facebook)
    facebook.reset_calls()

    answer = api("GET", f"/api/conversations/{conversation_of()}/post",
                 token=personas["supervisor"].token)

    assert answer.status == 200, answer.body
    assert answer.body["id"] == POST
    assert answer.body["message"].startswith("New in at Demo Shop")
    assert answer.body["permalink_url"] == (
        f"https://www.facebook.com/{PAGE_A}/posts/{POST.split('_')[1]}")
    assert answer.body["picture_url"]
    ((method, path, query),) = [(c["method"], c["path"], c.get("query"))
                                for c in facebook.calls]
    assert (method, path) == ("GET", f"/{POST}")
    assert query["fields"] == "message,created_time,permalink_url,full_picture"


def test_no_post_for_one_who_cannot_see_the_conversation_nor_for_messenger(
        api, stack, facebook, page_a, personas):
    comment(stack, facebook)
    deliver(stack, {"object": "page", "entry": [{"id": PAGE_A, "time": 1, "messaging": [{
        "sender": {"id": ALEX_PSID}, "recipient": {"id": PAGE_A}, "timestamp": 1,
        "message": {"mid": "m_post_test", "text": "hi"}}]}]})
    facebook.reset_calls()
    stranger = outsider(stack)

    hidden = api("GET", f"/api/conversations/{conversation_of()}/post", token=stranger.token)
    messenger = api("GET", f"/api/conversations/m{PAGE_A}_{ALEX_PSID}/post",
                    token=personas["owner"].token)

    assert (hidden.status, messenger.status) == (404, 404)
    assert facebook.calls == []
