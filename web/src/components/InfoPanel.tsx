import {
  Badge, Box, Button, Divider, Group, Modal, ScrollArea, Select, Stack, TagsInput, Text,
  Textarea, Timeline,
} from "@mantine/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Api, ApiError } from "../api";
import { time } from "../format";
import { ContactCard } from "./ContactCard";
import type { ConversationDetail, Member, TimelineEntry } from "../types";

/** The contact and the conversation's routing: assign, transfer, close, pick up, timeline. */
export function InfoPanel(props: {
  api: Api;
  conversation: ConversationDetail;
  me: Member | null;
  members: Member[];
  version: number;
  onChanged: () => void;
}) {
  const { api, conversation, me, members, version, onChanged } = props;
  const { t } = useTranslation();
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [closing, setClosing] = useState(false);
  const [transferring, setTransferring] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const contact = conversation.contact;
  const name = new Map(members.map((m) => [m.id, m.name || m.email]));

  useEffect(() => {
    void api.timeline(conversation.id).then((a) => setTimeline(a.items)).catch(() => {});
  }, [api, conversation.id, version]);

  async function act(run: () => Promise<unknown>) {
    setError(null);
    try {
      await run();
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t("errors.network"));
    }
  }

  const status = conversation.status;
  const queued = status === "unassigned" || status === "bot";
  const supervising = me !== null && me.role !== "agent";
  return (
    <Box w={300} style={{ borderLeft: "1px solid var(--mantine-color-gray-3)" }}>
      <ScrollArea h="100%" p="sm">
        <ContactCard api={api} contact={contact} fallbackName={conversation.contact_name}
          onChanged={onChanged} />
        <Divider my="sm" />
        <Stack gap="xs" data-testid="conversation-info">
          <Group gap={6}>
            <Text size="sm">{t("info.status")}:</Text>
            <Badge variant="outline">{t(`conversationStatus.${status ?? "open"}`,
              { defaultValue: status ?? "" })}</Badge>
          </Group>
          <Text size="sm">
            {t("info.assignee")}: {conversation.assignee_id
              ? name.get(conversation.assignee_id) ?? conversation.assignee_id : t("info.nobody")}
          </Text>
          {conversation.tags && conversation.tags.length > 0 && (
            <Group gap={4}>{conversation.tags.map((tag) => <Badge key={tag} size="sm" color="gray">{tag}</Badge>)}</Group>
          )}
          <Group gap={6}>
            {queued && (
              <Button size="xs" onClick={() => act(() => api.pickUp(conversation.id))}>
                {t("info.pickUp")}
              </Button>
            )}
            {status !== "closed" && (
              <>
                {/* A waiting conversation is given by hand by supervisors and up; agents
                    pick it up themselves. */}
                {(status === "assigned" || (queued && supervising)) && (
                  <Button size="xs" variant="default" onClick={() => setTransferring(true)}>
                    {supervising ? t("info.assign") : t("info.transfer")}
                  </Button>
                )}
                <Button size="xs" variant="default" onClick={() => setClosing(true)}>
                  {t("info.close")}
                </Button>
              </>
            )}
            {status === "closed" && (
              <Button size="xs" variant="default" onClick={() => act(() => api.reopen(conversation.id))}>
                {t("info.reopen")}
              </Button>
            )}
          </Group>
          {error && <Text size="xs" c="red" role="alert">{error}</Text>}
        </Stack>
        <Divider my="sm" label={t("info.timeline")} labelPosition="left" />
        <Timeline bulletSize={12} lineWidth={2}>
          {timeline.map((entry) => {
            const what = t(`timeline.${entry.kind}`, { defaultValue: entry.kind });
            const actor = name.get(entry.actor) ?? (entry.actor === "system"
              ? t("timeline.system") : entry.actor);
            const target = entry.to_member_id;
            // A member acting for themselves (picking up, reopening, closing): "Picked up by
            // Ann", not "Ann → Ann". The system and hand-overs keep "who → whom".
            const byMember = entry.actor !== "system" && (!target || target === entry.actor);
            return (
            <Timeline.Item key={entry.id} data-testid="timeline-entry"
              title={byMember ? t("timeline.by", { what, name: actor }) : what}>
              <Text size="xs" c="dimmed">
                {time(entry.at)}
                {!byMember && ` · ${actor}`}
                {!byMember && target ? ` → ${name.get(target) ?? target}` : ""}
              </Text>
              {entry.tags.length > 0 && <Text size="xs">{entry.tags.join(", ")}</Text>}
              {entry.note && <Text size="xs">{entry.note}</Text>}
            </Timeline.Item>
            );
          })}
        </Timeline>
      </ScrollArea>
      <CloseDialog opened={closing} onClose={() => setClosing(false)}
        onConfirm={(tags) => act(() => api.close(conversation.id, tags)).then(() => setClosing(false))} />
      <TransferDialog opened={transferring} members={members} queued={queued}
        onClose={() => setTransferring(false)}
        onConfirm={(to, note) => act(() => api.transfer(conversation.id, to, note))
          .then(() => setTransferring(false))} />
    </Box>
  );
}

function CloseDialog(props: { opened: boolean; onClose: () => void; onConfirm: (tags: string[]) => void }) {
  const { t } = useTranslation();
  const [tags, setTags] = useState<string[]>([]);
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("info.closeTitle")}>
      <Stack>
        <TagsInput label={t("info.closeTags")} value={tags} onChange={setTags} maxTags={20} />
        <Button onClick={() => props.onConfirm(tags)}>{t("info.close")}</Button>
      </Stack>
    </Modal>
  );
}

function TransferDialog(props: {
  opened: boolean;
  members: Member[];
  // Already waiting: "back to the queue" would change nothing.
  queued: boolean;
  onClose: () => void;
  onConfirm: (to: string | null, note: string) => void;
}) {
  const { t } = useTranslation();
  const [to, setTo] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const QUEUE = "__queue__";
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("info.transferTitle")}>
      <Stack>
        <Select label={t("info.transferTo")} value={to} onChange={setTo} searchable
          data={[...(props.queued ? [] : [{ value: QUEUE, label: t("info.queue") }]),
            ...props.members.filter((m) => m.active).map((m) => ({
              value: m.id, label: `${m.name || m.email} (${t(`status.${m.status}`)})` }))]} />
        <Textarea label={t("info.note")} value={note} onChange={(e) => setNote(e.currentTarget.value)} />
        <Button disabled={!to} onClick={() => props.onConfirm(to === QUEUE ? null : to, note)}>
          {t("info.transfer")}
        </Button>
      </Stack>
    </Modal>
  );
}
