"""DynamoDB request units, computed from item sizes by DynamoDB's documented rules.

moto cannot be asked: moto 5.2.5, called with `ReturnConsumedCapacity=INDEXES` on a table with
an ALL-projected GSI, reports 1.0 unit and no index entry for a 3 KB put (DynamoDB charges 3
for the item plus 3 for the index), 0.5 for an update that re-keys the GSI (at least 1 plus
2 index writes), 0.5 for a strongly consistent GetItem (1), and files a GSI query under
`LocalSecondaryIndexes`. So the meter watches every DynamoDB call, reads the item before and
after each write through a raw client of its own (calls it never counts), and prices the call:

- item size: the sum of attribute name and value lengths (strings in UTF-8, numbers about one
  byte per two significant digits plus one, lists and maps 3 bytes plus 1 per element);
- a write: ceil(size / 1 KB) of the larger of the item before and after, at least 1;
  a conditional write that fails: the larger of the stored item and the one offered (an
  update's would-be item is not computed: the stored one stands in), at least 1, and no
  index write;
- each index whose entry (table keys, index keys, projected attributes) appears, disappears
  or changes: ceil(entry size / 1 KB) per index write; a changed index key is a delete plus
  a put, two writes; the 100 bytes of per-entry overhead DynamoDB adds for storage are left
  out, since the write-unit rule is stated on the entry itself;
- a read: ceil(size / 4 KB), at least 1, halved when eventually consistent; a read of a
  missing item still costs that minimum; a query or scan is one read of the total size of
  the items it evaluated (before any filter or projection);
- transactions: twice the units of the same operations outside one.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.client import BaseClient
from botocore.exceptions import ClientError

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096

Item = dict[str, dict[str, Any]]


# --- sizes -----------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value in wire form (`{"S": ...}`)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data if isinstance(data, bytes) else base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in data)
    if kind == "NS":
        return sum(_number_size(n) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(element)
                       for name, element in data.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


# --- table shape -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    # None projects every attribute (ALL); otherwise the non-key attributes it carries.
    projected: frozenset[str] | None


@dataclass(frozen=True)
class TableShape:
    keys: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    @classmethod
    def from_description(cls, table: dict[str, Any]) -> TableShape:
        indexes = []
        for described in (table.get("GlobalSecondaryIndexes") or []) + (
            table.get("LocalSecondaryIndexes") or []
        ):
            projection = described.get("Projection", {})
            kind = projection.get("ProjectionType", "ALL")
            projected = None if kind == "ALL" else frozenset(
                projection.get("NonKeyAttributes", []) if kind == "INCLUDE" else []
            )
            indexes.append(Index(described["IndexName"],
                                 tuple(k["AttributeName"] for k in described["KeySchema"]),
                                 projected))
        return cls(tuple(k["AttributeName"] for k in table["KeySchema"]), tuple(indexes))

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys}

    def entry(self, index: Index, item: Item | None) -> Item | None:
        """The item's entry in an index, or None when the item is not in it (sparse index)."""
        if item is None or any(name not in item for name in index.keys):
            return None
        names = set(self.keys) | set(index.keys)
        if index.projected is None:
            return dict(item)
        return {name: value for name, value in item.items()
                if name in names or name in index.projected}


@dataclass(frozen=True)
class WriteCost:
    table_units: int
    # Index name → units, for indexes the write touched.
    index_units: dict[str, int]

    @property
    def total(self) -> int:
        return self.table_units + sum(self.index_units.values())


def write_cost(shape: TableShape, before: Item | None, after: Item | None) -> WriteCost:
    """Units of a successful write that turned `before` into `after` (None: no item)."""
    table_units = write_units(max(item_size(before), item_size(after)))
    index_units = {}
    for index in shape.indexes:
        old, new = shape.entry(index, before), shape.entry(index, after)
        if old == new:
            continue
        if old is None or new is None:
            units = write_units(item_size(old or new))
        elif any(old[name] != new[name] for name in index.keys):
            units = write_units(item_size(old)) + write_units(item_size(new))
        else:
            units = write_units(max(item_size(old), item_size(new)))
        index_units[index.name] = units
    return WriteCost(table_units, index_units)


def failed_write_cost(before: Item | None, offered: Item | None) -> WriteCost:
    return WriteCost(write_units(max(item_size(before), item_size(offered))), {})


# --- the meter -------------------------------------------------------------------------------


@dataclass
class Charge:
    operation: str
    table: str
    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    failed_condition: bool = False


@dataclass
class Tally:
    """Units charged while it was open: one record's worth, or a whole run."""

    charges: list[Charge] = field(default_factory=list)

    @property
    def read_units(self) -> float:
        return float(sum(c.read_units for c in self.charges))

    @property
    def write_units(self) -> float:
        return float(sum(c.write_units for c in self.charges))

    @property
    def index_write_units(self) -> float:
        return float(sum(c.index_write_units for c in self.charges))


_serializer = TypeSerializer()
_WIRE_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
_KEY_ONLY_READ_PARAMS = ("TableName", "IndexName", "KeyConditionExpression", "KeyConditions",
                         "ExclusiveStartKey", "Limit", "ScanIndexForward", "ConsistentRead",
                         "Segment", "TotalSegments")
_active: CapacityMeter | None = None
_original_make_api_call = BaseClient._make_api_call


def _wire(item: dict[str, Any]) -> Item:
    """Items in wire form; boto3's resource layer would hand over plain Python values."""
    return {name: value if _is_wire(value) else _serializer.serialize(value)
            for name, value in item.items()}


def _is_wire(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _WIRE_TYPES


def _metered_make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    meter = _active
    if meter is None or client is meter.raw:
        return _original_make_api_call(client, operation, params)
    service = client.meta.service_model.service_name
    meter.calls[(service, operation)] = meter.calls.get((service, operation), 0) + 1
    if service != "dynamodb":
        return _original_make_api_call(client, operation, params)
    return meter.observe(operation, params,
                         lambda: _original_make_api_call(client, operation, params))


class CapacityMeter:
    """Prices every DynamoDB call made while installed, by the rules in this module's docstring.

    It patches botocore's `BaseClient._make_api_call`, the one road both PynamoDB's
    `Connection._make_api_call` and every boto3 client take, so no call is missed or counted
    twice. `raw` is the meter's own client for before and after images; its calls are free.
    It also counts every AWS call by `(service, operation)` in `calls`.
    """

    def __init__(self, raw: BaseClient) -> None:
        self.raw = raw
        self.total = Tally()
        self.calls: dict[tuple[str, str], int] = {}
        self._open: list[Tally] = []
        self._shapes: dict[str, TableShape] = {}

    @contextmanager
    def installed(self) -> Iterator[CapacityMeter]:
        global _active
        assert _active is None, "one meter at a time"
        _active = self
        BaseClient._make_api_call = _metered_make_api_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = _original_make_api_call  # type: ignore[method-assign]
            _active = None

    @contextmanager
    def tally(self) -> Iterator[Tally]:
        """Collect the charges made inside the block (and still add them to `total`)."""
        tally = Tally()
        self._open.append(tally)
        try:
            yield tally
        finally:
            self._open.remove(tally)

    # -- pricing --

    def observe(self, operation: str, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        price = getattr(self, f"_price_{_snake(operation)}", None)
        if price is None:
            # Control-plane calls (DescribeTable, CreateTable...) cost no request units.
            return call()
        return price(params, call)

    def _charge(self, charge: Charge) -> None:
        self.total.charges.append(charge)
        for tally in self._open:
            tally.charges.append(charge)

    def shape(self, table: str) -> TableShape:
        if table not in self._shapes:
            described = self.raw.describe_table(TableName=table)["Table"]
            self._shapes[table] = TableShape.from_description(described)
        return self._shapes[table]

    def _image(self, table: str, key: Item) -> Item | None:
        found = self.raw.get_item(TableName=table, Key=key, ConsistentRead=True)
        return found.get("Item")

    def _write(self, operation: str, table: str, key: Item, call: Callable[[], Any], *,
               offered: Item | None = None, deletes: bool = False, factor: int = 1) -> Any:
        before = self._image(table, key)
        try:
            answer = call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            cost = failed_write_cost(before, offered)
            self._charge(Charge(operation, table, write_units=cost.total * factor,
                                failed_condition=True))
            raise
        after = None if deletes else (offered if offered is not None
                                      else self._image(table, key))
        cost = write_cost(self.shape(table), before, after)
        self._charge(Charge(operation, table, write_units=cost.total * factor,
                            index_write_units=sum(cost.index_units.values()) * factor))
        return answer

    def _price_put_item(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        table, item = params["TableName"], _wire(params["Item"])
        return self._write("PutItem", table, self.shape(table).key_of(item), call, offered=item)

    def _price_update_item(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        return self._write("UpdateItem", params["TableName"], _wire(params["Key"]), call)

    def _price_delete_item(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        return self._write("DeleteItem", params["TableName"], _wire(params["Key"]), call,
                           deletes=True)

    def _price_get_item(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        answer = call()
        table = params["TableName"]
        item = answer.get("Item")
        if params.get("ProjectionExpression") or params.get("AttributesToGet"):
            # A projection trims the answer, not the bill: the whole item is read.
            item = self._image(table, _wire(params["Key"]))
        units = read_units(item_size(item), consistent=bool(params.get("ConsistentRead")))
        self._charge(Charge("GetItem", table, read_units=units))
        return answer

    def _price_batch_get_item(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        answer = call()
        for table, request in params["RequestItems"].items():
            consistent = bool(request.get("ConsistentRead"))
            units = sum(read_units(item_size(self._image(table, _wire(key))),
                                   consistent=consistent) for key in request["Keys"])
            self._charge(Charge("BatchGetItem", table, read_units=units))
        return answer

    def _price_query(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        return self._read_many("Query", params, call)

    def _price_scan(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        return self._read_many("Scan", params, call)

    def _read_many(self, operation: str, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        answer = call()
        # The same page again without filter or projection: what DynamoDB read to answer.
        plain = {name: params[name] for name in _KEY_ONLY_READ_PARAMS if name in params}
        used = set(_PLACEHOLDER.findall(params.get("KeyConditionExpression", "")))
        for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in (params.get(name) or {}).items() if k in used}
            if kept:
                plain[name] = kept
        read = getattr(self.raw, _snake(operation))(**plain)
        size = sum(item_size(item) for item in read.get("Items", []))
        units = read_units(size, consistent=bool(params.get("ConsistentRead")))
        self._charge(Charge(operation, params["TableName"], read_units=units))
        return answer

    def _price_batch_write_item(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        planned: list[tuple[str, Item | None, Item | None]] = []
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    item = _wire(request["PutRequest"]["Item"])
                    key = self.shape(table).key_of(item)
                    planned.append((table, self._image(table, key), item))
                else:
                    key = _wire(request["DeleteRequest"]["Key"])
                    planned.append((table, self._image(table, key), None))
        answer = call()
        for table, before, after in planned:
            cost = write_cost(self.shape(table), before, after)
            self._charge(Charge("BatchWriteItem", table, write_units=cost.total,
                                index_write_units=sum(cost.index_units.values())))
        return answer

    def _price_transact_write_items(self, params: dict[str, Any],
                                    call: Callable[[], Any]) -> Any:
        planned = []
        for action in params["TransactItems"]:
            ((kind, body),) = action.items()
            table = body["TableName"]
            offered = _wire(body["Item"]) if kind == "Put" else None
            key = self.shape(table).key_of(offered) if offered else _wire(body["Key"])
            planned.append((kind, table, key, self._image(table, key), offered))
        try:
            answer = call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            for _, table, _, before, offered in planned:
                cost = failed_write_cost(before, offered)
                self._charge(Charge("TransactWriteItems", table, write_units=2 * cost.total,
                                    failed_condition=True))
            raise
        for kind, table, key, before, offered in planned:
            if kind == "ConditionCheck":
                cost = failed_write_cost(before, None)
            else:
                after = None if kind == "Delete" else (offered or self._image(table, key))
                cost = write_cost(self.shape(table), before, after)
            self._charge(Charge("TransactWriteItems", table, write_units=2 * cost.total,
                                index_write_units=2 * sum(cost.index_units.values())))
        return answer

    def _price_transact_get_items(self, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        answer = call()
        for action in params["TransactItems"]:
            body = action["Get"]
            item = self._image(body["TableName"], _wire(body["Key"]))
            self._charge(Charge("TransactGetItems", body["TableName"],
                                read_units=2 * read_units(item_size(item), consistent=True)))
        return answer


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
