"""The product catalog: cards members send (owners, admins and supervisors edit it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions import catalog
from pydantic import BaseModel, Field

from routes.common import (
    BEARER,
    BODY,
    PROTECTED,
    RequestBody,
    answers,
    current_member,
    no_content,
)

router = Router()
_ID = Path(min_length=1, max_length=64)


class ButtonIn(RequestBody):
    type: Literal["web_url", "postback", "phone_number"]
    title: str = Field(min_length=1, max_length=20)
    url: str | None = Field(default=None, max_length=2048)
    payload: str | None = Field(default=None, max_length=1000)


class ProductIn(RequestBody):
    title: str = Field(min_length=1, max_length=80)
    product_id: str | None = Field(default=None, max_length=64)
    subtitle: str | None = Field(default=None, max_length=80)
    price: str | None = Field(default=None, max_length=20, examples=["49.90"])
    currency: str | None = Field(default=None, max_length=3, examples=["EUR"])
    image_url: str | None = Field(default=None, max_length=2048)
    url: str | None = Field(default=None, max_length=2048)
    buttons: list[ButtonIn] = Field(default_factory=list, max_length=3)


class ProductOut(BaseModel):
    id: str
    title: str
    subtitle: str | None
    price: str | None
    currency: str | None
    image_url: str | None
    url: str | None
    buttons: list[dict[str, Any]]
    created_at: str = Field(description="ISO 8601, UTC.")
    updated_at: str = Field(description="ISO 8601, UTC.")


class ProductList(BaseModel):
    items: list[ProductOut]


class ImportRequest(RequestBody):
    csv: str = Field(min_length=1, max_length=1_000_000,
                     description="CSV text with a header row (see the catalog docs).")


class ImportRowError(BaseModel):
    row: int
    field: str | None
    message: str


class ImportOut(BaseModel):
    created: int
    updated: int
    errors: list[ImportRowError]


def _input(body: ProductIn) -> catalog.ProductInput:
    data = body.model_dump()
    data["buttons"] = [{k: v for k, v in b.items() if v is not None} for b in data["buttons"]]
    return catalog.ProductInput(**data)


def _out(product: Any) -> ProductOut:
    return ProductOut(**catalog.product_dict(product))


@router.get("/api/catalog/products", summary="The product catalog", tags=["catalog"],
            security=BEARER, responses=answers(*PROTECTED))
def list_products() -> ProductList:
    return ProductList(items=[_out(p) for p in catalog.list_products(current_member())])


@router.get("/api/catalog/products/<product_id>", summary="One product", tags=["catalog"],
            security=BEARER, responses=answers(*PROTECTED))
def get_product(product_id: Annotated[str, _ID]) -> ProductOut:
    return _out(catalog.get_product(current_member(), product_id))


@router.post("/api/catalog/products", summary="Add a product", tags=["catalog"],
             security=BEARER, status_code=201,
             responses=answers(*PROTECTED, *BODY, status=201, description="Created"))
def create_product(body: Annotated[ProductIn, Body()]) -> ProductOut:
    return _out(catalog.check_create_product(current_member(), _input(body)))


@router.put("/api/catalog/products/<product_id>", summary="Replace a product",
            tags=["catalog"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def update_product(product_id: Annotated[str, _ID],
                   body: Annotated[ProductIn, Body()]) -> ProductOut:
    return _out(catalog.check_update_product(current_member(), product_id, _input(body)))


@router.delete("/api/catalog/products/<product_id>", summary="Delete a product",
               tags=["catalog"], security=BEARER,
               responses=answers(*PROTECTED, status=204, description="Done; no body"))
def delete_product(product_id: Annotated[str, _ID]) -> Response[None]:
    catalog.check_delete_product(current_member(), product_id)
    return no_content()


@router.post("/api/catalog/import", summary="Create or replace products from CSV",
             tags=["catalog"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def import_products(body: Annotated[ImportRequest, Body()]) -> ImportOut:
    result = catalog.check_import_csv(current_member(), body.csv)
    return ImportOut(created=result.created, updated=result.updated,
                     errors=[ImportRowError(**e) for e in result.errors])
