import {
  Avatar, Badge, Button, Group, Stack, TagsInput, Text, TextInput, Textarea,
} from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type Api, ApiError } from "../api";
import type { Contact } from "../types";

/** The contact panel: who the person is, and what the team keeps about them (editable). */
export function ContactCard(props: {
  api: Api;
  contact: Contact | null;
  fallbackName: string | null;
  onChanged: () => void;
}) {
  const { api, contact, fallbackName, onChanged } = props;
  const { t } = useTranslation();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState({ email: "", phone: "", notes: "", tags: [] as string[] });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = contact?.name ?? fallbackName ?? t("list.unknownContact");

  function edit() {
    if (!contact) return;
    setDraft({ email: contact.email ?? "", phone: contact.phone ?? "",
      notes: contact.notes ?? "", tags: contact.tags });
    setError(null);
    setEditing(true);
  }

  async function save() {
    if (!contact) return;
    setBusy(true);
    setError(null);
    try {
      await api.updateContact(contact.id, draft);
      setEditing(false);
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError
        ? t(`contact.errors.${caught.code}`, { defaultValue: caught.message })
        : t("errors.network"));
    } finally {
      setBusy(false);
    }
  }

  if (editing) {
    return (
      <Stack gap={6} data-testid="contact-panel" data-editing="true">
        <Text fw={700}>{name}</Text>
        <TextInput size="xs" label={t("contact.email")} type="email" value={draft.email}
          onChange={(e) => setDraft({ ...draft, email: e.currentTarget.value })} />
        <TextInput size="xs" label={t("contact.phone")} type="tel" value={draft.phone}
          onChange={(e) => setDraft({ ...draft, phone: e.currentTarget.value })} />
        <TagsInput size="xs" label={t("contact.tags")} value={draft.tags} maxTags={20}
          placeholder={t("contact.tagsHint")}
          onChange={(tags) => setDraft({ ...draft, tags })} />
        <Textarea size="xs" label={t("contact.notes")} autosize minRows={2} maxRows={8}
          maxLength={4000} value={draft.notes}
          onChange={(e) => setDraft({ ...draft, notes: e.currentTarget.value })} />
        {error && <Text size="xs" c="red" role="alert">{error}</Text>}
        <Group gap={6}>
          <Button size="xs" loading={busy} onClick={() => void save()}>{t("contact.save")}</Button>
          <Button size="xs" variant="default" onClick={() => setEditing(false)}>
            {t("cancel")}
          </Button>
        </Group>
      </Stack>
    );
  }

  return (
    <Stack gap={6} data-testid="contact-panel">
      <Group gap="sm" wrap="nowrap">
        <Avatar src={contact?.picture_url ?? undefined} radius="xl" color="indigo" alt="">
          {name.slice(0, 1)}
        </Avatar>
        <Text fw={700} style={{ flex: 1 }} truncate>{name}</Text>
        {contact && (
          <Button size="compact-xs" variant="subtle" onClick={edit}>{t("contact.edit")}</Button>
        )}
      </Group>
      <Text size="sm" data-testid="contact-email" style={{ overflowWrap: "anywhere" }}>
        <Text span c="dimmed" size="xs">{t("contact.email")}: </Text>
        {contact?.email || <Text span c="dimmed" size="xs">{t("contact.none")}</Text>}
      </Text>
      <Text size="sm" data-testid="contact-phone" style={{ overflowWrap: "anywhere" }}>
        <Text span c="dimmed" size="xs">{t("contact.phone")}: </Text>
        {contact?.phone || <Text span c="dimmed" size="xs">{t("contact.none")}</Text>}
      </Text>
      {contact && contact.tags.length > 0 && (
        <Group gap={4} data-testid="contact-tags">
          {contact.tags.map((tag) => <Badge key={tag} size="sm" variant="light">{tag}</Badge>)}
        </Group>
      )}
      {contact?.notes && (
        <Text size="sm" c="dimmed" data-testid="contact-notes"
          style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>{contact.notes}</Text>
      )}
    </Stack>
  );
}
