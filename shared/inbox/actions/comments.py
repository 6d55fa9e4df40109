"""Acting on Page comments from the inbox: public and private replies, like, hide, delete.

Each action is a `check_*` (the member may see the conversation, the comment is in it, and
Facebook would allow the action now) that calls a `do_*` (write, call Facebook as the page
through `page_graph_call`, record the outcome, then publish). A page flagged for
reconnection is refused before anything is written.

Facebook sends the page's own changes back as feed webhooks (PLATFORM.md §4.2). Each action
leaves exactly what ingestion compares against, so that those webhooks change nothing:
- a public reply's `CommentAlias` is written in the same transaction that marks it sent, so
  the `add` from the page finds it (`echo_matched`);
- hide and unhide set `hidden` with `hidden_changed_at` taken after Facebook answered, never
  before Facebook's own (whole-second) time of the change, so the `hide` webhook is stale;
- delete sets `deleted_at`, which ingestion's `remove` never overwrites;
- a private reply carries `metadata` naming its stored message, which the echo confirms.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from inbox import access, event_names
from inbox import settings as settings_module
from inbox.actions import inbound
from inbox.actions.graph_calls import check_page_can_call, page_graph_call
from inbox.errors import (
    CommentActionUnavailable,
    GraphAlreadyReplied,
    GraphCannotReply,
    GraphError,
    NotFound,
)
from inbox.models import (
    COMMENT_SK,
    PAGES_PK,
    CommentAlias,
    Conversation,
    Member,
    Message,
    Page,
    PrivateReply,
    comment_pk,
    conversation_pk,
    message_id_from_sk,
    message_sk,
    sk_from_message_id,
)
from inbox.publish import EventOutbox
from inbox.queries.schemas import iso_from_ms

logger = Logger(child=True)

# Facebook accepts one private reply per comment, within 7 days of the comment (§6.7).
PRIVATE_REPLY_WINDOW_MS = 7 * 24 * 3600 * 1000
# A private-reply claim older than this was abandoned (its request outlived the API's 30 s).
STALE_CLAIM_MS = 60 * 1000
# Refusals after which asking Facebook again cannot succeed: the claim is kept as `refused`.
_FINAL_REFUSALS = (GraphAlreadyReplied, GraphCannotReply)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class CommentTarget:
    """A stored comment a member may act on, with the conversation and page it belongs to."""

    member: Member
    conversation: Conversation
    comment: Message
    page: Page

    @property
    def comment_id(self) -> str:
        return self.comment.facebook_id or ""


def access_comment(member: Member, conversation_id: str, comment_id: str) -> CommentTarget:
    """The comment, if it is in a comment conversation the member may see.

    Raises:
        NotFound: the member may not see the conversation, or the comment is not in it.
        PageTokenInvalid: the page is flagged for reconnection; nothing may be sent for it.
    """
    conversation = access.access_conversation(member, conversation_id)
    missing = NotFound("no such comment in this conversation", conversation_id=conversation_id,
                       comment_id=comment_id)
    if conversation.channel != "comment":
        raise missing
    try:
        # The alias names where ingestion stored the comment (its key holds its time).
        alias = CommentAlias.get(comment_pk(comment_id), COMMENT_SK, consistent_read=True)
        if alias.conversation_id != conversation_id or alias.message_sk is None:
            raise missing
        comment = Message.get(conversation.pk, alias.message_sk, consistent_read=True)
    except (CommentAlias.DoesNotExist, Message.DoesNotExist) as exc:
        raise missing from exc

    page = check_page_can_call(_page(conversation.page_id or ""), conversation.page_id or "")
    return CommentTarget(member, conversation, comment, page)


def _page(page_id: str) -> Page | None:
    try:
        return Page.get(PAGES_PK, page_id)
    except Page.DoesNotExist:
        return None


def _check_not_deleted(target: CommentTarget, action: str) -> None:
    if target.comment.deleted_at is not None:
        raise CommentActionUnavailable("the comment was deleted", action=action,
                                       reason="deleted", comment_id=target.comment_id)


def _is_page_comment(target: CommentTarget) -> bool:
    return target.comment.direction == "out"


# --- public reply ----------------------------------------------------------------------------


def check_reply_to_comment(member: Member, conversation_id: str, comment_id: str, *,
                           text: str) -> Message:
    """Reply publicly under a comment, as the page; returns the stored reply.

    Raises:
        NotFound, PageTokenInvalid: see `access_comment`.
        CommentActionUnavailable: the comment was deleted.
        GraphError: Facebook refused; the reply is stored `failed` with the refusal, and the
            error carries its `message_id`.
    """
    target = access_comment(member, conversation_id, comment_id)
    _check_not_deleted(target, "reply")
    return do_reply_to_comment(target, text=text)


def do_reply_to_comment(target: CommentTarget, *, text: str) -> Message:
    """Store the reply `pending`, post it, then mark it `sent` (with its alias) or `failed`.

    Writes: the message (1 unit) and the conversation's activity (1, plus 2 for re-keying
    the list index), then the alias and the outcome in one transaction (4). One Graph call.
    """
    outbox = EventOutbox()
    reply = _store_pending_reply(target, text, outbox)

    try:
        answer = page_graph_call(target.page.page_id, "POST", f"{target.comment_id}/comments",
                                 page=target.page, message=text)
    except GraphError as exc:
        _record_failure(reply, target.page.page_id, exc, outbox)
        outbox.flush()
        exc.fields["message_id"] = message_id_from_sk(reply.sk)
        raise

    reply = _mark_reply_sent(reply, str(answer["id"]))
    outbox.add(event_names.MESSAGE_STATUS_CHANGED, conversation_id=reply.conversation_id,
               page_id=target.page.page_id, message_id=message_id_from_sk(reply.sk),
               status="sent", facebook_id=reply.facebook_id)
    outbox.flush()
    logger.info("comment reply sent", extra={"conversation_id": reply.conversation_id,
                                             "message_id": message_id_from_sk(reply.sk),
                                             "comment_id": reply.facebook_id})
    return reply


def _store_pending_reply(target: CommentTarget, text: str, outbox: EventOutbox) -> Message:
    at = now_ms()
    reply = Message(
        target.conversation.pk,
        message_sk(at, uuid.uuid4().hex),
        conversation_id=target.conversation.conversation_id,
        direction="out",
        origin="inbox",
        type="comment",
        text=text,
        send_status="pending",
        author_id=target.member.member_id,
        parent_comment_id=target.comment_id,
        created_at=at,
    )
    # Ingestion's own write path: the message once, then the conversation's activity.
    ctx = inbound.IngestContext(app_id=settings_module.settings.facebook_app_id, outbox=outbox)
    inbound._add_message(None, target.page, reply, ctx, counts_unread=False,
                         opens_window=False)
    return reply


def _mark_reply_sent(reply: Message, facebook_id: str) -> Message:
    """Mark the reply sent and write its alias, together, so its webhook is recognised.

    If the page's webhook of this very comment was ingested first (it overtook Facebook's
    answer), the alias exists already and points at that copy: the copy becomes ours and the
    pending one goes, so the conversation still shows the reply once.
    """
    alias = CommentAlias(comment_pk(facebook_id), COMMENT_SK)
    try:
        connection = Connection(region=Message.Meta.region, host=Message.Meta.host)
        with TransactWrite(connection=connection) as transaction:
            transaction.update(alias, actions=[
                CommentAlias.comment_id.set(facebook_id),
                CommentAlias.conversation_id.set(reply.conversation_id),
                CommentAlias.message_sk.set(reply.sk),
            ], condition=CommentAlias.message_sk.does_not_exist())
            transaction.update(reply, actions=[Message.send_status.set("sent"),
                                               Message.facebook_id.set(facebook_id)])
    except TransactWriteError as exc:
        if not _cancelled_by_condition(exc):
            raise
        return _adopt_ingested_copy(reply, facebook_id)
    reply.send_status, reply.facebook_id = "sent", facebook_id
    return reply


def _adopt_ingested_copy(reply: Message, facebook_id: str) -> Message:
    alias = CommentAlias.get(comment_pk(facebook_id), COMMENT_SK, consistent_read=True)
    copy = Message(conversation_pk(alias.conversation_id or ""), alias.message_sk or "")
    copy.update(actions=[Message.origin.set("inbox"), Message.author_id.set(reply.author_id)])
    reply.delete()
    logger.warning("comment reply webhook came first", extra={
        "conversation_id": reply.conversation_id, "comment_id": facebook_id})
    return copy


def _cancelled_by_condition(exc: TransactWriteError) -> bool:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


def _send_error(exc: GraphError) -> dict[str, Any]:
    # The shape Messenger sends keep (actions/outbound.py), so the inbox shows both alike.
    return {"code": exc.code, "message": exc.message,
            **{k: v for k, v in exc.fields.items()
               if k in ("graph_code", "graph_subcode", "http_status", "retry_after", "reason")}}


def _record_failure(reply: Message, page_id: str, exc: GraphError, outbox: EventOutbox) -> None:
    reply.update(actions=[Message.send_status.set("failed"),
                          Message.send_error.set(_send_error(exc))])
    outbox.add(event_names.MESSAGE_STATUS_CHANGED, conversation_id=reply.conversation_id,
               page_id=page_id, message_id=message_id_from_sk(reply.sk), status="failed",
               error_code=exc.code, graph_code=exc.fields.get("graph_code"))
    logger.warning("comment reply failed", extra={
        "conversation_id": reply.conversation_id, "message_id": message_id_from_sk(reply.sk),
        "code": exc.code, "graph_code": exc.fields.get("graph_code")})


# --- private reply ---------------------------------------------------------------------------


def private_reply_deadline(comment: Message) -> int:
    return int(comment.created_at) + PRIVATE_REPLY_WINDOW_MS


def check_private_reply(member: Member, conversation_id: str, comment_id: str, *,
                        text: str) -> Message:
    """Answer a comment privately in Messenger; returns the message stored there.

    Raises:
        NotFound, PageTokenInvalid: see `access_comment`.
        CommentActionUnavailable: Facebook would refuse: the comment is deleted or the
            page's own, its private reply was used or is being sent, or it is too old.
        GraphError: Facebook refused; the refusal is kept on the comment's `private_reply`.
    """
    target = access_comment(member, conversation_id, comment_id)
    comment = target.comment
    _check_not_deleted(target, "private_reply")
    if _is_page_comment(target):
        raise CommentActionUnavailable("the page cannot privately answer its own comment",
                                       action="private_reply", reason="page_comment",
                                       comment_id=comment_id)
    _check_private_reply_unused(comment.private_reply, comment_id, now_ms())
    deadline = private_reply_deadline(comment)
    if now_ms() >= deadline:
        raise CommentActionUnavailable(
            "Facebook allows a private reply only within 7 days of the comment",
            action="private_reply", reason="too_late", comment_id=comment_id,
            deadline=iso_from_ms(deadline))
    return do_private_reply(target, text=text)


def _check_private_reply_unused(state: PrivateReply | None, comment_id: str, at: int) -> None:
    if state is None or state.status == "failed":
        return
    if state.status == "pending" and at - int(state.at) > STALE_CLAIM_MS:
        return
    raise _private_reply_used(state, comment_id)


def _private_reply_used(state: PrivateReply | None, comment_id: str) -> CommentActionUnavailable:
    reason = "already_replied"
    if state is None or state.status == "pending":
        reason = "reply_in_progress"
    elif state.status == "refused" and (state.error or {}).get("code") == GraphCannotReply.code:
        reason = "not_allowed"
    return CommentActionUnavailable("the comment's one private reply is used",
                                   action="private_reply", reason=reason,
                                   comment_id=comment_id,
                                   messenger_conversation_id=state and state.conversation_id)


def do_private_reply(target: CommentTarget, *, text: str) -> Message:
    """Claim the comment's private reply, send it, and store it in the Messenger conversation.

    The Messenger conversation is known only from Facebook's answer (`recipient_id` is the
    person's PSID), so the message is stored after the call, under the key its `metadata`
    names; the echo then finds it. It is created with its contact when it is the first.

    Writes: the claim and the outcome on the comment (2 units), the message with its
    conversation's activity as ingestion writes them (4, more for a new conversation), and
    the two links (2). One Graph call.
    """
    outbox = EventOutbox()
    at = now_ms()
    _claim_private_reply(target, at)
    local_id = message_id_from_sk(message_sk(at, uuid.uuid4().hex))

    try:
        answer = page_graph_call(
            target.page.page_id, "POST", f"{target.page.page_id}/messages", page=target.page,
            recipient={"comment_id": target.comment_id}, message={"text": text},
            metadata=inbound.outbound_metadata(local_id))
    except GraphError as exc:
        _record_private_reply_failure(target, at, exc, outbox)
        outbox.flush()
        raise

    message = _store_private_reply(target, at, local_id, text, answer, outbox)
    _link_conversations(target, message.conversation_id, outbox)
    target.comment.update(actions=[Message.private_reply.set(PrivateReply(
        status="sent", at=at, member_id=target.member.member_id,
        conversation_id=message.conversation_id, message_id=local_id,
        facebook_id=message.facebook_id))])
    outbox.add(event_names.MESSAGE_UPDATED, conversation_id=target.conversation.conversation_id,
               page_id=target.page.page_id, facebook_id=target.comment_id,
               change="private_reply", messenger_conversation_id=message.conversation_id)
    outbox.flush()
    logger.info("private reply sent", extra={
        "conversation_id": target.conversation.conversation_id, "comment_id": target.comment_id,
        "messenger_conversation_id": message.conversation_id, "message_id": local_id})
    return message


def _claim_private_reply(target: CommentTarget, at: int) -> None:
    """Mark the private reply as being sent, unless another request holds or used it."""
    state = Message.private_reply
    try:
        target.comment.update(
            actions=[state.set(PrivateReply(status="pending", at=at,
                                            member_id=target.member.member_id))],
            # Free, failed before, or claimed by a request that died: a concurrent second
            # private reply finds a fresh claim and is refused before any call.
            condition=state.does_not_exist() | (state.status == "failed")
            | ((state.status == "pending") & (state.at < at - STALE_CLAIM_MS)),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        target.comment.refresh(consistent_read=True)
        raise _private_reply_used(target.comment.private_reply, target.comment_id) from exc


def _record_private_reply_failure(target: CommentTarget, at: int, exc: GraphError,
                                  outbox: EventOutbox) -> None:
    # After 10900 or 10903 Facebook will never accept one: kept `refused`, not retried.
    status = "refused" if isinstance(exc, _FINAL_REFUSALS) else "failed"
    target.comment.update(actions=[Message.private_reply.set(PrivateReply(
        status=status, at=at, member_id=target.member.member_id, error=_send_error(exc)))])
    outbox.add(event_names.MESSAGE_UPDATED, conversation_id=target.conversation.conversation_id,
               page_id=target.page.page_id, facebook_id=target.comment_id,
               change="private_reply", private_reply_status=status, error_code=exc.code)
    logger.warning("private reply failed", extra={
        "conversation_id": target.conversation.conversation_id, "comment_id": target.comment_id,
        "code": exc.code, "graph_code": exc.fields.get("graph_code")})


def _store_private_reply(target: CommentTarget, at: int, local_id: str, text: str,
                         answer: dict[str, Any], outbox: EventOutbox) -> Message:
    psid = str(answer["recipient_id"])
    thread = dataclasses.replace(inbound.messenger_thread(target.page.page_id, psid),
                                 name_hint=target.conversation.contact_name)
    message = Message(
        conversation_pk(thread.conversation_id),
        sk_from_message_id(local_id),
        conversation_id=thread.conversation_id,
        facebook_id=str(answer["message_id"]),
        direction="out",
        origin="inbox",
        type="text",
        text=text,
        send_status="sent",
        sent_by_app_id=settings_module.settings.facebook_app_id,
        author_id=target.member.member_id,
        # The comment it answers: the inbox shows the private reply with it.
        parent_comment_id=target.comment_id,
        created_at=at,
    )
    # Ingestion's write path, so a conversation opened by a private reply is made (and
    # routed) exactly like one opened by a message. It does not open the window: Facebook
    # lets the page send nothing more until the person answers (PLATFORM.md §6.7).
    ctx = inbound.IngestContext(app_id=settings_module.settings.facebook_app_id, outbox=outbox)
    inbound._add_message(thread, target.page, message, ctx, counts_unread=False,
                         opens_window=False)
    return message


def _link_conversations(target: CommentTarget, messenger_id: str, outbox: EventOutbox) -> None:
    comment_id = target.conversation.conversation_id or ""
    target.conversation.update(actions=[Conversation.messenger_conversation_id.set(messenger_id)])
    Conversation(conversation_pk(messenger_id), "CONV").update(
        actions=[Conversation.comment_conversation_ids.add({comment_id})])
    for conversation_id in (comment_id, messenger_id):
        outbox.add(event_names.CONVERSATION_UPDATED, conversation_id=conversation_id,
                   page_id=target.page.page_id, change="linked",
                   messenger_conversation_id=messenger_id, comment_conversation_id=comment_id)


# --- like, hide, delete ----------------------------------------------------------------------


def check_like_comment(member: Member, conversation_id: str, comment_id: str, *,
                       liked: bool) -> Message:
    """Like (or unlike) a comment as the page; a comment already so is left alone.

    Facebook refuses a like of a liked comment and an unlike of one not liked (§6.2), so
    the stored state decides whether a call is needed at all.

    Raises:
        NotFound, PageTokenInvalid: see `access_comment`.
        CommentActionUnavailable: the comment was deleted.
        GraphError: Facebook refused; nothing changed.
    """
    target = access_comment(member, conversation_id, comment_id)
    _check_not_deleted(target, "like")
    if bool(target.comment.liked_by_page) == liked:
        return target.comment
    return do_like_comment(target, liked=liked)


def do_like_comment(target: CommentTarget, *, liked: bool) -> Message:
    page_graph_call(target.page.page_id, "POST" if liked else "DELETE",
                    f"{target.comment_id}/likes", page=target.page)
    target.comment.update(actions=[Message.liked_by_page.set(liked)])
    _announce_change(target, "like", liked_by_page=liked)
    return target.comment


def check_hide_comment(member: Member, conversation_id: str, comment_id: str, *,
                       hidden: bool) -> Message:
    """Hide (or unhide) a comment; hidden, it stays visible to its author and their friends.

    Raises:
        NotFound, PageTokenInvalid: see `access_comment`.
        CommentActionUnavailable: the comment was deleted, or is the page's own (§6.3).
        GraphError: Facebook refused; nothing changed.
    """
    target = access_comment(member, conversation_id, comment_id)
    _check_not_deleted(target, "hide")
    if _is_page_comment(target):
        raise CommentActionUnavailable("Facebook does not hide the page's own comments",
                                       action="hide", reason="page_comment",
                                       comment_id=comment_id)
    if bool(target.comment.hidden) == hidden:
        return target.comment
    return do_hide_comment(target, hidden=hidden)


def do_hide_comment(target: CommentTarget, *, hidden: bool) -> Message:
    page_graph_call(target.page.page_id, "POST", target.comment_id, page=target.page,
                    is_hidden=hidden)
    # Taken after Facebook answered: the webhook of this change carries Facebook's time of
    # it in whole seconds, at or before this, and ingestion keeps only later changes.
    at = now_ms()
    try:
        target.comment.update(
            actions=[Message.hidden.set(hidden), Message.hidden_changed_at.set(at)],
            condition=Message.hidden_changed_at.does_not_exist()
            | (Message.hidden_changed_at < at),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        # A later change by someone else was ingested meanwhile; it stands.
        target.comment.refresh(consistent_read=True)
        return target.comment
    _announce_change(target, "visibility", hidden=hidden)
    return target.comment


def check_delete_comment(member: Member, conversation_id: str, comment_id: str) -> Message:
    """Delete a comment on Facebook; the inbox keeps it, marked deleted.

    Raises:
        NotFound, PageTokenInvalid: see `access_comment`.
        GraphError: Facebook refused; nothing changed.
    """
    target = access_comment(member, conversation_id, comment_id)
    if target.comment.deleted_at is not None:
        return target.comment
    return do_delete_comment(target)


def do_delete_comment(target: CommentTarget) -> Message:
    page_graph_call(target.page.page_id, "DELETE", target.comment_id, page=target.page)
    try:
        target.comment.update(actions=[Message.deleted_at.set(now_ms())],
                              condition=Message.deleted_at.does_not_exist())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        # Its removal webhook (someone else's delete) was ingested first.
        target.comment.refresh(consistent_read=True)
        return target.comment
    _announce_change(target, "deleted")
    return target.comment


def _announce_change(target: CommentTarget, change: str, **detail: Any) -> None:
    outbox = EventOutbox()
    outbox.add(event_names.MESSAGE_UPDATED, conversation_id=target.conversation.conversation_id,
               page_id=target.page.page_id, facebook_id=target.comment_id,
               message_id=message_id_from_sk(target.comment.sk), change=change,
               by=target.member.member_id, **detail)
    outbox.flush()
    logger.info("comment changed", extra={
        "conversation_id": target.conversation.conversation_id, "comment_id": target.comment_id,
        "change": change})

