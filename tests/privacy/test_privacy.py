"""A person's data: erased by a member or by Facebook's deletion callback, and exported."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from tests.conftest import APP_SECRET, PAGE_A
from tests.ingest.helpers import LambdaContext, load_function
from tests.media.helpers import drain_media, ingest, sandbox_sample

KIM = "2500000000000003"  # commenter with a photo (sample 33): app-scoped id
ROBIN = "2000000000000002"  # Messenger contact with an image (sample 05): page-scoped id
ALEX = "2000000000000001"  # Messenger contact with text only (sample 01)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def world(pages: list[str], sandbox: Any, aws: dict[str, str],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from inbox import settings

    monkeypatch.setenv("MEDIA_ALLOWED_HOSTS", "127.0.0.1")
    settings.reload_settings()
    for name in ("01-text-plain.json", "05-attachment-image.json", "31-comment-add.json",
                 "33-comment-photo.json"):
        ingest(aws, sandbox_sample(name, sandbox))
    drain_media(aws)
    yield aws


def member(role: str) -> Any:
    from inbox.models import MEMBERS_PK, Member, utcnow

    return Member(MEMBERS_PK, f"{role}-1", member_id=f"{role}-1", email=f"{role}@example.com",
                  name=role.title(), role=role, created_at=utcnow())


def table_dump() -> list[str]:
    """Every item of the table, each as its JSON text."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    from inbox.models import Contact

    items: list[str] = []
    for page in client.get_paginator("scan").paginate(TableName=Contact.Meta.table_name):
        items.extend(json.dumps(item, sort_keys=True) for item in page["Items"])
    return items


def bucket_keys(env: dict[str, str]) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    versions = s3.list_object_versions(Bucket=env["MEDIA_BUCKET"])
    return [v["Key"] for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])]


def traces(person: str, items: list[str]) -> list[str]:
    return [item for item in items if person in item]


def signed_request(payload: dict[str, Any], secret: str = APP_SECRET) -> str:
    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    body = encode(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{encode(signature)}.{body}"


def http_event(method: str, path: str, body: str = "") -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "requestContext": {"http": {"method": method, "path": path},
                           "domainName": "inbox.example.com"},
        "body": body,
        "isBase64Encoded": False,
    }


def call_privacy(method: str, path: str, body: str = "") -> tuple[int, dict[str, Any]]:
    answer = load_function("privacy").handler(http_event(method, path, body), LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def test_erasing_a_contact_leaves_nothing_of_them_behind(world: dict[str, str]) -> None:
    from inbox.actions.privacy import check_erase_contact
    from inbox.publish import EventOutbox

    contact_id = f"m{PAGE_A}_{ROBIN}"
    before = table_dump()
    assert traces(ROBIN, before) and traces("m_SAMPLE-0005", before)
    assert any(ROBIN in key for key in bucket_keys(world))
    outbox = EventOutbox()

    erased = check_erase_contact(member("admin"), contact_id, outbox=outbox)

    after = table_dump()
    assert traces(ROBIN, after) == []
    assert traces("m_SAMPLE-0005", after) == []
    assert [k for k in bucket_keys(world) if ROBIN in k] == []
    assert (erased.contacts, erased.conversations, erased.media_objects) == (1, 1, 1)
    assert [e.name for e in outbox.events] == ["contact.erased"]
    # The other people keep everything.
    assert traces(ALEX, after) == traces(ALEX, before)
    assert traces(KIM, after) == traces(KIM, before)
    assert any(KIM in key or "400000000000003" in key for key in bucket_keys(world))


def test_an_agent_may_not_erase_a_contact(world: dict[str, str]) -> None:
    from inbox.actions.privacy import check_erase_contact
    from inbox.errors import Forbidden
    from inbox.publish import EventOutbox

    before = table_dump()
    with pytest.raises(Forbidden):
        check_erase_contact(member("agent"), f"m{PAGE_A}_{ROBIN}", outbox=EventOutbox())

    assert table_dump() == before


def test_facebooks_deletion_callback_erases_the_person_and_reports_it(
    world: dict[str, str]
) -> None:
    request = signed_request({"algorithm": "HMAC-SHA256", "expires": 1767800000,
                              "issued_at": 1767790000, "user_id": KIM})
    before_others = traces(ALEX, table_dump())

    status, answer = call_privacy("POST", "/webhooks/facebook/data-deletion",
                                  urlencode({"signed_request": request}))

    assert status == 200
    code = answer["confirmation_code"]
    assert answer["url"] == f"https://inbox.example.com/webhooks/facebook/data-deletion/{code}"
    items = table_dump()
    assert traces(KIM, items) == []
    assert traces("300000000000001_400000000000003", items) == []
    assert [k for k in bucket_keys(world) if "2500000000000003" in k] == []
    assert traces(ALEX, items) == before_others

    status, page = call_privacy("GET", f"/webhooks/facebook/data-deletion/{code}")
    assert status == 200
    assert (page["status"], page["contacts_erased"], page["conversations_erased"]) == (
        "done", 1, 1)
    # The status record names nobody.
    assert traces(KIM, [json.dumps(page)]) == []


def _request_deletion(app_scoped_id: str) -> dict[str, Any]:
    request = signed_request({"algorithm": "HMAC-SHA256", "user_id": app_scoped_id})
    status, answer = call_privacy("POST", "/webhooks/facebook/data-deletion",
                                  urlencode({"signed_request": request}))
    assert status == 200, answer
    status, page = call_privacy("GET",
                                f"/webhooks/facebook/data-deletion/{answer['confirmation_code']}")
    assert status == 200, page
    return page


def test_the_deletion_callback_finds_the_persons_messenger_contacts_by_id_matching(
    world: dict[str, str], sandbox: Any
) -> None:
    robin_app_scoped = sandbox.person(ROBIN).commenter_id
    before_others = traces(ALEX, table_dump())

    page = _request_deletion(robin_app_scoped)

    # Facebook named Robin's PSID on each page; the inbox held one Messenger contact.
    (call,) = [c for c in sandbox.calls if c["path"].endswith("/ids_for_pages")]
    assert call["path"] == f"/{robin_app_scoped}/ids_for_pages"
    assert (call["method"], call["appsecret_proof"], call["status"]) == ("GET", True, 200)
    items = table_dump()
    assert traces(ROBIN, items) == []
    assert [k for k in bucket_keys(world) if ROBIN in k] == []
    assert traces(ALEX, items) == before_others
    assert (page["contacts_erased"], page["conversations_erased"]) == (1, 1)
    assert page["messenger_ids_matched"] is True


def test_without_id_matching_the_callback_erases_the_comments_and_says_what_it_could_not(
    world: dict[str, str], sandbox: Any
) -> None:
    sandbox.id_matching = False
    kim_messenger = f"m{PAGE_A}_{sandbox.person(KIM).psid}"

    kim = _request_deletion(KIM)
    robin = _request_deletion(sandbox.person(ROBIN).commenter_id)

    assert traces(KIM, table_dump()) == []
    assert (kim["contacts_erased"], kim["messenger_ids_matched"]) == (1, False)
    assert "could not be matched" in kim["message"]
    # Robin's Messenger contact stays for a member to erase, and the status does not pretend.
    assert traces(ROBIN, table_dump()) != []
    assert (robin["contacts_erased"], robin["messenger_ids_matched"]) == (0, False)
    assert traces(kim_messenger, [json.dumps(kim)]) == []


def test_a_forged_deletion_request_is_refused_and_erases_nothing(world: dict[str, str]) -> None:
    forged = signed_request({"algorithm": "HMAC-SHA256", "user_id": KIM}, secret="not-ours")
    before = table_dump()

    status, answer = call_privacy("POST", "/webhooks/facebook/data-deletion",
                                  urlencode({"signed_request": forged}))

    assert (status, answer["code"]) == (401, "invalid_signature")
    assert table_dump() == before


@pytest.mark.parametrize("body", ["", "signed_request=", "signed_request=abc",
                                  "signed_request=%%%.%%%"])
def test_a_malformed_deletion_request_is_refused(world: dict[str, str], body: str) -> None:
    status, answer = call_privacy("POST", "/webhooks/facebook/data-deletion", body)

    assert (status, answer["code"]) == (401, "invalid_signature")


def test_an_unknown_confirmation_code_is_not_found(world: dict[str, str]) -> None:
    status, answer = call_privacy("GET", "/webhooks/facebook/data-deletion/deadbeef")

    assert (status, answer["code"]) == (404, "not_found")


def test_export_holds_the_contact_its_messages_and_media(world: dict[str, str]) -> None:
    from inbox.actions.privacy import check_export_contact

    document = check_export_contact(member("supervisor"), f"m{PAGE_A}_{ROBIN}")

    assert document["contact"]["facebook_user_id"] == ROBIN
    (conversation,) = document["conversations"]
    assert conversation["conversation"]["conversation_id"] == f"m{PAGE_A}_{ROBIN}"
    (message,) = conversation["messages"]
    assert message["facebook_id"] == "m_SAMPLE-0005"
    assert message["attachments"][0]["media_status"] == "stored"
    assert conversation["media"] == [message["attachments"][0]["media_key"]]
    json.dumps(document)


def test_export_gives_times_in_iso_8601_utc_as_the_api_does(world: dict[str, str]) -> None:
    from inbox.actions.privacy import check_export_contact

    document = check_export_contact(member("supervisor"), f"m{PAGE_A}_{ROBIN}")

    (conversation,) = document["conversations"]
    (message,) = conversation["messages"]
    times = [document["exported_at"], document["contact"]["created_at"],
             conversation["conversation"]["created_at"], message["created_at"]]
    assert all(isinstance(t, str) and ISO.match(t) for t in times), times


def test_an_agent_may_not_export_a_contact(world: dict[str, str]) -> None:
    from inbox.actions.privacy import check_export_contact
    from inbox.errors import Forbidden

    with pytest.raises(Forbidden):
        check_export_contact(member("agent"), f"m{PAGE_A}_{ROBIN}")
