"""The team through the API: invitations and first sign-in, adding existing users, editing,
deactivating, the last owner, each member's status and the brand's isolation switch."""

from __future__ import annotations

import pytest

from tests.api.conftest import PAGE_A, PAGE_B, PASSWORD, make_conversation, make_page, make_user

TEMPORARY = "Temporary-Pass-1"
NEW_PASSWORD = "Brand-New-Pass-2"


def cognito_user(email: str) -> dict:
    from inbox import aws, settings

    return aws.client("cognito-idp").admin_get_user(
        UserPoolId=settings.settings.user_pool_id, Username=email)


def set_temporary_password(email: str) -> None:
    # Cognito emails the invited person a temporary password; the test sets one it knows,
    # which keeps the user in FORCE_CHANGE_PASSWORD as the email's would.
    from inbox import aws, settings

    aws.client("cognito-idp").admin_set_user_password(
        UserPoolId=settings.settings.user_pool_id, Username=email, Password=TEMPORARY,
        Permanent=False)


@pytest.fixture
def pages(stack):
    make_page(PAGE_A, "Shop A")
    make_page(PAGE_B, "Shop B")
    return [PAGE_A, PAGE_B]


def invite(api, token, email="new.agent@brand.example", **fields):
    body = {"email": email, "role": "agent", **fields}
    return api("POST", "/api/members", token=token, body=body)


# Invitation and first sign-in --------------------------------------------------------------

def test_an_invitation_creates_the_user_and_a_member_keyed_by_its_sub(api, team, pages):
    answer = invite(api, team["owner"].token, name="New Agent", page_ids=[PAGE_A],
                    reception_limit=3)

    assert answer.status == 200, answer.body
    user = cognito_user("new.agent@brand.example")
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert answer.body["id"] == sub
    assert (answer.body["role"], answer.body["page_ids"]) == ("agent", [PAGE_A])
    assert (answer.body["reception_limit"], answer.body["status"]) == (3, "offline")


def test_the_first_sign_in_must_set_a_new_password(api, team, pages):
    invited = invite(api, team["owner"].token).body
    set_temporary_password("new.agent@brand.example")

    first = api("POST", "/api/auth/login",
                body={"email": "new.agent@brand.example", "password": TEMPORARY})
    assert (first.status, first.body["code"]) == (403, "password_change_required")
    assert first.body["challenge"] == "NEW_PASSWORD_REQUIRED"
    assert first.body["session"]

    answer = api("POST", "/api/auth/new-password",
                 body={"email": "new.agent@brand.example", "session": first.body["session"],
                       "new_password": NEW_PASSWORD})
    assert answer.status == 200, answer.body
    me = api("GET", "/api/members/me", token=answer.body["access_token"])
    assert (me.status, me.body["id"]) == (200, invited["id"])
    again = api("POST", "/api/auth/login",
                body={"email": "new.agent@brand.example", "password": NEW_PASSWORD})
    assert again.status == 200


def test_a_new_password_with_a_wrong_session_is_refused(api, team, pages):
    invite(api, team["owner"].token)
    set_temporary_password("new.agent@brand.example")

    answer = api("POST", "/api/auth/new-password",
                 body={"email": "new.agent@brand.example", "session": "x" * 40,
                       "new_password": NEW_PASSWORD})

    assert (answer.status, answer.body["code"]) == (401, "challenge_expired")


def test_inviting_an_email_the_pool_knows_points_to_adding_an_existing_user(api, team, pages):
    make_user("known@brand.example")

    invited = invite(api, team["owner"].token, email="known@brand.example")
    added = invite(api, team["owner"].token, email="known@brand.example", existing_user=True)
    twice = invite(api, team["owner"].token, email="known@brand.example", existing_user=True)

    assert (invited.status, invited.body["code"]) == (409, "user_exists")
    assert (added.status, added.body["email"]) == (200, "known@brand.example")
    assert (twice.status, twice.body["code"]) == (409, "member_exists")


def test_adding_an_unknown_user_is_not_found(api, team, pages):
    answer = invite(api, team["owner"].token, email="ghost@brand.example", existing_user=True)

    assert (answer.status, answer.body["code"]) == (404, "unknown_user")


def test_an_invitation_to_an_unknown_page_is_refused(api, team, pages):
    answer = invite(api, team["owner"].token, page_ids=["999"])

    assert (answer.status, answer.body["code"]) == (422, "invalid_input")
    assert answer.body["values"] == ["999"]


# Who manages whom ----------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["supervisor", "agent"])
def test_only_owners_and_admins_manage_the_team(api, team, pages, persona):
    token = team[persona].token
    target = team["other_agent"].member_id

    refused = [
        invite(api, token),
        api("PATCH", f"/api/members/{target}", token=token, body={"reception_limit": 1}),
        api("DELETE", f"/api/members/{target}", token=token),
        api("PUT", "/api/settings", token=token, body={"isolation": False}),
    ]

    assert [(a.status, a.body["code"]) for a in refused] == [(403, "forbidden")] * 4


def test_an_admin_cannot_make_or_edit_an_owner(api, team, pages):
    token = team["admin"].token
    owner = team["owner"].member_id

    made = invite(api, token, role="owner")
    promoted = api("PATCH", f"/api/members/{team['agent'].member_id}", token=token,
                   body={"role": "owner"})
    edited = api("PATCH", f"/api/members/{owner}", token=token, body={"name": "Renamed"})
    removed = api("DELETE", f"/api/members/{owner}", token=token)

    assert [a.status for a in (made, promoted, edited, removed)] == [403] * 4


def test_an_owner_may_make_an_owner(api, team, pages):
    answer = api("PATCH", f"/api/members/{team['admin'].member_id}", token=team["owner"].token,
                 body={"role": "owner"})

    assert (answer.status, answer.body["role"]) == (200, "owner")


def test_the_last_owner_can_be_neither_demoted_nor_deactivated(api, team, pages):
    owner = team["owner"]

    demoted = api("PATCH", f"/api/members/{owner.member_id}", token=owner.token,
                  body={"role": "admin"})
    removed = api("DELETE", f"/api/members/{owner.member_id}", token=owner.token)

    assert (demoted.status, demoted.body["code"]) == (409, "last_owner")
    assert (removed.status, removed.body["code"]) == (409, "last_owner")
    assert api("GET", "/api/members/me", token=owner.token).body["role"] == "owner"


def test_with_a_second_owner_the_first_may_step_down(api, team, pages):
    owner = team["owner"]
    api("PATCH", f"/api/members/{team['admin'].member_id}", token=owner.token,
        body={"role": "owner"})

    answer = api("PATCH", f"/api/members/{owner.member_id}", token=owner.token,
                 body={"role": "admin"})

    assert (answer.status, answer.body["role"]) == (200, "admin")


def test_two_owners_cannot_both_step_down(api, team, pages):
    # The second demotion finds the first done: the guard is re-checked in its transaction.
    owner, second = team["owner"], team["admin"]
    api("PATCH", f"/api/members/{second.member_id}", token=owner.token, body={"role": "owner"})

    first = api("PATCH", f"/api/members/{second.member_id}", token=owner.token,
                body={"role": "agent"})
    last = api("PATCH", f"/api/members/{owner.member_id}", token=owner.token,
               body={"role": "agent"})

    assert first.status == 200
    assert (last.status, last.body["code"]) == (409, "last_owner")


# Editing -------------------------------------------------------------------------------------

def test_editing_role_limit_and_pages(api, team, pages):
    target = team["agent"].member_id

    answer = api("PATCH", f"/api/members/{target}", token=team["admin"].token,
                 body={"role": "supervisor", "reception_limit": 0, "page_ids": [PAGE_B]})
    every_page = api("PATCH", f"/api/members/{target}", token=team["admin"].token,
                     body={"page_ids": []})

    assert answer.status == 200, answer.body
    assert (answer.body["role"], answer.body["reception_limit"]) == ("supervisor", 0)
    assert answer.body["page_ids"] == [PAGE_B]
    assert every_page.body["page_ids"] == []


def go_offline(api, team, *names):
    for name in names:
        api("PUT", "/api/members/me/status", token=team[name].token, body={"status": "offline"})


def queued_conversation(conversation_id: str, page_id: str = PAGE_A):
    # In the page's routing queue, as ingestion leaves a conversation nobody could take.
    from inbox.models import routing_queue_key, routing_queue_sort_key

    return make_conversation(conversation_id, page_id=page_id, gsi2pk=routing_queue_key(page_id),
                             gsi2sk=routing_queue_sort_key(1, conversation_id))


def test_a_raised_limit_drains_the_queue(api, team, pages):
    agent = team["agent"]
    go_offline(api, team, "supervisor", "other_agent", "owner", "admin")
    api("PATCH", f"/api/members/{agent.member_id}", token=team["owner"].token,
        body={"reception_limit": 0})
    queued_conversation("waiting")

    api("PATCH", f"/api/members/{agent.member_id}", token=team["owner"].token,
        body={"reception_limit": 2})

    detail = api("GET", "/api/conversations/waiting", token=team["owner"].token).body
    assert (detail["status"], detail["assignee_id"]) == ("assigned", agent.member_id)


# Deactivation --------------------------------------------------------------------------------

def test_deactivation_returns_open_conversations_to_the_queue_and_refuses_the_member(
        api, team, pages):
    agent = team["agent"]
    go_offline(api, team, "supervisor", "other_agent", "owner", "admin")
    queued_conversation("held")
    picked = api("POST", "/api/conversations/held/pick-up", token=agent.token)
    assert (picked.status, picked.body["assignee_id"]) == (200, agent.member_id)

    answer = api("DELETE", f"/api/members/{agent.member_id}", token=team["owner"].token)

    assert (answer.status, answer.body["active"]) == (200, False)
    held = api("GET", "/api/conversations/held", token=team["owner"].token).body
    assert (held["status"], held["assignee_id"]) == ("unassigned", None)
    assert api("GET", "/api/pages", token=agent.token).status == 403
    login = api("POST", "/api/auth/login", body={"email": agent.email, "password": PASSWORD})
    assert login.status == 401
    kinds = [e["kind"] for e in api("GET", "/api/conversations/held/timeline",
                                    token=team["owner"].token).body["items"]]
    assert kinds == ["picked_up", "returned"]


def test_a_deactivated_member_comes_back_as_an_existing_user(api, team, pages):
    agent = team["agent"]
    api("DELETE", f"/api/members/{agent.member_id}", token=team["owner"].token)

    answer = invite(api, team["owner"].token, email=agent.email, existing_user=True,
                    role="supervisor")

    assert (answer.status, answer.body["active"], answer.body["role"]) == (200, True,
                                                                           "supervisor")
    login = api("POST", "/api/auth/login", body={"email": agent.email, "password": PASSWORD})
    assert login.status == 200


# Status and settings -------------------------------------------------------------------------

def test_members_set_their_own_status(api, team, pages):
    answer = api("PUT", "/api/members/me/status", token=team["agent"].token,
                 body={"status": "away"})
    wrong = api("PUT", "/api/members/me/status", token=team["agent"].token,
                body={"status": "busy"})

    assert (answer.status, answer.body["status"]) == (200, "away")
    assert wrong.status == 422


def test_members_choose_their_own_language_kept_with_them(api, team, pages):
    chosen = api("PUT", "/api/members/me/language", token=team["agent"].token,
                 body={"language": "zh-CN"})
    unknown = api("PUT", "/api/members/me/language", token=team["agent"].token,
                  body={"language": "fr"})
    me = api("GET", "/api/members/me", token=team["agent"].token)
    other = api("GET", "/api/members/me", token=team["other_agent"].token)

    assert (chosen.status, chosen.body["language"]) == (200, "zh-CN")
    assert unknown.status == 422
    assert (me.body["language"], other.body["language"]) == ("zh-CN", None)


def test_everyone_sees_the_team(api, team, pages):
    answer = api("GET", "/api/members", token=team["agent"].token)

    assert answer.status == 200
    assert {m["id"] for m in answer.body["items"]} == {p.member_id for p in team.values()}


def test_isolation_off_shows_agents_each_others_conversations(api, team, pages):
    make_conversation("theirs", page_id=PAGE_A, status="assigned",
                      assignee_id=team["other_agent"].member_id)
    agent = team["agent"].token

    hidden = api("GET", "/api/conversations/theirs", token=agent)
    default = api("GET", "/api/settings", token=agent)
    turned = api("PUT", "/api/settings", token=team["admin"].token, body={"isolation": False})
    shown = api("GET", "/api/conversations/theirs", token=agent)

    assert hidden.status == 404
    assert default.body["isolation"] is True
    assert (turned.status, turned.body["isolation"]) == (200, False)
    assert shown.status == 200
