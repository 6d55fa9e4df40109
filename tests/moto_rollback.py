"""moto's TransactWriteItems with a rollback that copies the items it names, not the tables.

moto 5.2.5 deep-copies every table a transaction names, once per item of the transaction,
before writing anything, so that it can put the tables back if one condition fails. Each
routing decision is a four-item transaction, so with 10,000 conversations stored one decision
copied 40,000 items, and the concurrency test and the routing bench spent nearly all their
time there. A transaction only ever writes the items it names, so a copy of those items is
enough to undo it; that is what this keeps. Everything that decides a transaction (its
conditions, the all-or-nothing outcome, the cancellation reasons) is still moto's own code.

Not undone: stream records of a cancelled transaction (the stack's table has no stream).
Opt-in, with `faster_transactions()`, where a test or bench stores many items.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_Saved = tuple[Table, DynamoType, DynamoType | None, Any]


class _KeepTables:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a table is kept as it
    is (the items named are saved instead); anything else is copied as before."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    copy = staticmethod(copy.copy)


def _key_of(table: Table, op_type: str, op: dict[str, Any]) -> tuple[DynamoType, Any] | None:
    key = op.get("Item") if op_type == "Put" else op.get("Key")
    if not key or table.hash_key_attr not in key:
        return None
    if table.range_key_attr is None:
        return DynamoType(key[table.hash_key_attr]), None
    if table.range_key_attr not in key:
        return None
    return DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])


def _save(backend: Any, transact_items: list[dict[str, Any]]) -> list[_Saved]:
    saved: list[_Saved] = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            key = _key_of(table, op_type, op) if table is not None else None
            if key is None:
                # moto refuses such an operation before writing anything.
                continue
            hash_value, range_value = key
            saved.append((table, hash_value, range_value,
                          copy.deepcopy(table.get_item(hash_value, range_value))))
    return saved


def _restore(saved: list[_Saved]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item


@contextmanager
def faster_transactions() -> Iterator[None]:
    backend_class = dynamodb_models.DynamoDBBackend
    original = backend_class.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _save(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(saved)
            raise

    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]
    dynamodb_models.copy = _KeepTables  # type: ignore[assignment]
    try:
        yield
    finally:
        backend_class.transact_write_items = original  # type: ignore[method-assign]
        dynamodb_models.copy = copy  # type: ignore[assignment]
