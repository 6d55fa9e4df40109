"""The product catalog through the API: create, edit, delete, list, and CSV import."""

from __future__ import annotations

import re

PRODUCTS = "/api/catalog/products"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

CSV = (
    "product_id,title,subtitle,price,currency,image_url,url,button1_type,button1_title,"
    "button1_value\n"
    "SNEAKER,Fake Sneaker,sizes 38-45,49.9,EUR,https://cdn.example.com/s.jpg,"
    "https://shop.example.com/s,postback,Add to cart,ADD:SNEAKER\n"
    ",\"Boot, waterproof\",,79,usd,,https://shop.example.com/b,,,\n"
    "BAD,No price currency,,12.5,,,,,,\n"
    "\n"
    "LINK,Bad link,,,,http://insecure.example.com/x.jpg,,,,\n"
)


def test_an_admin_creates_edits_lists_and_deletes_a_product(api, personas):
    owner = personas["owner"].token

    created = api("POST", PRODUCTS, token=owner, body={
        "product_id": "TEE", "title": "Fake Tee", "price": "19.5", "currency": "EUR",
        "url": "https://shop.example.com/tee"})
    edited = api("PUT", f"{PRODUCTS}/TEE", token=owner, body={
        "title": "Fake Tee (organic)", "price": "21", "currency": "EUR"})
    listed = api("GET", PRODUCTS, token=personas["agent"].token)
    deleted = api("DELETE", f"{PRODUCTS}/TEE", token=owner)
    gone = api("GET", f"{PRODUCTS}/TEE", token=owner)

    assert created.status == 201
    assert (created.body["id"], created.body["price"]) == ("TEE", "19.50")
    assert (edited.status, edited.body["title"], edited.body["price"]) == (
        200, "Fake Tee (organic)", "21.00")
    assert edited.body["url"] is None
    assert edited.body["created_at"] == created.body["created_at"]
    # ISO 8601 in UTC, as every other time the API gives.
    assert ISO.match(created.body["created_at"]) and ISO.match(edited.body["updated_at"])
    assert [p["id"] for p in listed.body["items"]] == ["TEE"]
    assert deleted.status == 204
    assert gone.status == 404


def test_an_agent_reads_the_catalog_but_does_not_edit_it(api, personas):
    answer = api("POST", PRODUCTS, token=personas["agent"].token, body={"title": "X"})

    assert (answer.status, answer.body["code"]) == (403, "forbidden")
    assert api("GET", PRODUCTS, token=personas["agent"].token).body["items"] == []


def test_a_card_keeps_to_facebook_limits(api, personas):
    owner = personas["owner"].token

    four_buttons = api("POST", PRODUCTS, token=owner, body={"title": "X", "buttons": [
        {"type": "postback", "title": f"B{i}", "payload": "P"} for i in range(4)]})
    bad_price = api("POST", PRODUCTS, token=owner, body={"title": "X", "price": "ten",
                                                         "currency": "EUR"})
    no_url = api("POST", PRODUCTS, token=owner, body={"title": "X", "buttons": [
        {"type": "web_url", "title": "View"}]})

    assert four_buttons.status == 422
    assert (bad_price.status, bad_price.body["field"]) == (422, "price")
    assert (no_url.status, no_url.body["field"]) == (422, "buttons[0].url")


def test_csv_import_creates_products_and_reports_bad_rows(api, personas):
    answer = api("POST", "/api/catalog/import", token=personas["owner"].token,
                 body={"csv": CSV})

    assert answer.status == 200
    assert (answer.body["created"], answer.body["updated"]) == (2, 0)
    assert answer.body["errors"] == [
        {"row": 4, "field": "currency",
         "message": "a price needs a 3-letter currency code such as EUR"},
        {"row": 6, "field": "image_url", "message": "links are https URLs"},
    ]
    items = {p["title"]: p for p in api("GET", PRODUCTS,
                                        token=personas["owner"].token).body["items"]}
    assert sorted(items) == ["Boot, waterproof", "Fake Sneaker"]
    assert items["Fake Sneaker"]["buttons"] == [
        {"type": "postback", "title": "Add to cart", "payload": "ADD:SNEAKER"}]
    assert (items["Boot, waterproof"]["price"], items["Boot, waterproof"]["currency"]) == (
        "79.00", "USD")


def test_csv_import_again_updates_by_product_id(api, personas):
    owner = personas["owner"].token
    api("POST", "/api/catalog/import", token=owner, body={"csv": CSV})

    again = api("POST", "/api/catalog/import", token=owner,
                body={"csv": "product_id,title,price,currency\nSNEAKER,Sneaker v2,45,EUR\n"})

    assert (again.body["created"], again.body["updated"], again.body["errors"]) == (0, 1, [])
    assert api("GET", f"{PRODUCTS}/SNEAKER", token=owner).body["title"] == "Sneaker v2"


def test_csv_over_the_row_limit_is_refused_and_imports_nothing(api, personas):
    owner = personas["owner"].token
    rows = "".join(f"P{n},Product {n}\n" for n in range(1001))

    answer = api("POST", "/api/catalog/import", token=owner,
                 body={"csv": "product_id,title\n" + rows})

    assert (answer.status, answer.body["code"], answer.body["maximum"]) == (
        422, "invalid_input", 1000)
    assert api("GET", PRODUCTS, token=owner).body["items"] == []


def test_csv_without_a_title_column_is_refused(api, personas):
    answer = api("POST", "/api/catalog/import", token=personas["owner"].token,
                 body={"csv": "name,price\nX,1\n"})

    assert (answer.status, answer.body["field"]) == (422, "csv")


def test_a_row_longer_than_the_header_is_a_row_error(api, personas):
    answer = api("POST", "/api/catalog/import", token=personas["owner"].token,
                 body={"csv": "title,price\nA,1,extra\n"})

    assert answer.body["errors"] == [{"row": 2, "field": None,
                                      "message": "the row has more cells than the header"}]
