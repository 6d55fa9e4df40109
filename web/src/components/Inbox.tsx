import { Badge, Box, Group, Text } from "@mantine/core";
import { useCallback, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Api, ConversationQuery } from "../api";
import i18n, { setLanguage } from "../i18n";
import { preview } from "../format";
import { chime, desktopNotify, readNotifyOptions } from "../notify";
import { Realtime } from "../realtime";
import type { Conversation, Frame, Member, Page } from "../types";
import { ChatWindow } from "./ChatWindow";
import { ConversationList } from "./ConversationList";
import { Header } from "./Header";
import { SettingsModal } from "./Settings";
import { COMPOSER_ID, SEARCH_ID, ShortcutsModal } from "./Shortcuts";

const POLL_MS = 5000;
// Events that change who holds a conversation, so members' open counts.
const ROUTING_EVENTS = new Set(["conversation.assigned", "conversation.transferred",
  "conversation.closed", "conversation.reopened", "conversation.handed_over"]);

export function Inbox(props: { api: Api; token: string; wsUrl: string; onSignOut: () => void }) {
  const { api, token, wsUrl, onSignOut } = props;
  const { t } = useTranslation();
  const [me, setMe] = useState<Member | null>(null);
  const [pages, setPages] = useState<Page[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [filters, setFilters] = useState<ConversationQuery>({ status: "" });
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [selected, setSelected] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  // Bumped to make the open conversation fetch itself again.
  const [chatVersion, setChatVersion] = useState(0);

  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const listTimer = useRef<number | undefined>(undefined);
  const known = useRef(new Map<string, Conversation>());

  const refreshList = useCallback(async () => {
    try {
      const answer = await api.conversations({ ...filtersRef.current, limit: 50 });
      setConversations(answer.items);
      setNext(answer.next ?? null);
      notifyNew(answer.items, known.current, selectedRef.current, t);
      known.current = new Map(answer.items.map((c) => [c.id, c]));
    } finally {
      setLoading(false);
    }
  }, [api, t]);

  const markRead = useCallback((id: string) => {
    setConversations((list) => list.map((c) => (c.id === id ? { ...c, unread_count: 0 } : c)));
  }, []);

  const scheduleList = useCallback(() => {
    // Events come in bursts (a message updates its conversation too): one fetch for a burst.
    window.clearTimeout(listTimer.current);
    listTimer.current = window.setTimeout(() => void refreshList(), 60);
  }, [refreshList]);

  useEffect(() => {
    setLoading(true);
    void refreshList();
  }, [filters, refreshList]);

  // Asked after the list, which a member waits for: the API answers one request at a time.
  useEffect(() => {
    void api.me().then((found) => {
      setMe(found);
      // The member's own choice, made in any browser, wins over this browser's.
      if (found.language && found.language !== i18n.language) setLanguage(found.language);
    }).catch(() => {});
    void api.pages().then((a) => setPages(a.items)).catch(() => {});
    void api.members().then((a) => setMembers(a.items)).catch(() => {});
  }, [api]);

  // Members' open counts and statuses move with routing; pages with their connection. Read
  // again after such events (a burst makes one request), not only at sign-in.
  const teamTimer = useRef<number | undefined>(undefined);
  const scheduleTeam = useCallback((frame: Frame) => {
    const pagesToo = frame.event.startsWith("page.");
    if (!pagesToo && !frame.event.startsWith("member.") && !ROUTING_EVENTS.has(frame.event)) {
      return;
    }
    window.clearTimeout(teamTimer.current);
    teamTimer.current = window.setTimeout(() => {
      void api.members().then((a) => setMembers(a.items)).catch(() => {});
      if (pagesToo) void api.pages().then((a) => setPages(a.items)).catch(() => {});
    }, 500);
  }, [api]);

  useEffect(() => {
    const realtime = new Realtime(wsUrl, token, {
      onFrame: (frame: Frame) => {
        scheduleList();
        scheduleTeam(frame);
        // A contact's change has no conversation id: the open chat refetches its contact.
        if (frame.event.startsWith("contact.")
          || (frame.conversation_id && frame.conversation_id === selectedRef.current)) {
          setChatVersion((v) => v + 1);
        }
      },
      onResync: () => {
        scheduleList();
        setChatVersion((v) => v + 1);
      },
      onStatus: setLive,
    });
    realtime.start();
    return () => realtime.stop();
  }, [wsUrl, token, scheduleList, scheduleTeam]);

  useEffect(() => {
    // Without the live connection the inbox still moves, only slower.
    if (live) return;
    const timer = window.setInterval(() => {
      void refreshList();
      setChatVersion((v) => v + 1);
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [live, refreshList]);

  const conversationsRef = useRef(conversations);
  conversationsRef.current = conversations;
  const [shortcutsOpen, setShortcutsOpen] = useState(false);

  useEffect(() => {
    // Mail-client keys, anywhere but in a text field: j/k walk the list, / searches,
    // r writes a reply, ? lists them. Escape leaves a text field for the keys to work again.
    function onKey(event: KeyboardEvent) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      const typing = target !== null && (target.isContentEditable
        || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
      if (typing) {
        if (event.key === "Escape" && !document.querySelector("[role=dialog]")) target.blur();
        return;
      }
      if (document.querySelector("[role=dialog]")) return;
      const list = conversationsRef.current;
      if (event.key === "j" || event.key === "k") {
        const index = list.findIndex((c) => c.id === selectedRef.current);
        const step = event.key === "j" ? 1 : -1;
        const target = list[index < 0 ? 0 : Math.max(0, Math.min(list.length - 1, index + step))];
        if (target) {
          setSelected(target.id);
          document.getElementById(`conversation-${target.id}`)?.scrollIntoView(
            { block: "nearest" });
        }
      } else if (event.key === "/") {
        document.getElementById(SEARCH_ID)?.focus();
      } else if (event.key === "r") {
        document.getElementById(COMPOSER_ID)?.focus();
      } else if (event.key === "?") {
        setShortcutsOpen(true);
      } else {
        return;
      }
      event.preventDefault();
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  async function loadMore() {
    if (!next) return;
    const answer = await api.conversations({ ...filters, cursor: next, limit: 50 });
    setConversations((old) => [...old, ...answer.items]);
    setNext(answer.next ?? null);
  }

  const canManage = me?.role === "owner" || me?.role === "admin";
  return (
    <Box h="100vh" style={{ display: "flex", flexDirection: "column" }}>
      <Header me={me} live={live} canManage={canManage} api={api}
        onSettings={() => setSettingsOpen(true)} onShortcuts={() => setShortcutsOpen(true)}
        onSignOut={onSignOut} />
      <ShortcutsModal opened={shortcutsOpen} onClose={() => setShortcutsOpen(false)} />
      <Box style={{ flex: 1, display: "flex", minHeight: 0 }}>
        <ConversationList conversations={conversations} loading={loading} selected={selected}
          onSelect={setSelected} filters={filters} onFilters={setFilters} pages={pages}
          members={members} hasMore={next !== null} onMore={loadMore} />
        <Box style={{ flex: 1, minWidth: 0, display: "flex" }}>
          {selected ? (
            <ChatWindow key={selected} api={api} conversationId={selected} me={me}
              members={members} version={chatVersion} onChanged={scheduleList}
              onRead={markRead} />
          ) : (
            <Group justify="center" w="100%">
              <Text c="dimmed">{t("chat.pick")}</Text>
              {!live && <Badge color="gray" variant="light">{t("live.offline")}</Badge>}
            </Group>
          )}
        </Box>
      </Box>
      {canManage && (
        <SettingsModal opened={settingsOpen} onClose={() => setSettingsOpen(false)} api={api} me={me}
          pages={pages} members={members} onPages={setPages} onMembers={setMembers} />
      )}
    </Box>
  );
}

function notifyNew(
  items: Conversation[],
  before: Map<string, Conversation>,
  open: string | null,
  t: (key: string, options?: Record<string, unknown>) => string,
) {
  if (before.size === 0) return;
  const fresh = items.filter((c) => {
    const old = before.get(c.id);
    const newer = !old || (c.last_activity_at ?? "") > (old.last_activity_at ?? "");
    return newer && c.last_message_direction === "in" && c.id !== open;
  });
  if (fresh.length === 0) return;
  const options = readNotifyOptions();
  if (options.sound) chime();
  if (options.desktop) {
    const who = fresh[0].contact_name ?? t("list.unknownContact");
    desktopNotify(t("notify.title", { name: who }), preview(fresh[0].last_message_preview));
  }
}
