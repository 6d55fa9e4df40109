import {
  Anchor, Badge, Box, Button, Group, Image, Paper, Stack, Text, TextInput, Tooltip,
} from "@mantine/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Api, ApiError } from "../api";
import { time } from "../format";
import type { ConversationDetail, Message, Post } from "../types";
import { AttachmentView } from "./MessageBubble";

/** A comment conversation: the post, its comments threaded under their parents, moderation. */
export function CommentThread(props: {
  api: Api;
  conversation: ConversationDetail;
  messages: Message[];
  onChanged: () => void;
}) {
  const { conversation, messages } = props;
  const byParent = new Map<string, Message[]>();
  const ids = new Set(messages.map((m) => m.facebook_id));
  const roots: Message[] = [];
  for (const m of messages) {
    const parent = m.parent_comment_id;
    if (parent && ids.has(parent)) {
      byParent.set(parent, [...(byParent.get(parent) ?? []), m]);
    } else {
      roots.push(m);
    }
  }
  return (
    <Stack gap="sm" data-testid="comment-thread">
      <PostCard api={props.api} conversation={conversation} />
      {roots.map((m) => (
        <Comment key={m.id} {...props} message={m} replies={byParent.get(m.facebook_id ?? "") ?? []} />
      ))}
    </Stack>
  );
}

/** The post the comments are under, read from Facebook; its link whatever Facebook says. */
function PostCard(props: { api: Api; conversation: ConversationDetail }) {
  const { api, conversation } = props;
  const { t } = useTranslation();
  const [post, setPost] = useState<Post | null>(null);
  useEffect(() => {
    void api.post(conversation.id).then(setPost).catch(() => setPost(null));
  }, [api, conversation.id]);
  if (!conversation.post_id) return null;
  return (
    <Paper withBorder p="sm" bg="gray.0" data-testid="post">
      <Group justify="space-between" gap={4}>
        <Text size="xs" c="dimmed">{t("comments.post")}</Text>
        {post?.created_at && <Text size="xs" c="dimmed">{time(post.created_at)}</Text>}
      </Group>
      <Group align="flex-start" wrap="nowrap" gap="sm" mt={4}>
        {post?.picture_url && (
          <Image src={post.picture_url} w={72} h={72} radius="sm" alt={t("comments.post")} />
        )}
        <div style={{ minWidth: 0 }}>
          {post?.message && (
            <Text size="sm" lineClamp={3} style={{ whiteSpace: "pre-wrap" }}>
              {post.message}
            </Text>
          )}
          <Anchor size="sm" fw={600} target="_blank" rel="noreferrer" data-testid="post-link"
            href={post?.permalink_url ?? postLink(conversation.post_id)}>
            {t("comments.openPost")}
          </Anchor>
        </div>
      </Group>
    </Paper>
  );
}

function Comment(props: {
  api: Api;
  conversation: ConversationDetail;
  message: Message;
  replies: Message[];
  onChanged: () => void;
}) {
  const { api, conversation, message, replies, onChanged } = props;
  const { t } = useTranslation();
  const [mode, setMode] = useState<"reply" | "private-reply" | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const commentId = message.facebook_id ?? "";
  const fromPage = message.direction === "out";

  async function act(run: () => Promise<unknown>) {
    setError(null);
    try {
      await run();
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t("errors.network"));
    }
  }

  async function submit() {
    if (!mode || !text.trim()) return;
    await act(() => api.comment(conversation.id, commentId, mode, text.trim()));
    setText("");
    setMode(null);
  }

  return (
    <Box data-testid="comment" data-comment-id={commentId} data-hidden={message.hidden ? "true" : "false"}>
      <Paper withBorder p="sm" bg={fromPage ? "indigo.0" : undefined}
        style={{ opacity: message.hidden || message.deleted ? 0.6 : 1 }}>
        <Group justify="space-between" gap={4}>
          <Text size="sm" fw={600}>
            {fromPage ? t("comments.page") : conversation.contact_name ?? t("list.unknownContact")}
          </Text>
          <Group gap={4}>
            {fromPage && message.status === "failed" && (
              <Tooltip label={message.send_error?.message ?? ""} disabled={!message.send_error}>
                <Badge size="xs" color="red" data-testid="comment-failed">{t("chat.failed")}</Badge>
              </Tooltip>
            )}
            {message.hidden && <Badge size="xs" color="gray">{t("comments.hiddenBadge")}</Badge>}
            {message.deleted && <Badge size="xs" color="red">{t("comments.deletedBadge")}</Badge>}
            {message.liked_by_page && <Badge size="xs" color="blue">{t("comments.likedBadge")}</Badge>}
            {message.private_reply && (
              <Badge size="xs" color="teal">
                {t("comments.privateReplyStatus", { status: t(
                  `comments.privateReplyStates.${message.private_reply.status}`,
                  { defaultValue: message.private_reply.status }) })}
              </Badge>
            )}
            <Text size="xs" c="dimmed">{time(message.created_at)}</Text>
          </Group>
        </Group>
        {message.text && <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>{message.text}</Text>}
        {message.attachments.map((a, i) => <AttachmentView key={i} attachment={a} />)}
        {fromPage && message.status === "failed" && message.send_error?.message && (
          <Text size="xs" c="red">{message.send_error.message}</Text>
        )}
        {!fromPage && !message.deleted && (
          <Group gap={4} mt={6}>
            <Button size="compact-xs" variant="subtle"
              onClick={() => act(() => api.moderate(conversation.id, commentId, "like",
                !message.liked_by_page))}>
              {message.liked_by_page ? t("comments.unlike") : t("comments.like")}
            </Button>
            <Button size="compact-xs" variant="subtle"
              onClick={() => act(() => api.moderate(conversation.id, commentId, "hidden",
                !message.hidden))}>
              {message.hidden ? t("comments.unhide") : t("comments.hide")}
            </Button>
            <Button size="compact-xs" variant="subtle" color="red"
              onClick={() => {
                if (window.confirm(t("comments.confirmDelete"))) {
                  void act(() => api.moderate(conversation.id, commentId, "delete", true));
                }
              }}>{t("comments.delete")}</Button>
            <Button size="compact-xs" variant="subtle" onClick={() => setMode("reply")}>
              {t("comments.reply")}
            </Button>
            {!message.private_reply && (
              <Button size="compact-xs" variant="subtle" onClick={() => setMode("private-reply")}>
                {t("comments.privateReply")}
              </Button>
            )}
          </Group>
        )}
        {mode && (
          <Group mt={6} gap={4}>
            <TextInput size="xs" style={{ flex: 1 }} autoFocus value={text}
              aria-label={mode === "reply" ? t("comments.replyPlaceholder")
                : t("comments.privatePlaceholder")}
              placeholder={mode === "reply" ? t("comments.replyPlaceholder")
                : t("comments.privatePlaceholder")}
              onChange={(e) => setText(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") void submit();
                if (e.key === "Escape") setMode(null);
              }} />
            <Button size="xs" onClick={() => void submit()}>{t("composer.send")}</Button>
            <Button size="xs" variant="default" onClick={() => setMode(null)}>{t("cancel")}</Button>
          </Group>
        )}
        {error && <Text size="xs" c="red" role="alert">{error}</Text>}
      </Paper>
      {replies.length > 0 && (
        <Stack gap={6} ml="xl" mt={6}>
          {replies.map((r) => (
            <Comment key={r.id} {...props} message={r} replies={[]} />
          ))}
        </Stack>
      )}
    </Box>
  );
}

/** The post's address on Facebook: a post id is `<page id>_<post number>`. */
function postLink(postId: string): string {
  const [page, post] = postId.split("_");
  return post ? `https://www.facebook.com/${page}/posts/${post}`
    : `https://www.facebook.com/${postId}`;
}
