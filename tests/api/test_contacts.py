"""Editing a contact (PATCH /api/contacts/{id}): fields, the tag and phone filters kept in
step, who may edit, and what is refused."""

from __future__ import annotations

import pytest

from tests.api.conftest import PAGE_A, make_contact, make_conversation, make_page


@pytest.fixture
def published(monkeypatch):
    from inbox import publish

    events = []
    monkeypatch.setattr(publish, "put_events", lambda batch: events.extend(batch))
    return events


@pytest.fixture
def people(personas):
    """Contact k1 reachable by the agent (queued conversation); k2 only through a
    conversation another agent holds (isolation on: the agent may not see it)."""
    make_page(PAGE_A, "Shop A")
    other = personas["other_agent"].member_id
    make_conversation("c1", status="unassigned", contact_id="k1")
    make_conversation("c2", status="assigned", assignee_id=other, contact_id="k2")
    make_contact("k1", conversation_ids={"c1"}, tags={"vip"})
    make_contact("k2", conversation_ids={"c2"})
    return personas


def listed(api, token, **query):
    answer = api("GET", "/api/conversations", token=token, query=query)
    assert answer.status == 200, answer.body
    return [item["id"] for item in answer.body["items"]]


def test_an_agent_sets_email_phone_notes_and_tags_and_the_filters_follow(api, people,
                                                                         published):
    token = people["agent"].token

    answer = api("PATCH", "/api/contacts/k1", token=token, body={
        "email": " alex@example.com ", "phone": "+351 912-345-678",
        "notes": "Prefers mornings.", "tags": ["returning", "Late payer", "late payer"]})

    assert answer.status == 200, answer.body
    assert (answer.body["email"], answer.body["phone"], answer.body["notes"]) == (
        "alex@example.com", "+351 912-345-678", "Prefers mornings.")
    assert answer.body["tags"] == ["Late payer", "returning"]
    assert listed(api, token, contact_tag="returning") == ["c1"]
    assert listed(api, token, contact_tag="vip") == []
    assert listed(api, token, phone="+351912345678") == ["c1"]
    assert [(e.name, e.detail) for e in published] == [
        ("contact.updated", {"contact_id": "k1", "page_id": PAGE_A,
                             "fields": ["email", "notes", "phone", "tags"]})]


def test_the_tag_filter_ignores_case_as_the_tags_do(api, people):
    token = people["owner"].token

    answer = api("PATCH", "/api/contacts/k1", token=token, body={"tags": ["VIP", "vip"]})

    assert answer.body["tags"] == ["VIP"]
    assert listed(api, token, contact_tag="vip") == ["c1"]
    assert listed(api, token, contact_tag="VIP") == ["c1"]
    assert listed(api, token, contact_tag="Vip") == ["c1"]


def test_a_tag_removed_in_another_case_leaves_the_filter(api, people):
    token = people["owner"].token
    api("PATCH", "/api/contacts/k1", token=token, body={"tags": ["Gold"]})

    api("PATCH", "/api/contacts/k1", token=token, body={"tags": []})

    assert listed(api, token, contact_tag="gold") == []


def test_the_phone_filter_matches_the_digits_with_or_without_plus(api, people):
    token = people["owner"].token

    api("PATCH", "/api/contacts/k1", token=token, body={"phone": "+33 6 12 34 56 78"})

    assert listed(api, token, phone="33612345678") == ["c1"]
    assert listed(api, token, phone="+33612345678") == ["c1"]
    assert listed(api, token, phone="+33 (6) 12-34-56-78") == ["c1"]


def test_only_the_fields_sent_change_and_empty_clears(api, people):
    token = people["agent"].token
    api("PATCH", "/api/contacts/k1", token=token,
        body={"email": "alex@example.com", "phone": "0912 345 678"})

    answer = api("PATCH", "/api/contacts/k1", token=token, body={"phone": "", "notes": "Hi"})

    assert (answer.body["email"], answer.body["phone"], answer.body["notes"]) == (
        "alex@example.com", None, "Hi")
    assert answer.body["tags"] == ["vip"]
    assert listed(api, people["owner"].token, phone="0912345678") == []


def test_an_empty_tag_list_clears_the_tags_and_their_filter(api, people):
    answer = api("PATCH", "/api/contacts/k1", token=people["owner"].token, body={"tags": []})

    assert answer.body["tags"] == []
    assert listed(api, people["owner"].token, contact_tag="vip") == []


def test_a_contact_the_agent_may_not_see_is_not_found_and_unchanged(api, people, published):
    answer = api("PATCH", "/api/contacts/k2", token=people["agent"].token,
                 body={"notes": "not mine"})

    assert answer.status == 404
    assert api("GET", "/api/contacts/k2", token=people["owner"].token).body["notes"] is None
    assert published == []


@pytest.mark.parametrize("body", [
    {"email": "not an email"},
    {"phone": "call me"},
    {"tags": ["x" * 51]},
    {"tags": [f"t{n}" for n in range(21)]},
    {"notes": "n" * 4001},
])
def test_bad_values_are_refused(api, people, body):
    answer = api("PATCH", "/api/contacts/k1", token=people["agent"].token, body=body)

    assert answer.status == 422, answer.body
    assert api("GET", "/api/contacts/k1", token=people["owner"].token).body["tags"] == ["vip"]


def test_a_tag_change_that_loses_a_race_reads_again_and_leaves_no_stale_tag(api, people,
                                                                           monkeypatch):
    """Another member's tag change lands between this one's read and its write."""
    from inbox.actions import contacts
    from inbox.models import CONTACT_SK, Contact, ContactTag, contact_pk

    real_try = contacts._try_write
    raced = []

    def racing_try(contact, given, tags, phone):
        if not raced:
            raced.append(True)
            rival = Contact.get(contact_pk("k1"), CONTACT_SK)
            rival.update(actions=[Contact.tags.set({"vip", "rival"})])
            ContactTag("TAG#rival", "k1", tag="rival", contact_id="k1").save()
        return real_try(contact, given, tags, phone)

    monkeypatch.setattr(contacts, "_try_write", racing_try)
    answer = api("PATCH", "/api/contacts/k1", token=people["owner"].token,
                 body={"tags": ["new"]})

    assert answer.body["tags"] == ["new"]
    assert listed(api, people["owner"].token, contact_tag="rival") == []
    assert listed(api, people["owner"].token, contact_tag="new") == ["c1"]
