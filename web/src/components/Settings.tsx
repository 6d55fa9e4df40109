import {
  Alert, Badge, Button, Code, Group, Modal, MultiSelect, NumberInput, Paper, PasswordInput,
  Select, Stack, Switch, Table, Tabs, TagsInput, Text, TextInput,
} from "@mantine/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Api, ApiError } from "../api";
import { time } from "../format";
import type { ApiKey, Member, Page } from "../types";

const GRANTABLE_ROLES = ["admin", "supervisor", "agent"];

/** Team, page and API-key settings, for owners and admins (the API refuses anyone else). */
export function SettingsModal(props: {
  opened: boolean;
  onClose: () => void;
  api: Api;
  me: Member | null;
  pages: Page[];
  members: Member[];
  onPages: (pages: Page[]) => void;
  onMembers: (members: Member[]) => void;
}) {
  const { api, opened, onMembers, onPages } = props;
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);

  // Loaded at sign-in, the team's open counts and statuses and the pages' connection have
  // moved since: read again each time the settings open.
  useEffect(() => {
    if (!opened) return;
    void api.members().then((a) => onMembers(a.items)).catch(() => {});
    void api.pages().then((a) => onPages(a.items)).catch(() => {});
  }, [opened, api, onMembers, onPages]);

  // Every tab reports the API's refusal the same way, in the member's language where known.
  async function attempt(run: () => Promise<unknown>): Promise<boolean> {
    setError(null);
    try {
      await run();
      return true;
    } catch (caught) {
      setError(caught instanceof ApiError
        ? t(`settings.errors.${caught.code}`, { defaultValue: caught.message })
        : t("errors.network"));
      return false;
    }
  }

  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("settings.title")} size="80rem">
      <Tabs defaultValue="team" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="team">{t("settings.team")}</Tabs.Tab>
          <Tabs.Tab value="pages">{t("settings.pages")}</Tabs.Tab>
          <Tabs.Tab value="keys">{t("settings.apiKeys")}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="team" pt="sm">
          <TeamTab {...props} attempt={attempt} />
        </Tabs.Panel>
        <Tabs.Panel value="pages" pt="sm">
          <PagesTab {...props} attempt={attempt} />
        </Tabs.Panel>
        <Tabs.Panel value="keys" pt="sm">
          <ApiKeysTab api={props.api} attempt={attempt} />
        </Tabs.Panel>
      </Tabs>
      {error && <Text c="red" size="sm" role="alert" mt="sm">{error}</Text>}
    </Modal>
  );
}

type Attempt = (run: () => Promise<unknown>) => Promise<boolean>;

function TeamTab(props: {
  api: Api;
  me: Member | null;
  pages: Page[];
  members: Member[];
  onMembers: (members: Member[]) => void;
  attempt: Attempt;
}) {
  const { api, me, pages, members, onMembers, attempt } = props;
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<string | null>("agent");
  const pageOptions = pages.map((p) => ({ value: p.id, label: p.name }));
  const roleOptions = GRANTABLE_ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }));

  async function reload() {
    onMembers((await api.members()).items);
  }

  async function invite() {
    const done = await attempt(() => api.invite(email.trim(), name.trim(), role ?? "agent"));
    if (done) {
      setEmail("");
      setName("");
      await reload();
    }
  }

  async function change(member: Member, change: Parameters<Api["updateMember"]>[1]) {
    if (await attempt(() => api.updateMember(member.id, change))) await reload();
  }

  async function deactivate(member: Member) {
    if (!window.confirm(t("settings.confirmDeactivate", { name: member.name || member.email }))) {
      return;
    }
    if (await attempt(() => api.deactivateMember(member.id))) await reload();
  }

  return (
    <>
      <Table data-testid="team-table" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("settings.name")}</Table.Th>
            <Table.Th>{t("settings.role")}</Table.Th>
            <Table.Th>{t("settings.allowedPages")}</Table.Th>
            <Table.Th>{t("settings.limit")}</Table.Th>
            <Table.Th>{t("status.label")}</Table.Th>
            <Table.Th>{t("settings.openCount")}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {members.map((m) => {
            // Owners are changed by owners only, and nobody edits themselves out of a role here.
            const locked = !m.active || m.role === "owner" || m.id === me?.id;
            return (
              <Table.Tr key={m.id} data-testid="member-row" data-email={m.email}
                style={{ opacity: m.active ? 1 : 0.5 }}>
                <Table.Td>
                  <Text size="sm" fw={500}>{m.name}</Text>
                  <Text size="xs" c="dimmed">{m.email}</Text>
                </Table.Td>
                <Table.Td>
                  {locked ? t(`roles.${m.role}`) : (
                    <Select size="xs" w={130} aria-label={t("settings.roleOf", { name: m.name })}
                      allowDeselect={false} data={roleOptions} value={m.role}
                      onChange={(value) => value && void change(m, { role: value })} />
                  )}
                </Table.Td>
                <Table.Td>
                  {locked ? (m.page_ids.length ? m.page_ids.map((id) =>
                    pages.find((p) => p.id === id)?.name ?? id).join(", ")
                    : t("settings.everyPage")) : (
                    <MultiSelect size="xs" w={220} data={pageOptions} value={m.page_ids}
                      aria-label={t("settings.pagesOf", { name: m.name })}
                      placeholder={m.page_ids.length ? undefined : t("settings.everyPage")}
                      onChange={(ids) => void change(m, { page_ids: ids })} />
                  )}
                </Table.Td>
                <Table.Td>
                  {locked ? m.reception_limit : (
                    <LimitInput member={m} onSave={(limit) =>
                      void change(m, { reception_limit: limit })} />
                  )}
                </Table.Td>
                <Table.Td>
                  {m.active ? (
                    <Badge variant="light" color={m.status === "online" ? "green" : "gray"}>
                      {t(`status.${m.status}`)}
                    </Badge>
                  ) : <Badge color="gray">{t("settings.deactivated")}</Badge>}
                </Table.Td>
                <Table.Td data-testid="open-count">{m.open_count}</Table.Td>
                <Table.Td>
                  {!locked && (
                    <Button size="compact-xs" variant="subtle" color="red"
                      onClick={() => void deactivate(m)}>{t("settings.deactivate")}</Button>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      <Group mt="md" align="flex-end">
        <TextInput label={t("settings.email")} value={email}
          onChange={(e) => setEmail(e.currentTarget.value)} />
        <TextInput label={t("settings.name")} value={name}
          onChange={(e) => setName(e.currentTarget.value)} />
        <Select label={t("settings.role")} value={role} onChange={setRole} w={140}
          data={roleOptions} />
        <Button onClick={() => void invite()} disabled={!email.includes("@")}>
          {t("settings.invite")}
        </Button>
      </Group>
    </>
  );
}

/** Saved when the field loses focus, so typing "12" does not save "1" first. */
function LimitInput(props: { member: Member; onSave: (limit: number) => void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState<string | number>(props.member.reception_limit);
  useEffect(() => setValue(props.member.reception_limit), [props.member.reception_limit]);
  return (
    <NumberInput size="xs" w={80} min={0} max={100} value={value} onChange={setValue}
      aria-label={t("settings.limitOf", { name: props.member.name })}
      onBlur={() => {
        const limit = typeof value === "number" ? value : Number.parseInt(value, 10);
        if (Number.isFinite(limit) && limit !== props.member.reception_limit) props.onSave(limit);
      }} />
  );
}

function PagesTab(props: {
  api: Api;
  pages: Page[];
  onPages: (pages: Page[]) => void;
  attempt: Attempt;
}) {
  const { t } = useTranslation();
  if (props.pages.length === 0) return <Text c="dimmed">{t("settings.noPages")}</Text>;
  return (
    <Stack>
      {props.pages.map((p) => <PageSettings key={p.id} {...props} page={p} />)}
    </Stack>
  );
}

function PageSettings(props: {
  api: Api;
  page: Page;
  pages: Page[];
  onPages: (pages: Page[]) => void;
  attempt: Attempt;
}) {
  const { api, page, pages, onPages, attempt } = props;
  const { t } = useTranslation();
  const minutes = page.unanswered_timeout_seconds ? page.unanswered_timeout_seconds / 60 : "";
  const [timeout, setTimeout_] = useState<string | number>(minutes);
  const [words, setWords] = useState<string[]>(page.handover_words ?? []);
  const [saved, setSaved] = useState(false);

  async function update(change: Partial<Page>) {
    setSaved(false);
    let answer: Page | null = null;
    const done = await attempt(async () => { answer = await api.updatePage(page.id, change); });
    if (done && answer) {
      const changed: Page = answer;
      onPages(pages.map((p) => (p.id === page.id ? { ...p, ...changed } : p)));
      setSaved(true);
    }
  }

  function saveRouting() {
    const value = typeof timeout === "number" ? timeout : Number.parseFloat(timeout);
    void update({
      unanswered_timeout_seconds: Number.isFinite(value) && value > 0
        ? Math.round(value * 60) : null,
      handover_words: words,
    });
  }

  return (
    <Paper withBorder p="sm" data-testid="page-settings" data-page-id={page.id}>
      <Group justify="space-between" mb="xs">
        <div>
          <Text fw={600}>{page.name}</Text>
          <Text size="xs" c="dimmed">{page.id}</Text>
        </div>
        {page.reconnect_needed && <Badge color="red">{t("settings.reconnect")}</Badge>}
      </Group>
      {page.reconnect_needed && <ReconnectForm {...props} />}
      <Group gap="xl" mb="xs">
        <Switch label={t("settings.autoAssign")} checked={page.auto_assign ?? true}
          onChange={(e) => void update({ auto_assign: e.currentTarget.checked })} />
        <Switch label={t("settings.faqAutoReply")} checked={page.faq_auto_reply}
          onChange={(e) => void update({ faq_auto_reply: e.currentTarget.checked })} />
      </Group>
      <Group align="flex-end" gap="sm">
        <NumberInput label={t("settings.unansweredTimeout")} w={220} min={1} max={10080}
          description={t("settings.unansweredHint")} value={timeout} onChange={setTimeout_} />
        <TagsInput label={t("settings.handoverWords")} style={{ flex: 1 }} maxTags={50}
          description={t("settings.handoverHint")} value={words} onChange={setWords} />
        <Button onClick={saveRouting}>{t("settings.save")}</Button>
      </Group>
      {saved && <Text size="xs" c="green" mt={4} role="status">{t("settings.saved")}</Text>}
    </Paper>
  );
}

/** Facebook refused the page's token: a new one (pasted from Meta's tools) reconnects it. */
function ReconnectForm(props: {
  api: Api;
  page: Page;
  pages: Page[];
  onPages: (pages: Page[]) => void;
  attempt: Attempt;
}) {
  const { api, onPages, attempt } = props;
  const { t } = useTranslation();
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);

  async function reconnect() {
    setBusy(true);
    // The token names its page (maybe another one): the whole list is read again.
    const done = await attempt(() => api.connectPage(token.trim()));
    if (done) {
      setToken("");
      await attempt(async () => onPages((await api.pages()).items));
    }
    setBusy(false);
  }

  return (
    <Alert color="red" variant="light" mb="xs" data-testid="reconnect"
      title={t("settings.reconnectTitle")}>
      <Text size="sm" mb="xs">{t("settings.reconnectHint")}</Text>
      <Group align="flex-end" gap="sm">
        <PasswordInput label={t("settings.pageToken")} style={{ flex: 1 }} value={token}
          autoComplete="off" onChange={(e) => setToken(e.currentTarget.value)} />
        <Button color="red" loading={busy} disabled={!token.trim()}
          onClick={() => void reconnect()}>{t("settings.reconnectButton")}</Button>
      </Group>
    </Alert>
  );
}

function ApiKeysTab(props: { api: Api; attempt: Attempt }) {
  const { api, attempt } = props;
  const { t } = useTranslation();
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [name, setName] = useState("");
  const [role, setRole] = useState<string | null>("agent");
  const [created, setCreated] = useState<string | null>(null);

  async function reload() {
    await attempt(async () => setKeys((await api.apiKeys()).items));
  }

  useEffect(() => {
    void reload();
  }, [api]); // eslint-disable-line react-hooks/exhaustive-deps

  async function create() {
    await attempt(async () => {
      const answer = await api.createApiKey(name.trim(), role ?? "agent");
      setCreated(answer.key);
      setName("");
    });
    await reload();
  }

  async function revoke(key: ApiKey) {
    if (!window.confirm(t("settings.confirmRevoke", { name: key.name }))) return;
    if (await attempt(() => api.revokeApiKey(key.id))) await reload();
  }

  return (
    <>
      {created && (
        <Alert color="green" mb="sm" withCloseButton onClose={() => setCreated(null)}
          title={t("settings.keyCreated")} data-testid="created-key">
          <Code block>{created}</Code>
        </Alert>
      )}
      <Table data-testid="api-keys" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("settings.name")}</Table.Th>
            <Table.Th>{t("settings.role")}</Table.Th>
            <Table.Th>{t("settings.createdAt")}</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {keys.length === 0 && (
            <Table.Tr><Table.Td colSpan={4}><Text c="dimmed" size="sm">
              {t("settings.noKeys")}</Text></Table.Td></Table.Tr>
          )}
          {keys.map((k) => (
            <Table.Tr key={k.id} data-testid="api-key-row" style={{
              opacity: k.revoked_at ? 0.5 : 1 }}>
              <Table.Td>{k.name}</Table.Td>
              <Table.Td>{t(`roles.${k.role}`)}</Table.Td>
              <Table.Td>{time(k.created_at)}</Table.Td>
              <Table.Td>
                {k.revoked_at ? <Badge color="gray">{t("settings.revoked")}</Badge> : (
                  <Button size="compact-xs" variant="subtle" color="red"
                    onClick={() => void revoke(k)}>{t("settings.revoke")}</Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group mt="md" align="flex-end">
        <TextInput label={t("settings.keyName")} value={name}
          onChange={(e) => setName(e.currentTarget.value)} />
        <Select label={t("settings.role")} value={role} onChange={setRole} w={140}
          data={GRANTABLE_ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
        <Button onClick={() => void create()} disabled={!name.trim()}>
          {t("settings.createKey")}
        </Button>
      </Group>
    </>
  );
}
