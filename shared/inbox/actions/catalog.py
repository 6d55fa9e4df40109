"""The product catalog: products members send as cards, kept as items and imported from CSV.

A card is one element of Facebook's generic template (PLATFORM.md §5.4): a title, a picture,
a subtitle carrying the price, a link opened by tapping it, and up to 3 buttons. Up to 10
cards go in one carousel. Owners, admins and supervisors edit the catalog; every member may
read it and send from it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from aws_lambda_powertools import Logger

from inbox import access
from inbox.errors import Forbidden, InvalidInput, NotFound
from inbox.models import CatalogProduct, Member
from inbox.queries.schemas import iso_from_ms

logger = Logger(child=True)

CATALOG_PK = "CATALOG"
MAX_CARDS = 10
MAX_BUTTONS = 3
MAX_TITLE = 80
MAX_SUBTITLE = 80
MAX_BUTTON_TITLE = 20
MAX_PAYLOAD = 1000
BUTTON_TYPES = ("web_url", "postback", "phone_number")
MAX_IMPORT_ROWS = 1000
CSV_COLUMNS = ("product_id", "title", "subtitle", "price", "currency", "image_url", "url")
_EDITORS = frozenset({access.OWNER, access.ADMIN, access.SUPERVISOR})
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PRODUCT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class ProductInput:
    """A product as a member gives it; `product_id` is made up when absent."""

    title: str
    product_id: str | None = None
    subtitle: str | None = None
    price: str | None = None
    currency: str | None = None
    image_url: str | None = None
    url: str | None = None
    buttons: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportResult:
    created: int
    updated: int
    errors: list[dict[str, Any]]


def check_can_edit_catalog(member: Member) -> None:
    if member.role not in _EDITORS:
        raise Forbidden("only owners, admins and supervisors edit the catalog",
                        role=member.role)


def list_products(member: Member) -> list[CatalogProduct]:
    # Partition `CATALOG`: a brand's catalog for the inbox is small (cards picked by hand).
    return list(CatalogProduct.query(CATALOG_PK))


def get_product(member: Member, product_id: str) -> CatalogProduct:
    try:
        return CatalogProduct.get(CATALOG_PK, product_id)
    except CatalogProduct.DoesNotExist:
        raise NotFound("no such product", product_id=product_id) from None


def check_create_product(member: Member, data: ProductInput) -> CatalogProduct:
    check_can_edit_catalog(member)
    clean = check_product(data)
    clean.product_id = clean.product_id or uuid.uuid4().hex[:12]
    if _exists(clean.product_id):
        raise InvalidInput("a product with this id exists", field="product_id",
                           product_id=clean.product_id)
    return do_save_product(clean, created=True)


def check_update_product(member: Member, product_id: str, data: ProductInput) -> CatalogProduct:
    check_can_edit_catalog(member)
    existing = get_product(member, product_id)
    data.product_id = product_id
    clean = check_product(data)
    return do_save_product(clean, created=False, created_at=int(existing.created_at))


def check_delete_product(member: Member, product_id: str) -> None:
    check_can_edit_catalog(member)
    product = get_product(member, product_id)
    product.delete()
    logger.info("product deleted", extra={"product_id": product_id,
                                          "member_id": member.member_id})


def do_save_product(data: ProductInput, *, created: bool,
                    created_at: int | None = None) -> CatalogProduct:
    now = int(time.time() * 1000)
    product = CatalogProduct(
        CATALOG_PK, data.product_id, product_id=data.product_id, title=data.title,
        subtitle=data.subtitle, price=data.price, currency=data.currency,
        image_url=data.image_url, url=data.url, buttons=data.buttons or None,
        created_at=created_at or now, updated_at=now,
    )
    product.save()
    # Not "created": LogRecord owns that name, and logging raises on it.
    logger.info("product saved", extra={"product_id": data.product_id, "is_new": created})
    return product


def check_product(data: ProductInput) -> ProductInput:
    """A product within Facebook's card limits, or InvalidInput naming the field."""
    title = (data.title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput("a title of 1 to 80 characters is required", field="title")
    if data.product_id is not None and not _PRODUCT_ID.match(data.product_id):
        raise InvalidInput("a product id is 1 to 64 letters, digits, '.', '_' or '-'",
                           field="product_id")
    subtitle = (data.subtitle or "").strip() or None
    if subtitle and len(subtitle) > MAX_SUBTITLE:
        raise InvalidInput("the subtitle is at most 80 characters", field="subtitle")
    price, currency = _price(data.price, data.currency)
    for name in ("image_url", "url"):
        value = getattr(data, name)
        if value and not str(value).startswith("https://"):
            raise InvalidInput("links are https URLs", field=name)
    buttons = [_button(b, i) for i, b in enumerate(data.buttons or [])]
    if len(buttons) > MAX_BUTTONS:
        raise InvalidInput("a card has at most 3 buttons", field="buttons", maximum=MAX_BUTTONS)
    return ProductInput(title=title, product_id=data.product_id, subtitle=subtitle,
                        price=price, currency=currency, image_url=data.image_url or None,
                        url=data.url or None, buttons=buttons)


def _price(price: str | None, currency: str | None) -> tuple[str | None, str | None]:
    if price is None or not str(price).strip():
        return None, None
    try:
        amount = Decimal(str(price).strip())
    except InvalidOperation:
        raise InvalidInput("the price is a number such as 49.90", field="price") from None
    if amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput("the price is positive with at most 2 decimals", field="price")
    code = (currency or "").strip().upper()
    if not _CURRENCY.match(code):
        raise InvalidInput("a price needs a 3-letter currency code such as EUR",
                           field="currency")
    return f"{amount:.2f}", code


def _button(button: dict[str, Any], index: int) -> dict[str, Any]:
    name = f"buttons[{index}]"
    kind = button.get("type")
    title = str(button.get("title") or "").strip()
    if kind not in BUTTON_TYPES:
        raise InvalidInput("unknown button type", field=f"{name}.type",
                           allowed=list(BUTTON_TYPES))
    if not title or len(title) > MAX_BUTTON_TITLE:
        raise InvalidInput("a button title is 1 to 20 characters", field=f"{name}.title")
    if kind == "web_url":
        url = str(button.get("url") or "")
        if not url.startswith("https://"):
            raise InvalidInput("a link button needs an https URL", field=f"{name}.url")
        return {"type": kind, "url": url, "title": title}
    payload = str(button.get("payload") or "")
    if not payload or len(payload) > MAX_PAYLOAD:
        raise InvalidInput("a button needs a payload of at most 1000 characters",
                           field=f"{name}.payload")
    return {"type": kind, "title": title, "payload": payload}


def _exists(product_id: str) -> bool:
    try:
        CatalogProduct.get(CATALOG_PK, product_id, attributes_to_get=["pk"])
        return True
    except CatalogProduct.DoesNotExist:
        return False


# --- cards -----------------------------------------------------------------------------------


def generic_template(product_ids: list[str]) -> dict[str, Any]:
    """The generic template payload of up to 10 products, in the order given.

    Raises:
        InvalidInput: more than 10, or a product named twice.
        NotFound: some products do not exist (`missing` lists them).
    """
    if len(product_ids) > MAX_CARDS:
        raise InvalidInput("a carousel holds at most 10 cards", field="product_ids",
                           maximum=MAX_CARDS)
    if len(set(product_ids)) != len(product_ids):
        raise InvalidInput("a product is named twice", field="product_ids")
    found = {p.product_id: p for p in
             CatalogProduct.batch_get([(CATALOG_PK, pid) for pid in product_ids])}
    missing = [pid for pid in product_ids if pid not in found]
    if missing:
        raise NotFound("no such products", field="product_ids", missing=missing)
    return {"template_type": "generic",
            "elements": [card_element(found[pid]) for pid in product_ids]}


def card_element(product: CatalogProduct) -> dict[str, Any]:
    subtitle_parts = [f"{product.currency} {product.price}" if product.price else None,
                      product.subtitle]
    subtitle = " - ".join(part for part in subtitle_parts if part)[:MAX_SUBTITLE]
    element: dict[str, Any] = {"title": product.title}
    if product.image_url:
        element["image_url"] = product.image_url
    if subtitle:
        element["subtitle"] = subtitle
    if product.url:
        element["default_action"] = {"type": "web_url", "url": product.url,
                                     "webview_height_ratio": "tall"}
    buttons = list(product.buttons or [])
    if not buttons and product.url:
        buttons = [{"type": "web_url", "url": product.url, "title": "View"}]
    if buttons:
        element["buttons"] = buttons
    return element


# --- CSV import ------------------------------------------------------------------------------


def check_import_csv(member: Member, raw: str) -> ImportResult:
    """Create or replace products from CSV; rows with errors are reported and skipped.

    Columns (header row required): `product_id, title, subtitle, price, currency,
    image_url, url`, then optional `button1_type, button1_title, button1_value` up to
    button 3 (`value` is the URL of a link button, else its payload). Only `title` is
    required; a row without `product_id` gets a new one. Rows are numbered as a spreadsheet
    shows them (the header is row 1).
    """
    check_can_edit_catalog(member)
    reader = csv.DictReader(io.StringIO(raw.lstrip("\ufeff"), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if "title" not in header:
        raise InvalidInput("the CSV needs a header row with at least a title column",
                           field="csv", columns=list(CSV_COLUMNS))
    reader.fieldnames = header

    created = updated = 0
    errors: list[dict[str, Any]] = []
    # Read whole before anything is written: a file over the limit changes nothing.
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
            if len(rows) > MAX_IMPORT_ROWS:
                raise InvalidInput("at most 1000 rows per import; nothing was imported",
                                   field="csv", maximum=MAX_IMPORT_ROWS)
    except csv.Error as exc:
        errors.append({"row": reader.line_num, "field": None,
                       "message": f"unreadable CSV: {exc}"})
    for line, row in rows:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        try:
            data = check_product(_row_product(row))
        except InvalidInput as exc:
            errors.append({"row": line, "field": exc.fields.get("field"),
                           "message": exc.message})
            continue
        is_new = data.product_id is None or not _exists(data.product_id)
        data.product_id = data.product_id or uuid.uuid4().hex[:12]
        do_save_product(data, created=is_new)
        created, updated = created + is_new, updated + (not is_new)
    logger.info("catalog imported", extra={"products_created": created,
                                           "products_updated": updated,
                                           "errors": len(errors),
                                           "member_id": member.member_id})
    return ImportResult(created=created, updated=updated, errors=errors)


def _row_product(row: dict[str, Any]) -> ProductInput:
    if None in row:
        # csv puts the surplus cells of a row longer than the header under the None key.
        raise InvalidInput("the row has more cells than the header", field=None)

    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    buttons = []
    for n in range(1, MAX_BUTTONS + 2):
        kind, title, value = (cell(f"button{n}_{part}") for part in ("type", "title", "value"))
        if not (kind or title or value):
            continue
        key = "url" if kind == "web_url" else "payload"
        buttons.append({"type": kind, "title": title, key: value})
    return ProductInput(title=cell("title") or "", product_id=cell("product_id"),
                        subtitle=cell("subtitle"), price=cell("price"),
                        currency=cell("currency"), image_url=cell("image_url"),
                        url=cell("url"), buttons=buttons)


def product_dict(product: CatalogProduct) -> dict[str, Any]:
    buttons = product.buttons
    if isinstance(buttons, str):
        buttons = json.loads(buttons)
    return {
        "id": product.product_id, "title": product.title, "subtitle": product.subtitle,
        "price": product.price, "currency": product.currency, "image_url": product.image_url,
        "url": product.url, "buttons": list(buttons or []),
        # Kept in ms; given as ISO 8601 in UTC like every other time of the API.
        "created_at": iso_from_ms(product.created_at),
        "updated_at": iso_from_ms(product.updated_at),
    }
