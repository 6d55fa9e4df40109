"""Inbound attachments copied into the media bucket, from each webhook sample that has one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.conftest import PAGE_A
from tests.ingest.helpers import drain, post_webhook, sample
from tests.media.helpers import drain_media, ingest, media_path, sandbox_sample


@pytest.fixture
def stack(pages: list[str], sandbox: Any, aws: dict[str, str],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from inbox import settings

    monkeypatch.setenv("MEDIA_ALLOWED_HOSTS", "127.0.0.1")
    settings.reload_settings()
    yield aws


def stored(facebook_id: str) -> Any:
    from inbox.models import Message

    found = [m for m in Message.scan(Message.facebook_id == facebook_id)]
    assert len(found) == 1, found
    return found[0]


def bucket_object(env: dict[str, str], key: str) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.get_object(Bucket=env["MEDIA_BUCKET"], Key=key)


def media_jobs_waiting(env: dict[str, str]) -> int:
    sqs = boto3.client("sqs", region_name="us-east-1")
    attributes = sqs.get_queue_attributes(QueueUrl=env["MEDIA_QUEUE_URL"],
                                          AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# One case per sample with a file attachment: (sample, Facebook id, expected types).
COPIED = [
    ("05-attachment-image.json", "m_SAMPLE-0005", ["image/jpeg"]),
    ("06-attachment-audio.json", "m_SAMPLE-0006", ["video/mp4"]),
    ("07-attachment-file.json", "m_SAMPLE-0007", ["application/pdf"]),
    ("08-attachment-sticker.json", "m_SAMPLE-0008", ["image/png"]),
    ("12-attachments-several.json", "m_SAMPLE-0012", ["image/jpeg", "image/jpeg", "video/mp4"]),
    ("33-comment-photo.json", "300000000000001_400000000000003", ["image/jpeg"]),
]


@pytest.mark.parametrize(("name", "facebook_id", "types"), COPIED)
def test_each_attachment_kind_is_copied_to_the_bucket(
    stack: dict[str, str], sandbox: Any, name: str, facebook_id: str, types: list[str]
) -> None:
    ingest(stack, sandbox_sample(name, sandbox))
    before = stored(facebook_id)
    assert [a.media_status for a in before.attachments] == ["pending"] * len(types)

    drain_media(stack)

    message = stored(facebook_id)
    assert [a.media_status for a in message.attachments] == ["stored"] * len(types)
    assert [a.content_type for a in message.attachments] == types
    for attachment in message.attachments:
        expected = sandbox.serve_media(media_path(attachment.url))[1]
        copy = bucket_object(stack, attachment.media_key)
        assert copy["Body"].read() == expected
        assert copy["ContentType"] == attachment.content_type
        assert attachment.size == len(expected)
        assert attachment.media_key.startswith(f"inbound/{message.conversation_id}/")
        # The original link stays, for reference.
        assert "/_sandbox/media/" in attachment.url


@pytest.mark.parametrize(("name", "facebook_id"), [
    ("09-attachment-location.json", "m_SAMPLE-0009"),
    ("10-attachment-fallback-link.json", "m_SAMPLE-0010"),
    ("11-attachment-reel.json", "m_SAMPLE-0011"),
])
def test_links_that_are_not_files_are_kept_as_links(
    stack: dict[str, str], sandbox: Any, name: str, facebook_id: str
) -> None:
    ingest(stack, sandbox_sample(name, sandbox))

    message = stored(facebook_id)
    assert [a.media_status for a in message.attachments] == [None]
    assert media_jobs_waiting(stack) == 0


def test_a_fetch_that_fails_first_succeeds_on_retry(stack: dict[str, str], sandbox: Any) -> None:
    ingest(stack, sandbox_sample("05-attachment-image.json", sandbox))
    sandbox.fail_media(media_path(stored("m_SAMPLE-0005").attachments[0].url), status=503)

    answers = drain_media(stack)

    assert [len(a["batchItemFailures"]) for a in answers] == [1, 0]
    attachment = stored("m_SAMPLE-0005").attachments[0]
    assert (attachment.media_status, attachment.media_error) == ("stored", None)


def test_a_link_facebook_no_longer_serves_is_marked_and_the_message_kept(
    stack: dict[str, str], sandbox: Any
) -> None:
    ingest(stack, sandbox_sample("12-attachments-several.json", sandbox))
    first = stored("m_SAMPLE-0012").attachments[0]
    sandbox.stop_serving_media(media_path(first.url))

    answers = drain_media(stack)

    # Refused at once: a 404 will not heal with retries.
    assert len(answers) == 1 and answers[0]["batchItemFailures"] == []
    message = stored("m_SAMPLE-0012")
    assert [(a.media_status, a.media_error) for a in message.attachments] == [
        ("failed", "http_404"), ("stored", None), ("stored", None)]
    assert message.attachments[0].url == first.url


def test_an_unreachable_host_is_retried_then_marked_without_losing_the_message(
    stack: dict[str, str], sandbox: Any
) -> None:
    # A port nobody listens on: every fetch is refused by the network.
    raw = sample("05-attachment-image.json").replace(
        b"https:\\/\\/scontent.example.invalid\\/", b"http:\\/\\/127.0.0.1:9\\/")
    ingest(stack, raw)

    answers = drain_media(stack)

    assert [len(a["batchItemFailures"]) for a in answers] == [1, 1, 1, 0]
    message = stored("m_SAMPLE-0005")
    assert message.type == "attachment"
    attachment = message.attachments[0]
    assert (attachment.media_status, attachment.media_error) == ("failed", "unreachable")
    assert attachment.media_key is None


def test_a_host_outside_the_allowed_ones_is_never_fetched(stack: dict[str, str]) -> None:
    ingest(stack, sample("05-attachment-image.json"))

    drain_media(stack)

    attachment = stored("m_SAMPLE-0005").attachments[0]
    assert (attachment.media_status, attachment.media_error) == ("failed", "host_not_allowed")


def test_an_oversize_file_is_refused_with_the_reason(
    stack: dict[str, str], sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inbox import settings

    monkeypatch.setenv("MEDIA_MAX_BYTES", "1000")
    settings.reload_settings()
    ingest(stack, sandbox_sample("05-attachment-image.json", sandbox))
    path = media_path(stored("m_SAMPLE-0005").attachments[0].url)
    sandbox.host_media(path, b"x" * 1001, "image/jpeg")

    drain_media(stack)

    attachment = stored("m_SAMPLE-0005").attachments[0]
    assert (attachment.media_status, attachment.media_error) == ("failed", "too_large")
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(
        Bucket=stack["MEDIA_BUCKET"], Prefix="inbound/")
    assert listed.get("KeyCount", 0) == 0


def test_a_type_outside_the_allowed_ones_is_refused(stack: dict[str, str], sandbox: Any) -> None:
    ingest(stack, sandbox_sample("07-attachment-file.json", sandbox))
    path = media_path(stored("m_SAMPLE-0007").attachments[0].url)
    sandbox.host_media(path, b"<html></html>", "text/html")

    drain_media(stack)

    attachment = stored("m_SAMPLE-0007").attachments[0]
    assert (attachment.media_status, attachment.media_error) == ("failed", "type_not_allowed")


def test_a_redelivered_message_does_not_fetch_again(stack: dict[str, str], sandbox: Any) -> None:
    raw = sandbox_sample("05-attachment-image.json", sandbox)
    ingest(stack, raw)
    drain_media(stack)
    key = stored("m_SAMPLE-0005").attachments[0].media_key

    answer = post_webhook(raw)
    assert answer["statusCode"] == 200
    drain(stack)
    drain_media(stack)

    attachment = stored("m_SAMPLE-0005").attachments[0]
    assert (attachment.media_status, attachment.media_key) == ("stored", key)


def test_the_api_shows_the_stored_copy_through_a_short_lived_link(
    stack: dict[str, str], sandbox: Any
) -> None:
    from inbox.models import Conversation
    from inbox.queries.messages import message_out

    ingest(stack, sandbox_sample("05-attachment-image.json", sandbox))
    drain_media(stack)
    message = stored("m_SAMPLE-0005")
    conversation = Conversation.get(f"CONV#{message.conversation_id}", "CONV")

    shown = message_out(message, conversation).attachments[0]

    assert shown.media_status == "stored"
    assert shown.original_url == message.attachments[0].url
    assert message.attachments[0].media_key in shown.url
    assert "X-Amz-Signature=" in shown.url and "X-Amz-Expires=300" in shown.url
    assert (shown.content_type, shown.size) == ("image/jpeg", message.attachments[0].size)
    assert conversation.page_id == PAGE_A
