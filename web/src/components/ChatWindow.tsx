import { Badge, Box, Card, Group, Image, Loader, ScrollArea, Stack, Text, Title } from "@mantine/core";
import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Api } from "../api";
import type { ConversationDetail, Member, Message, Referral } from "../types";
import { CommentThread } from "./CommentThread";
import { Composer } from "./Composer";
import { InfoPanel } from "./InfoPanel";
import { MessageBubble } from "./MessageBubble";

export function ChatWindow(props: {
  api: Api;
  conversationId: string;
  me: Member | null;
  members: Member[];
  version: number;
  onChanged: () => void;
  onRead?: (conversationId: string) => void;
}) {
  const { api, conversationId, version, onChanged, onRead } = props;
  const { t } = useTranslation();
  const [conversation, setConversation] = useState<ConversationDetail | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [missing, setMissing] = useState(false);
  const viewport = useRef<HTMLDivElement>(null);
  // Follows the newest message while the member is at the bottom, photos loading included;
  // once they scroll up to read, new messages and late photos leave them where they are.
  const atBottom = useRef(true);
  const lastY = useRef(0);
  // Marked seen once per opening: each refetch after a live event would send it again.
  const markedSeen = useRef(false);

  const load = useCallback(async () => {
    try {
      const [detail, page] = await Promise.all([
        api.conversation(conversationId),
        api.messages(conversationId),
      ]);
      setConversation(detail);
      // The API pages newest first; the chat reads oldest first.
      setMessages([...page.items].reverse());
      // Open on screen, its messages are read: the team's unread count goes to zero, as
      // messages keep arriving while it stays open.
      if (detail.unread_count > 0) {
        // The list shows it read at once, not after the push that follows.
        void api.read(conversationId).then(() => onRead?.(conversationId)).catch(() => {});
      }
      if (!markedSeen.current && detail.unread_count > 0 && detail.channel !== "comment"
        && detail.window.state === "open") {
        markedSeen.current = true;
        void api.seen(conversationId).catch(() => {});
      }
    } catch {
      setMissing(true);
    }
  }, [api, conversationId, onRead]);

  useEffect(() => {
    void load();
  }, [load, version]);

  const followBottom = useCallback(() => {
    const element = viewport.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
  }, []);

  useEffect(followBottom, [messages.length, followBottom]);

  // Photos, cards and players take their height when they load, after the messages render:
  // the content's growth is followed, not only the message count. So is the chat's own
  // height shrinking (the composer growing with an error line or attachment chips), which
  // would otherwise hide the newest messages under it.
  const observer = useRef<ResizeObserver | null>(null);
  const content = useCallback((element: HTMLDivElement | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (element) {
      observer.current = new ResizeObserver(followBottom);
      observer.current.observe(element);
    }
  }, [followBottom]);
  const shown = conversation !== null;
  useEffect(() => {
    // The viewport exists once the conversation is shown (its ref is set after the content's).
    const element = viewport.current;
    if (!element) return;
    const watch = new ResizeObserver(followBottom);
    watch.observe(element);
    return () => watch.disconnect();
  }, [shown, followBottom]);

  const changed = useCallback(() => {
    void load();
    onChanged();
  }, [load, onChanged]);

  if (missing && !conversation) {
    return <Text c="dimmed" p="md">{t("chat.missing")}</Text>;
  }
  if (!conversation) return <Group justify="center" w="100%"><Loader size="sm" /></Group>;

  const isComment = conversation.channel === "comment";
  return (
    <>
      <Box style={{ flex: 1, minWidth: 0, display: "flex", flexDirection: "column" }}
        data-testid="chat" data-conversation-id={conversation.id}>
        <Group px="md" py="xs" justify="space-between"
          style={{ borderBottom: "1px solid var(--mantine-color-gray-3)" }}>
          <Title order={5}>{conversation.contact_name ?? t("list.unknownContact")}</Title>
          {!isComment && (
            <Badge data-testid="window-state" variant="light"
              color={{ open: "green", human_agent: "yellow", closed: "gray" }[conversation.window.state]}>
              {t(`window.${conversation.window.state}`)}
            </Badge>
          )}
        </Group>
        <ScrollArea style={{ flex: 1 }} p="md" viewportRef={viewport}
          onScrollPositionChange={({ y }) => {
            const element = viewport.current;
            if (!element) return;
            // Only the member scrolling up leaves the bottom: content growing under a late
            // scroll event must not read as that (the chat then stopped following photos).
            if (element.scrollHeight - element.clientHeight - y < 40) atBottom.current = true;
            else if (y < lastY.current) atBottom.current = false;
            lastY.current = y;
          }}>
          <div ref={content}>
          {conversation.referral && <ReferralCard referral={conversation.referral} />}
          {isComment ? (
            <CommentThread api={api} conversation={conversation} messages={messages}
              onChanged={changed} />
          ) : (
            <Stack gap="xs">
              {messages.map((m) => (
                <MessageBubble key={m.id} message={m}
                  onRetry={(failed) => void api.retry(conversation.id, failed.id).finally(changed)} />
              ))}
            </Stack>
          )}
          </div>
        </ScrollArea>
        {!isComment && <Composer api={api} conversation={conversation} onSent={changed} />}
      </Box>
      <InfoPanel api={api} conversation={conversation} me={props.me} members={props.members}
        onChanged={changed} version={version} />
    </>
  );
}

function ReferralCard({ referral }: { referral: Referral }) {
  const { t } = useTranslation();
  return (
    <Card withBorder mb="md" p="sm" data-testid="referral" maw={420}>
      <Text size="xs" c="dimmed">{t(`referral.kinds.${referral.kind}`, { defaultValue: t("referral.kinds.other") })}</Text>
      {referral.ad_photo_url && <Image src={referral.ad_photo_url} h={120} fit="cover" alt="" />}
      <Text size="sm" fw={600}>{referral.ad_title ?? referral.ref ?? referral.source ?? ""}</Text>
      {referral.ad_id && <Text size="xs" c="dimmed">{t("referral.ad", { id: referral.ad_id })}</Text>}
    </Card>
  );
}
