import {
  Avatar, Badge, Box, Button, Group, Loader, ScrollArea, Select, Stack, Text, TextInput,
  UnstyledButton,
} from "@mantine/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationQuery } from "../api";
import { preview, time } from "../format";
import type { Conversation, Member, Page } from "../types";
import { SEARCH_ID } from "./Shortcuts";

const STATUSES = ["bot", "unassigned", "assigned", "closed"];

export function ConversationList(props: {
  conversations: Conversation[];
  loading: boolean;
  selected: string | null;
  onSelect: (id: string) => void;
  filters: ConversationQuery;
  onFilters: (filters: ConversationQuery) => void;
  pages: Page[];
  members: Member[];
  hasMore: boolean;
  onMore: () => void;
}) {
  const { conversations, loading, selected, onSelect, filters, onFilters, pages, members } = props;
  const { t } = useTranslation();
  // Typed filters wait for a pause in typing before asking the API.
  const [typed, setTyped] = useState({ contact_name: "", contact_tag: "", phone: "" });
  useEffect(() => {
    const timer = window.setTimeout(() => {
      const changed = (Object.keys(typed) as (keyof typeof typed)[])
        .some((key) => (filters[key] ?? "") !== typed[key]);
      if (changed) onFilters({ ...filters, ...typed });
    }, 300);
    return () => window.clearTimeout(timer);
  }, [typed]); // eslint-disable-line react-hooks/exhaustive-deps

  const set = (key: keyof ConversationQuery) => (value: string | null) =>
    onFilters({ ...filters, [key]: value ?? "" });
  const pageName = new Map(pages.map((p) => [p.id, p.name]));

  function onKeyDown(event: React.KeyboardEvent) {
    // Up and down walk the list, as in a mail client.
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const index = conversations.findIndex((c) => c.id === selected);
    const step = event.key === "ArrowDown" ? 1 : -1;
    const target = conversations[Math.max(0, Math.min(conversations.length - 1, index + step))];
    if (target) {
      onSelect(target.id);
      document.getElementById(`conversation-${target.id}`)?.focus();
    }
  }

  return (
    <Box w={360} style={{ borderRight: "1px solid var(--mantine-color-gray-3)",
      display: "flex", flexDirection: "column" }}>
      <Stack gap={6} p="sm" style={{ borderBottom: "1px solid var(--mantine-color-gray-2)" }}>
        <TextInput size="xs" id={SEARCH_ID} placeholder={t("filters.contactName")}
          aria-label={t("filters.contactName")} aria-keyshortcuts="/"
          value={typed.contact_name}
          onChange={(e) => setTyped({ ...typed, contact_name: e.currentTarget.value })} />
        <Group gap={6} grow>
          <Select size="xs" aria-label={t("filters.status")} placeholder={t("filters.anyStatus")}
            clearable value={filters.status || null} onChange={set("status")}
            data={STATUSES.map((s) => ({ value: s, label: t(`conversationStatus.${s}`) }))} />
          <Select size="xs" aria-label={t("filters.channel")} placeholder={t("filters.anyChannel")}
            clearable value={filters.channel || null} onChange={set("channel")}
            data={["messenger", "comment"].map((c) => ({ value: c, label: t(`channel.${c}`) }))} />
        </Group>
        <Group gap={6} grow>
          <Select size="xs" aria-label={t("filters.page")} placeholder={t("filters.anyPage")}
            clearable value={filters.page_id || null} onChange={set("page_id")}
            data={pages.map((p) => ({ value: p.id, label: p.name }))} />
          <Select size="xs" aria-label={t("filters.assignee")}
            placeholder={t("filters.anyAssignee")} clearable searchable
            value={filters.assignee_id || null} onChange={set("assignee_id")}
            data={members.map((m) => ({ value: m.id, label: m.name || m.email }))} />
        </Group>
        <Group gap={6} grow>
          <TextInput size="xs" placeholder={t("filters.tag")} aria-label={t("filters.tag")}
            value={typed.contact_tag}
            onChange={(e) => setTyped({ ...typed, contact_tag: e.currentTarget.value })} />
          <TextInput size="xs" placeholder={t("filters.phone")} aria-label={t("filters.phone")}
            value={typed.phone}
            onChange={(e) => setTyped({ ...typed, phone: e.currentTarget.value })} />
        </Group>
      </Stack>
      <ScrollArea style={{ flex: 1 }}>
        <Box role="listbox" aria-label={t("list.label")} onKeyDown={onKeyDown}
          data-testid="conversation-list">
          {loading && conversations.length === 0 && <Group justify="center" p="md"><Loader size="sm" /></Group>}
          {!loading && conversations.length === 0 && (
            <Text c="dimmed" ta="center" p="md">{t("list.empty")}</Text>
          )}
          {conversations.map((c) => (
            <UnstyledButton key={c.id} id={`conversation-${c.id}`} role="option"
              aria-selected={c.id === selected} data-testid="conversation-item"
              data-conversation-id={c.id} onClick={() => onSelect(c.id)} w="100%" px="sm" py={8}
              style={{
                borderBottom: "1px solid var(--mantine-color-gray-1)",
                background: c.id === selected ? "var(--mantine-color-indigo-0)" : undefined,
              }}>
              <Group wrap="nowrap" gap="sm" align="flex-start">
                <Avatar radius="xl" size={36} color="indigo">
                  {(c.contact_name ?? "?").slice(0, 1)}
                </Avatar>
                <Box style={{ flex: 1, minWidth: 0 }}>
                  <Group justify="space-between" wrap="nowrap" gap={4}>
                    <Text size="sm" fw={c.unread_count ? 700 : 500} truncate>
                      {c.contact_name ?? t("list.unknownContact")}
                    </Text>
                    <Text size="xs" c="dimmed" style={{ flexShrink: 0 }}>
                      {time(c.last_activity_at)}
                    </Text>
                  </Group>
                  <Text size="xs" c="dimmed" truncate>
                    {c.last_message_direction === "out" ? `${t("list.you")}: ` : ""}
                    {preview(c.last_message_preview)}
                  </Text>
                  <Group gap={4} mt={2}>
                    <Badge size="xs" variant="light"
                      color={c.channel === "comment" ? "orange" : "blue"}>
                      {t(`channel.${c.channel ?? "messenger"}`)}
                    </Badge>
                    <Badge size="xs" variant="outline" color="gray">
                      {t(`conversationStatus.${c.status ?? "open"}`,
                        { defaultValue: c.status ?? "" })}
                    </Badge>
                    {c.page_id && pageName.get(c.page_id) && (
                      <Text size="xs" c="dimmed" truncate>{pageName.get(c.page_id)}</Text>
                    )}
                    {c.unread_count > 0 && (
                      <Badge size="xs" color="red" data-testid="unread"
                        aria-label={t("list.unread", { count: c.unread_count })}>
                        {c.unread_count}
                      </Badge>
                    )}
                  </Group>
                </Box>
              </Group>
            </UnstyledButton>
          ))}
          {props.hasMore && (
            <Group justify="center" p="sm">
              <Button size="xs" variant="subtle" onClick={props.onMore}>{t("list.more")}</Button>
            </Group>
          )}
        </Box>
      </ScrollArea>
    </Box>
  );
}
