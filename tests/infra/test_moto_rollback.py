"""The faster rollback of moto's transactions undoes a cancelled one exactly as moto's own."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.moto_rollback import faster_transactions


def _table(client: Any) -> None:
    client.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}])


def _items(client: Any) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName="t")["Items"], key=lambda i: i["pk"]["S"])


def test_a_cancelled_transaction_writes_nothing_and_a_passed_one_everything() -> None:
    with mock_aws(), faster_transactions():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _table(client)
        client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "x"},
                                             "n": {"N": "1"}})
        before = _items(client)
        new = {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "x"}}}}
        bump = {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "x"}},
                           "UpdateExpression": "SET n = n + :one",
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}}
        refused = {"ConditionCheck": {"TableName": "t",
                                      "Key": {"pk": {"S": "c"}, "sk": {"S": "x"}},
                                      "ConditionExpression": "attribute_exists(pk)"}}

        with pytest.raises(ClientError) as cancelled:
            client.transact_write_items(TransactItems=[new, bump, refused])

        reasons = cancelled.value.response["CancellationReasons"]
        assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed"]
        assert _items(client) == before

        client.transact_write_items(TransactItems=[new, bump])
        assert [(i["pk"]["S"], i.get("n")) for i in _items(client)] == [
            ("a", {"N": "2"}), ("b", None)]
