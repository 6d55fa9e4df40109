"""`make deploy-web` against moto's S3 and CloudFront."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.deploy_web import invalidate, runtime_config, upload

OUTPUTS = {
    "WebBucketName": "inbox-web",
    "WebDistributionId": "E123",
    "WebSocketUrl": "wss://ws.example/prod",
    "UserPoolId": "us-east-1_abc",
    "UserPoolClientId": "client1",
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<title>Inbox</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    return tmp_path


def test_the_config_points_at_the_stack_and_the_api_on_the_same_origin() -> None:
    config = runtime_config(OUTPUTS)

    assert config == {"api_base": "", "ws_url": "wss://ws.example/prod",
                      "user_pool_id": "us-east-1_abc", "user_pool_client_id": "client1"}


def test_a_stack_without_the_web_outputs_is_refused_by_name() -> None:
    with pytest.raises(SystemExit, match="WebDistributionId"):
        runtime_config({"WebBucketName": "b"})


@mock_aws
def test_files_are_uploaded_with_types_and_caching_and_the_page_last(dist: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="inbox-web")

    written = upload(s3, "inbox-web", dist, runtime_config(OUTPUTS))

    assert written[-2:] == ["config.json", "index.html"]
    page = s3.get_object(Bucket="inbox-web", Key="index.html")
    script = s3.get_object(Bucket="inbox-web", Key="assets/index-abc123.js")
    config = s3.get_object(Bucket="inbox-web", Key="config.json")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html", "no-cache")
    assert "javascript" in script["ContentType"]
    assert script["CacheControl"] == "public, max-age=31536000, immutable"
    assert json.loads(config["Body"].read())["ws_url"] == "wss://ws.example/prod"


def test_an_unbuilt_inbox_is_refused_before_any_upload(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make web"):
        upload(None, "inbox-web", tmp_path, runtime_config(OUTPUTS))


@mock_aws
def test_the_page_and_its_config_are_invalidated() -> None:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    distribution = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "t", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "web", "DomainName": "b.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "web", "ViewerProtocolPolicy": "allow-all",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]

    invalidation_id = invalidate(cloudfront, distribution["Id"])

    paths = cloudfront.get_invalidation(DistributionId=distribution["Id"], Id=invalidation_id)[
        "Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert sorted(paths) == ["/config.json", "/index.html"]
