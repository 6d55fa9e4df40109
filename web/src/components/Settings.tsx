import {
  Badge, Button, Group, Modal, Select, Stack, Switch, Table, Tabs, Text, TextInput,
} from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type Api, ApiError } from "../api";
import type { Member, Page } from "../types";

/** Team and page settings, for owners and admins (the API refuses anyone else). */
export function SettingsModal(props: {
  opened: boolean;
  onClose: () => void;
  api: Api;
  pages: Page[];
  members: Member[];
  onPages: (pages: Page[]) => void;
  onMembers: (members: Member[]) => void;
}) {
  const { api, pages, members, onPages, onMembers } = props;
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<string | null>("agent");
  const [error, setError] = useState<string | null>(null);

  async function invite() {
    setError(null);
    try {
      await api.invite(email.trim(), name.trim(), role ?? "agent");
      onMembers((await api.members()).items);
      setEmail("");
      setName("");
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t("errors.network"));
    }
  }

  async function togglePage(page: Page, autoAssign: boolean) {
    setError(null);
    try {
      const changed = await api.updatePage(page.id, { auto_assign: autoAssign });
      onPages(pages.map((p) => (p.id === page.id ? { ...p, ...changed } : p)));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t("errors.network"));
    }
  }

  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("settings.title")} size="xl">
      <Tabs defaultValue="team">
        <Tabs.List>
          <Tabs.Tab value="team">{t("settings.team")}</Tabs.Tab>
          <Tabs.Tab value="pages">{t("settings.pages")}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="team" pt="sm">
          <Table data-testid="team-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("settings.name")}</Table.Th>
                <Table.Th>{t("settings.email")}</Table.Th>
                <Table.Th>{t("settings.role")}</Table.Th>
                <Table.Th>{t("status.label")}</Table.Th>
                <Table.Th>{t("settings.load")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {members.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{m.name}</Table.Td>
                  <Table.Td>{m.email}</Table.Td>
                  <Table.Td>{t(`roles.${m.role}`)}</Table.Td>
                  <Table.Td><Badge variant="light"
                    color={m.status === "online" ? "green" : "gray"}>{t(`status.${m.status}`)}</Badge></Table.Td>
                  <Table.Td>{m.open_count} / {m.reception_limit}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group mt="md" align="flex-end">
            <TextInput label={t("settings.email")} value={email}
              onChange={(e) => setEmail(e.currentTarget.value)} />
            <TextInput label={t("settings.name")} value={name}
              onChange={(e) => setName(e.currentTarget.value)} />
            <Select label={t("settings.role")} value={role} onChange={setRole} w={140}
              data={["admin", "supervisor", "agent"].map((r) => ({ value: r, label: t(`roles.${r}`) }))} />
            <Button onClick={() => void invite()} disabled={!email.includes("@")}>
              {t("settings.invite")}
            </Button>
          </Group>
        </Tabs.Panel>
        <Tabs.Panel value="pages" pt="sm">
          <Stack>
            {pages.map((p) => (
              <Group key={p.id} justify="space-between">
                <div>
                  <Text fw={600}>{p.name}</Text>
                  <Text size="xs" c="dimmed">{p.id}</Text>
                </div>
                {p.reconnect_needed && <Badge color="red">{t("settings.reconnect")}</Badge>}
                <Switch label={t("settings.autoAssign")} checked={p.auto_assign ?? true}
                  onChange={(e) => void togglePage(p, e.currentTarget.checked)} />
              </Group>
            ))}
          </Stack>
        </Tabs.Panel>
      </Tabs>
      {error && <Text c="red" size="sm" role="alert" mt="sm">{error}</Text>}
    </Modal>
  );
}
