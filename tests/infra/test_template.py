"""The deployable template and the local stack built from it agree with the domain package.

Offline and fast: cfn-lint runs in-process, and the resources are created inside moto.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from infra.cfn_yaml import TEMPLATE_PATH, load_template
from infra.local.resources import create_resources

ROOT = TEMPLATE_PATH.parent
REGION = "us-east-1"
# Quotes and a backslash: the secret's JSON must survive any value the local stack is given.
APP_SECRET = 'local "app" secret\\'
VERIFY_TOKEN = "local-verify-token"

# Read by shared/inbox/settings.py but set only on the local stack and in tests, or derived by
# Lambda itself; every other name it reads must be given to the functions by the template.
_LOCAL_ONLY_SETTINGS = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "COGNITO_JWKS_URL",
    "GRAPH_API_URL",
    # moto's Cognito sends no invitation email; a deployed pool emails its own password.
    "INVITE_TEMPORARY_PASSWORD",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The template's data resources in a fresh emulated account; yields their environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield create_resources(
            region=REGION,
            endpoint_url=None,
            app_secret=APP_SECRET,
            verify_token=VERIFY_TOKEN,
            name_prefix="inbox-infra-test",
        )


def _model_schema() -> tuple[list[dict], dict[str, dict], dict[str, str]]:
    """Key schema, indexes and attribute types the PynamoDB models declare, across all models.

    `_get_schema` is what PynamoDB's own `create_table` sends, so it is the models' declaration
    as DynamoDB would receive it.
    """
    from inbox.models import ALL_MODELS

    key_schema: list[dict] = []
    indexes: dict[str, dict] = {}
    attribute_types: dict[str, str] = {}
    for model in ALL_MODELS:
        schema = model._get_schema()
        key_schema = schema["key_schema"]
        for definition in schema["attribute_definitions"]:
            attribute_types[definition["AttributeName"]] = definition["AttributeType"]
        for index in schema["global_secondary_indexes"]:
            indexes[index["index_name"]] = {
                "KeySchema": index["key_schema"],
                "Projection": index["projection"],
            }
    return key_schema, indexes, attribute_types


def _sorted_keys(key_schema: list[dict]) -> list[tuple[str, str]]:
    return sorted((key["KeyType"], key["AttributeName"]) for key in key_schema)


def test_template_passes_cfn_lint() -> None:
    from cfnlint.api import ManualArgs, lint_file

    regions = yaml.safe_load((ROOT / ".cfnlintrc").read_text())["regions"]
    matches = lint_file(Path(TEMPLATE_PATH), config=ManualArgs(regions=regions))

    assert [str(match) for match in matches] == []


def test_loader_turns_short_tags_into_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "A: !Ref Table\n"
        "B: !GetAtt Db.Endpoint.Address\n"
        "C: !Sub ['${X}', {X: !Ref Y}]\n"
        "D: !If [Cond, 1, !Ref AWS::NoValue]\n"
    )

    assert load_template(path) == {
        "A": {"Ref": "Table"},
        "B": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "C": {"Fn::Sub": ["${X}", {"X": {"Ref": "Y"}}]},
        "D": {"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]},
    }


def test_table_matches_the_models(stack: dict[str, str]) -> None:
    key_schema, indexes, attribute_types = _model_schema()
    dynamodb = boto3.client("dynamodb", region_name=REGION)

    table = dynamodb.describe_table(TableName=stack["TABLE_NAME"])["Table"]

    assert _sorted_keys(table["KeySchema"]) == [("HASH", "pk"), ("RANGE", "sk")]
    assert _sorted_keys(table["KeySchema"]) == _sorted_keys(key_schema)
    found = {
        index["IndexName"]: {
            "KeySchema": _sorted_keys(index["KeySchema"]),
            "Projection": index["Projection"]["ProjectionType"],
        }
        for index in table["GlobalSecondaryIndexes"]
    }
    declared = {
        name: {
            "KeySchema": _sorted_keys(index["KeySchema"]),
            "Projection": index["Projection"]["ProjectionType"],
        }
        for name, index in indexes.items()
    }
    assert found == declared
    assert set(found) == {"by_page_status", "by_assignee", "by_phone"}
    assert {
        definition["AttributeName"]: definition["AttributeType"]
        for definition in table["AttributeDefinitions"]
    } == attribute_types


def test_table_is_on_demand_with_recovery_and_expiry(stack: dict[str, str]) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    name = stack["TABLE_NAME"]

    table = dynamodb.describe_table(TableName=name)["Table"]
    backups = dynamodb.describe_continuous_backups(TableName=name)
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]

    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_events_queue_is_fifo_and_redrives_to_a_fifo_dead_letter_queue(
    stack: dict[str, str], template: dict[str, Any]
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)

    queue = sqs.get_queue_attributes(QueueUrl=stack["EVENTS_QUEUE_URL"], AttributeNames=["All"])
    dead = sqs.get_queue_attributes(QueueUrl=stack["DEAD_LETTER_QUEUE_URL"], AttributeNames=["All"])

    queue, dead = queue["Attributes"], dead["Attributes"]
    assert queue["FifoQueue"] == "true"
    assert queue["ContentBasedDeduplication"] == "false"
    assert dead["FifoQueue"] == "true"
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead["QueueArn"],
        "maxReceiveCount": 5,
    }
    assert int(dead["MessageRetentionPeriod"]) == 14 * 24 * 3600
    ingest_timeout = template["Resources"]["IngestFunction"]["Properties"]["Timeout"]
    assert int(queue["VisibilityTimeout"]) >= 6 * ingest_timeout


def test_secret_holds_the_app_secret_and_verify_token(stack: dict[str, str]) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)

    value = secrets.get_secret_value(SecretId=stack["APP_SECRET_ID"])["SecretString"]

    assert json.loads(value) == {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}


def test_members_can_sign_in_with_admin_password_auth(stack: dict[str, str]) -> None:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool, client = stack["USER_POOL_ID"], stack["USER_POOL_CLIENT_ID"]
    cognito.admin_create_user(
        UserPoolId=pool, Username="owner@example.com", MessageAction="SUPPRESS"
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="owner@example.com", Password="Correct-Horse-1", Permanent=True
    )

    answer = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "owner@example.com", "PASSWORD": "Correct-Horse-1"},
    )

    assert "IdToken" in answer["AuthenticationResult"]


def test_event_bus_exists(stack: dict[str, str]) -> None:
    events = boto3.client("events", region_name=REGION)

    bus = events.describe_event_bus(Name=stack["EVENT_BUS_NAME"])

    assert bus["Name"] == stack["EVENT_BUS_NAME"]


def test_creating_twice_reuses_the_resources(stack: dict[str, str]) -> None:
    again = create_resources(
        region=REGION,
        endpoint_url=None,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        name_prefix="inbox-infra-test",
    )

    assert again == stack


def test_functions_get_every_setting_the_code_reads(
    stack: dict[str, str], template: dict[str, Any]
) -> None:
    source = (ROOT / "shared" / "inbox" / "settings.py").read_text()
    read = set(re.findall(r'_env\("([A-Z0-9_]+)"', source)) - _LOCAL_ONLY_SETTINGS

    given = set(template["Globals"]["Function"]["Environment"]["Variables"])

    assert read <= given
    assert read - {"FB_APP_ID", "GRAPH_API_VERSION", "CORS_ORIGIN"} <= set(stack)


def test_webhook_is_a_public_function_url_that_may_only_queue(template: dict[str, Any]) -> None:
    webhook = template["Resources"]["WebhookFunction"]["Properties"]

    statements = webhook["Policies"][0]["Statement"]

    assert webhook["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert len(webhook["Policies"]) == 1
    assert sorted(statement["Action"] for statement in statements) == [
        "secretsmanager:GetSecretValue",
        "sqs:SendMessage",
    ]


def test_functions_run_python_3_13_on_arm64(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]

    functions = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]

    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    names = {name for name, resource in template["Resources"].items()
             if resource["Type"] == "AWS::Serverless::Function"}
    assert {"WebhookFunction", "IngestFunction", "ApiFunction", "SweepFunction",
            "RealtimeFunction", "MediaFunction"} <= names
    for function in functions:
        assert "Runtime" not in function["Properties"]
        assert function["Metadata"]["BuildMethod"] == "makefile"


def test_realtime_may_post_only_to_its_own_websocket_api(template: dict[str, Any]) -> None:
    realtime = template["Resources"]["RealtimeFunction"]["Properties"]
    statement = realtime["Policies"][1]["Statement"][0]
    rule = realtime["Events"]["DomainEvents"]["Properties"]

    assert statement["Action"] == "execute-api:ManageConnections"
    assert "${WebSocketApi}/live/POST/@connections/*" in statement["Resource"]["Fn::Sub"]
    assert rule["EventBusName"] == {"Ref": "EventBus"}
    assert rule["Pattern"] == {"source": ["inbox"]}


def test_websocket_routes_all_reach_the_realtime_function(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in resources.values()
              if r["Type"] == "AWS::ApiGatewayV2::Route"}
    api = resources["WebSocketApi"]["Properties"]

    assert api["ProtocolType"] == "WEBSOCKET"
    assert sorted(routes) == ["$connect", "$default", "$disconnect"]
    assert {r["Target"]["Fn::Sub"] for r in routes.values()} == {
        "integrations/${WebSocketIntegration}"}
    assert resources["WebSocketStage"]["Properties"]["StageName"] == "live"
def test_media_queue_redrives_after_the_media_functions_last_attempt(
    stack: dict[str, str], template: dict[str, Any]
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.get_queue_attributes(QueueUrl=stack["MEDIA_QUEUE_URL"], AttributeNames=["All"])
    dead = sqs.get_queue_attributes(QueueUrl=stack["MEDIA_DEAD_LETTER_QUEUE_URL"],
                                    AttributeNames=["QueueArn"])

    redrive = json.loads(queue["Attributes"]["RedrivePolicy"])
    media = template["Resources"]["MediaFunction"]["Properties"]
    assert redrive["deadLetterTargetArn"] == dead["Attributes"]["QueueArn"]
    attempts = media["Environment"]["Variables"]["MEDIA_MAX_ATTEMPTS"]
    assert str(redrive["maxReceiveCount"]) == attempts
    assert int(queue["Attributes"]["VisibilityTimeout"]) >= 6 * media["Timeout"]


def test_backups_point_in_time_recovery_and_bucket_versioning(template: dict[str, Any]) -> None:
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    buckets = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]

    assert tables and buckets
    for table in tables:
        recovery = table["Properties"]["PointInTimeRecoverySpecification"]
        assert recovery["PointInTimeRecoveryEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
    for bucket in buckets:
        assert bucket["Properties"]["VersioningConfiguration"]["Status"] == "Enabled"
