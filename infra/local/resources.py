"""The stack's data resources on an emulated AWS endpoint, created from template.yaml itself.

Each resource's properties are read from the template and sent to the matching AWS API, so the
local stack gets the same keys, indexes, queue settings and auth flows as a deployed stack, and
the environment it returns uses the names the template gives the functions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.cfn_yaml import load_template
from infra.local import moto_fixes

# What the handlers read (shared/inbox/settings.py), taken from the template's Globals.
_FUNCTION_ENV_NAMES = (
    "TABLE_NAME",
    "EVENTS_QUEUE_URL",
    "EVENT_BUS_NAME",
    "APP_SECRET_ID",
    "PAGE_TOKEN_PREFIX",
    "USER_POOL_ID",
    "USER_POOL_CLIENT_ID",
    "MEDIA_BUCKET",
    "WEBSOCKET_MANAGEMENT_URL",
    "MEDIA_QUEUE_URL",
    "MEDIA_MAX_BYTES",
    "MEDIA_ALLOWED_TYPES",
    "MEDIA_ALLOWED_HOSTS",
)

# Table properties that create_table takes under the same name and shape.
_TABLE_CREATE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
)
# Encryption, protection and tags change nothing an emulator does; anything else must be
# handled here before the template may use it, or local and deployed tables would differ.
_TABLE_PROPERTIES_WITHOUT_LOCAL_EFFECT = (
    "SSESpecification",
    "DeletionProtectionEnabled",
    "ContributorInsightsSpecification",
    "Tags",
)

_LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_WEBSOCKET_API_ID = "inboxlocalws"


@dataclass
class _Resolver:
    """Evaluates the intrinsic functions the data resources use, with local values."""

    stack_name: str
    region: str
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value

        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                return self._get_att(".".join(argument))
            if key == "Fn::Sub":
                return self._sub(argument)
            if key.startswith("Fn::"):
                raise ValueError(f"{key} is not evaluated locally; add it to the resolver")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": _LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name not in self.refs:
            raise KeyError(f"Ref {name} has no local value yet: create it first")
        return self.refs[name]

    def _get_att(self, name: str) -> str:
        if name not in self.attributes:
            raise KeyError(f"GetAtt {name} has no local value yet: create it first")
        return self.attributes[name]

    def _sub(self, argument: str | list[Any]) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            # "${!Name}" is CloudFormation's escape for a literal "${Name}".
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return self._get_att(name)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def create_resources(
    *,
    region: str,
    endpoint_url: str | None,
    app_secret: str,
    verify_token: str,
    name_prefix: str = "inbox-local",
) -> dict[str, str]:
    """Create the table, queues, user pool, event bus and app secret the template declares.

    `endpoint_url` is the emulator's address (moto's server); None uses boto3's default, which
    is what tests want inside `moto.mock_aws()`. `name_prefix` stands in for the stack name.
    Calling it twice on the same endpoint reuses what exists.

    Returns the environment the handlers read: TABLE_NAME, EVENTS_QUEUE_URL,
    DEAD_LETTER_QUEUE_URL, EVENT_BUS_NAME, APP_SECRET_ID, PAGE_TOKEN_PREFIX, USER_POOL_ID,
    USER_POOL_CLIENT_ID, MEDIA_BUCKET and AWS_REGION, plus AWS_ENDPOINT_URL when an endpoint
    was given.
    """
    # The emulator is moto, in this process: its known departures from AWS are put right first.
    moto_fixes.apply()
    template = load_template()
    resources = template["Resources"]
    session = boto3.session.Session(region_name=region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    resolver = _Resolver(stack_name=name_prefix, region=region)
    resolver.refs.update(_parameter_values(template, app_secret, verify_token))

    resolver.refs["Table"] = _create_table(client("dynamodb"), resources, resolver, name_prefix)

    sqs = client("sqs")
    for logical_id in ("DeadLetterQueue", "EventsQueue", "MediaDeadLetterQueue", "MediaQueue"):
        url, arn = _create_queue(sqs, logical_id, resources, resolver, name_prefix)
        resolver.refs[logical_id] = url
        resolver.attributes[f"{logical_id}.Arn"] = arn

    cognito = client("cognito-idp")
    resolver.refs["UserPool"] = _create_user_pool(cognito, resources, resolver)
    resolver.refs["UserPoolClient"] = _create_user_pool_client(cognito, resources, resolver)

    resolver.refs["EventBus"] = _create_event_bus(client("events"), resources, resolver)
    resolver.refs["AppSecret"] = _create_secret(client("secretsmanager"), resources, resolver)
    resolver.refs["MediaBucket"] = _create_bucket(client("s3"), resources, resolver, name_prefix)
    # No WebSocket API on the emulator: the local gateway serves it, and whoever starts that
    # points WEBSOCKET_MANAGEMENT_URL at the gateway's emulation of the management API.
    resolver.refs["WebSocketApi"] = LOCAL_WEBSOCKET_API_ID

    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {name: str(resolver.resolve(variables[name])) for name in _FUNCTION_ENV_NAMES}
    env["DEAD_LETTER_QUEUE_URL"] = resolver.refs["DeadLetterQueue"]
    env["MEDIA_DEAD_LETTER_QUEUE_URL"] = resolver.refs["MediaDeadLetterQueue"]
    env["AWS_REGION"] = region
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def _parameter_values(template: dict[str, Any], app_secret: str, verify_token: str) -> dict:
    values = {
        name: spec["Default"]
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }
    # The template writes both into a JSON string with !Sub; escaping them here keeps that JSON
    # valid for any local value, where a deployed stack relies on the parameters' patterns.
    values["FacebookAppSecret"] = json.dumps(app_secret)[1:-1]
    values["FacebookVerifyToken"] = json.dumps(verify_token)[1:-1]
    return values


def _properties(resources: dict[str, Any], logical_id: str, resolver: _Resolver) -> dict:
    return resolver.resolve(resources[logical_id].get("Properties", {}))


def _create_table(dynamodb: Any, resources: dict, resolver: _Resolver, prefix: str) -> str:
    properties = _properties(resources, "Table", resolver)
    known = (
        set(_TABLE_CREATE_PROPERTIES)
        | set(_TABLE_PROPERTIES_WITHOUT_LOCAL_EFFECT)
        | {"TableName", "PointInTimeRecoverySpecification", "TimeToLiveSpecification"}
    )
    unknown = sorted(set(properties) - known)
    if unknown:
        raise ValueError(f"table properties not reproduced locally: {', '.join(unknown)}")

    table_name = properties.get("TableName") or f"{prefix}-table"
    arguments = {name: properties[name] for name in _TABLE_CREATE_PROPERTIES if name in properties}
    try:
        dynamodb.create_table(TableName=table_name, **arguments)
    except dynamodb.exceptions.ResourceInUseException:
        return table_name

    dynamodb.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    if "PointInTimeRecoverySpecification" in properties:
        dynamodb.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification=properties["PointInTimeRecoverySpecification"],
        )
    if "TimeToLiveSpecification" in properties:
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification=properties["TimeToLiveSpecification"],
        )
    return table_name


def _create_queue(
    sqs: Any, logical_id: str, resources: dict, resolver: _Resolver, prefix: str
) -> tuple[str, str]:
    properties = _properties(resources, logical_id, resolver)
    name = properties.pop("QueueName", None) or f"{prefix}-{_kebab(logical_id)}"
    properties.pop("Tags", None)
    if properties.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"

    # CloudFormation takes typed values; the SQS API takes every attribute as a string, with
    # the redrive policy as a JSON document.
    attributes = {key: _sqs_attribute(value) for key, value in properties.items()}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def _sqs_attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _create_user_pool(cognito: Any, resources: dict, resolver: _Resolver) -> str:
    properties = _properties(resources, "UserPool", resolver)
    name = properties.pop("UserPoolName")
    properties.pop("UserPoolTags", None)

    for pool in _list_user_pools(cognito):
        if pool["Name"] == name:
            return pool["Id"]
    return cognito.create_user_pool(PoolName=name, **properties)["UserPool"]["Id"]


def _list_user_pools(cognito: Any) -> list[dict[str, Any]]:
    pools: list[dict[str, Any]] = []
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        pools.extend(page["UserPools"])
    return pools


def _create_user_pool_client(cognito: Any, resources: dict, resolver: _Resolver) -> str:
    properties = _properties(resources, "UserPoolClient", resolver)

    existing = cognito.list_user_pool_clients(UserPoolId=properties["UserPoolId"], MaxResults=60)
    for app_client in existing["UserPoolClients"]:
        if app_client["ClientName"] == properties["ClientName"]:
            return app_client["ClientId"]
    return cognito.create_user_pool_client(**properties)["UserPoolClient"]["ClientId"]


def _create_event_bus(events: Any, resources: dict, resolver: _Resolver) -> str:
    name = _properties(resources, "EventBus", resolver)["Name"]
    try:
        events.create_event_bus(Name=name)
    except events.exceptions.ResourceAlreadyExistsException:
        pass
    return name


def _create_secret(secrets: Any, resources: dict, resolver: _Resolver) -> str:
    properties = _properties(resources, "AppSecret", resolver)
    name, value = properties["Name"], properties["SecretString"]
    # Fails here rather than in the webhook if the template's JSON stops being JSON.
    json.loads(value)

    try:
        created = secrets.create_secret(
            Name=name, Description=properties.get("Description", ""), SecretString=value
        )
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=value)
        return secrets.describe_secret(SecretId=name)["ARN"]
    return created["ARN"]


# Bucket properties with a local equivalent, and those that change nothing an emulator does.
_BUCKET_PROPERTIES_WITHOUT_LOCAL_EFFECT = ("LifecycleConfiguration", "OwnershipControls", "Tags")


def _create_bucket(s3: Any, resources: dict, resolver: _Resolver, prefix: str) -> str:
    properties = _properties(resources, "MediaBucket", resolver)
    known = {"BucketName", "VersioningConfiguration", "PublicAccessBlockConfiguration",
             "BucketEncryption", "CorsConfiguration", *_BUCKET_PROPERTIES_WITHOUT_LOCAL_EFFECT}
    unknown = sorted(set(properties) - known)
    if unknown:
        raise ValueError(f"bucket properties not reproduced locally: {', '.join(unknown)}")

    name = properties.get("BucketName") or f"{prefix}-media"
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        return name
    if "VersioningConfiguration" in properties:
        s3.put_bucket_versioning(Bucket=name,
                                 VersioningConfiguration=properties["VersioningConfiguration"])
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
        )
    if "BucketEncryption" in properties:
        s3.put_bucket_encryption(
            Bucket=name,
            # CloudFormation's ServerSideEncryptionByDefault is the API's "Apply..." one.
            ServerSideEncryptionConfiguration={"Rules": [
                {("ApplyServerSideEncryptionByDefault" if k == "ServerSideEncryptionByDefault"
                  else k): v for k, v in rule.items()}
                for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]},
        )
    if "CorsConfiguration" in properties:
        # CloudFormation spells it CorsRules; the S3 API, CORSRules.
        rules = properties["CorsConfiguration"]["CorsRules"]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
            {("MaxAgeSeconds" if k == "MaxAge" else k): v for k, v in rule.items()}
            for rule in rules
        ]})
    return name


def _kebab(logical_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id).lower()
