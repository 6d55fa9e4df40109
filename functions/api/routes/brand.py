"""The brand's settings: for now, whether agents see each other's conversations."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from inbox.actions import retention, team
from inbox.queries import team as team_queries
from inbox.queries.schemas import BrandSettingsOut
from pydantic import Field, StrictBool

from routes.common import BEARER, BODY, PROTECTED, RequestBody, answers, current_member

router = Router()


class BrandSettingsRequest(RequestBody):
    isolation: StrictBool


class RetentionRequest(RequestBody):
    # Days to keep messages and inbound media; null keeps them for good.
    days: int | None = Field(ge=1, le=retention.MAX_DAYS)


@router.get("/api/settings", summary="The brand's settings", tags=["team"], security=BEARER,
            responses=answers(*PROTECTED))
def get_settings() -> BrandSettingsOut:
    return team_queries.brand_settings(current_member())


@router.put("/api/settings", summary="Change the brand's settings (owner, admin)",
            tags=["team"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def put_settings(body: Annotated[BrandSettingsRequest, Body()]) -> BrandSettingsOut:
    saved = team.check_update_brand_settings(current_member(), isolation=body.isolation)
    return team_queries.brand_settings_out(saved)


@router.put("/api/settings/retention",
            summary="How long messages and inbound media are kept (owner, admin)",
            tags=["team"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def put_retention(body: Annotated[RetentionRequest, Body()]) -> BrandSettingsOut:
    saved = retention.check_set_retention(current_member(), body.days)
    return team_queries.brand_settings_out(saved)
