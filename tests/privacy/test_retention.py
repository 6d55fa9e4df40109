"""Retention: messages stamped for DynamoDB's TTL, inbound media expired by a lifecycle rule."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.ingest.helpers import replay
from tests.privacy.test_privacy import member

DAY = 86400


def lifecycle(env: dict[str, str]) -> list[dict[str, Any]]:
    s3 = boto3.client("s3", region_name="us-east-1")
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=env["MEDIA_BUCKET"])["Rules"]
    except s3.exceptions.ClientError:
        return []


def stored(facebook_id: str) -> Any:
    from inbox.models import Message

    (message,) = Message.scan(Message.facebook_id == facebook_id)
    return message


def test_messages_after_the_setting_expire_with_it(pages: list[str], aws: dict[str, str]) -> None:
    from inbox.actions.retention import check_set_retention

    replay(aws, "01-text-plain.json")
    check_set_retention(member("admin"), 30)
    replay(aws, "05-attachment-image.json")

    assert stored("m_SAMPLE-0001").expires_at is None
    image = stored("m_SAMPLE-0005")
    assert image.expires_at == image.created_at // 1000 + 30 * DAY


def test_the_setting_writes_a_lifecycle_rule_and_keeps_the_others(aws: dict[str, str]) -> None:
    from inbox.access import brand_settings
    from inbox.actions.retention import RULE_ID, check_set_retention

    s3 = boto3.client("s3", region_name="us-east-1")
    template_rule = {"ID": "expire-replaced-versions", "Status": "Enabled",
                     "Filter": {"Prefix": ""},
                     "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=aws["MEDIA_BUCKET"],
                                          LifecycleConfiguration={"Rules": [template_rule]})

    check_set_retention(member("owner"), 90)

    rules = {rule["ID"]: rule for rule in lifecycle(aws)}
    assert set(rules) == {"expire-replaced-versions", RULE_ID}
    assert rules[RULE_ID]["Expiration"] == {"Days": 90}
    assert rules[RULE_ID]["Filter"] == {"Prefix": "inbound/"}
    assert brand_settings().retention_days == 90

    check_set_retention(member("owner"), None)

    assert [rule["ID"] for rule in lifecycle(aws)] == ["expire-replaced-versions"]
    assert brand_settings().retention_days is None


def test_only_owners_and_admins_set_retention_and_bad_ages_are_refused(
    aws: dict[str, str]
) -> None:
    from inbox.access import brand_settings
    from inbox.actions.retention import check_set_retention
    from inbox.errors import Forbidden, InvalidInput

    with pytest.raises(Forbidden):
        check_set_retention(member("supervisor"), 30)
    for days in (0, -1, 3651):
        with pytest.raises(InvalidInput):
            check_set_retention(member("admin"), days)

    assert brand_settings().retention_days is None
    assert lifecycle(aws) == []


def test_changing_isolation_keeps_the_retention(aws: dict[str, str]) -> None:
    from inbox.access import brand_settings
    from inbox.actions.retention import check_set_retention
    from inbox.actions.team import check_update_brand_settings

    check_set_retention(member("admin"), 14)
    check_update_brand_settings(member("admin"), isolation=False)

    saved = brand_settings()
    assert (saved.isolation, saved.retention_days) == (False, 14)
