"""The capacity meter's arithmetic, on cases worked out by hand from DynamoDB's rules."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.bench.meter import CapacityMeter, Index, TableShape, item_size, write_cost

SHAPE = TableShape(
    keys=("pk", "sk"),
    indexes=(Index("by_activity", ("g1pk", "g1sk"), None),
             Index("by_owner", ("g2pk", "g2sk"), frozenset())),
)


def _key_schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"}]


@pytest.fixture
def dynamodb() -> Iterator[CapacityMeter]:
    """A table shaped like the inbox's (one ALL index, one keys-only), under a meter."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        names = ("pk", "sk", "g1pk", "g1sk", "g2pk", "g2sk")
        client.create_table(
            TableName="bench-meter",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
            KeySchema=_key_schema("pk", "sk"),
            GlobalSecondaryIndexes=[
                {"IndexName": "by_activity", "KeySchema": _key_schema("g1pk", "g1sk"),
                 "Projection": {"ProjectionType": "ALL"}},
                {"IndexName": "by_owner", "KeySchema": _key_schema("g2pk", "g2sk"),
                 "Projection": {"ProjectionType": "KEYS_ONLY"}},
            ],
        )
        meter = CapacityMeter(boto3.client("dynamodb", region_name="us-east-1"))
        with meter.installed():
            yield meter


def test_item_size_counts_names_and_values():
    item = {
        "pk": {"S": "abc"},                       # 2 + 3
        "n": {"N": "12345"},                      # 1 + ceil(5 / 2) + 1
        "m": {"M": {"k": {"BOOL": True}}},        # 1 + 3 + (1 + 1 + 1)
    }

    assert item_size(item) == 5 + 5 + 7


def test_a_3_kb_put_outside_every_index_costs_3_units(dynamodb):
    client = boto3.client("dynamodb", region_name="us-east-1")
    # 3 + 3 + 1 + 3000 bytes: just under 3 KB, so 3 units and no index entry.
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}, "d": {"S": "x" * 3000}}

    client.put_item(TableName="bench-meter", Item=item)

    assert [(c.operation, c.write_units, c.index_write_units)
            for c in dynamodb.total.charges] == [("PutItem", 3, 0)]


def test_an_update_that_rekeys_an_all_index_costs_the_item_and_two_index_writes(dynamodb):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.put_item(TableName="bench-meter", Item={
        "pk": {"S": "CONV#1"}, "sk": {"S": "CONV"}, "g1pk": {"S": "p#open"},
        "g1sk": {"S": "0001"}, "g2pk": {"S": "agent"}, "g2sk": {"S": "open"},
    })
    with dynamodb.tally() as update:
        client.update_item(TableName="bench-meter", Key={"pk": {"S": "CONV#1"},
                                                         "sk": {"S": "CONV"}},
                           UpdateExpression="SET g1sk = :at",
                           ExpressionAttributeValues={":at": {"S": "0002"}})

    # 1 for the item, 1 + 1 to delete and put its by_activity entry; by_owner is untouched.
    assert (update.write_units, update.index_write_units) == (3, 2)


def test_a_failed_conditional_put_still_costs_a_unit_and_writes_no_index(dynamodb):
    client = boto3.client("dynamodb", region_name="us-east-1")
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}, "g1pk": {"S": "x"}, "g1sk": {"S": "y"}}
    client.put_item(TableName="bench-meter", Item=item)

    with dynamodb.tally() as again, pytest.raises(ClientError):
        client.put_item(TableName="bench-meter", Item=item,
                        ConditionExpression="attribute_not_exists(pk)")

    assert (again.write_units, again.index_write_units) == (1, 0)


def test_reads_round_up_to_4_kb_and_halve_when_eventually_consistent(dynamodb):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.put_item(TableName="bench-meter",
                    Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "d": {"S": "x" * 5000}})
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}

    with dynamodb.tally() as strong:
        client.get_item(TableName="bench-meter", Key=key, ConsistentRead=True)
    with dynamodb.tally() as eventual:
        client.get_item(TableName="bench-meter", Key=key, ProjectionExpression="pk")

    assert (strong.read_units, eventual.read_units) == (2, 1)


def test_keys_only_index_ignores_changes_to_other_attributes():
    before = {"pk": {"S": "a"}, "sk": {"S": "b"}, "g2pk": {"S": "agent"},
              "g2sk": {"S": "open"}, "note": {"S": "old"}}
    after = {**before, "note": {"S": "new"}}

    cost = write_cost(SHAPE, before, after)

    assert (cost.table_units, cost.index_units) == (1, {})


def test_an_attribute_that_enters_a_sparse_index_costs_one_index_write():
    before = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    after = {**before, "g1pk": {"S": "p#open"}, "g1sk": {"S": "0001"}}

    assert write_cost(SHAPE, before, after).index_units == {"by_activity": 1}
