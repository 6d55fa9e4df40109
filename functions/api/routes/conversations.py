"""Routing a conversation by hand: pick up, transfer, close, reopen; and its timeline."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox import access
from inbox.actions import routing
from inbox.models import Conversation
from inbox.queries import timeline
from inbox.queries.conversations import conversation_out
from inbox.queries.schemas import ConversationOut, TimelineList
from pydantic import Field, StrictBool

from routes.common import BEARER, BODY, PROTECTED, RequestBody, answers, current_member

router = Router()

ConversationId = Annotated[str, Path(min_length=1, max_length=128)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]


class TransferRequest(RequestBody):
    to_member_id: str | None = Field(default=None, min_length=1, max_length=128,
                                     description="The member to hand it to; null: the queue.")
    note: str | None = Field(default=None, max_length=1000)
    force: StrictBool = Field(default=False, description="Past the member's reception limit "
                        "(supervisor, admin, owner).")


class CloseRequest(RequestBody):
    tags: list[Tag] = Field(default_factory=list, max_length=20,
                            description="Conversation tags.")


def _answer(conversation: Conversation) -> ConversationOut:
    # What the routing change left, whether or not the member may still see it (a transfer
    # to another agent hides it from them under isolation): they just made the change.
    return conversation_out(conversation)


@router.post("/api/conversations/<conversation_id>/pick-up",
             summary="Take an unassigned conversation", tags=["routing"], security=BEARER,
             responses=answers(*PROTECTED))
def pick_up(conversation_id: ConversationId) -> ConversationOut:
    member = current_member()
    # Picking up gives the conversation to whoever asks: a person, not a key.
    access.check_is_person(member)
    return _answer(routing.check_pick_up(member, conversation_id))


@router.post("/api/conversations/<conversation_id>/transfer",
             summary="Hand a conversation to another member, or back to the queue",
             tags=["routing"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def transfer(conversation_id: ConversationId,
             body: Annotated[TransferRequest, Body()]) -> ConversationOut:
    conversation = routing.check_transfer(current_member(), conversation_id,
                                          to_member_id=body.to_member_id, note=body.note,
                                          force=body.force)
    return _answer(conversation)


@router.post("/api/conversations/<conversation_id>/close",
             summary="Close a conversation with conversation tags", tags=["routing"],
             security=BEARER, responses=answers(*PROTECTED, *BODY))
def close(conversation_id: ConversationId,
          body: Annotated[CloseRequest, Body()]) -> ConversationOut:
    return _answer(routing.check_close(current_member(), conversation_id,
                                       tags=list(body.tags)))


@router.post("/api/conversations/<conversation_id>/reopen",
             summary="Reopen a closed conversation", tags=["routing"], security=BEARER,
             responses=answers(*PROTECTED))
def reopen(conversation_id: ConversationId) -> ConversationOut:
    member = current_member()
    # Re-opening gives the conversation to whoever re-opens it: a person, not a key.
    access.check_is_person(member)
    return _answer(routing.check_reopen(member, conversation_id))


@router.get("/api/conversations/<conversation_id>/timeline",
            summary="A conversation's routing history, oldest first", tags=["routing"],
            security=BEARER, responses=answers(*PROTECTED))
def get_timeline(conversation_id: ConversationId) -> TimelineList:
    return timeline.conversation_timeline(current_member(), conversation_id)
