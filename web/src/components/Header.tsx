import { Badge, Button, Checkbox, Group, Popover, Select, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Api } from "../api";
import { readNotifyOptions, saveNotifyOptions } from "../notify";
import type { Member } from "../types";
import { LanguagePicker } from "./LanguagePicker";

export function Header(props: {
  me: Member | null;
  live: boolean;
  canManage: boolean;
  api: Api;
  onSettings: () => void;
  onShortcuts: () => void;
  onSignOut: () => void;
}) {
  const { me, live, canManage, api, onSettings, onShortcuts, onSignOut } = props;
  const { t } = useTranslation();
  const [notify, setNotify] = useState(readNotifyOptions);
  const [status, setStatus] = useState<string | null>(null);

  function change(next: typeof notify) {
    setNotify(next);
    saveNotifyOptions(next);
    if (next.desktop && "Notification" in window && Notification.permission === "default") {
      void Notification.requestPermission();
    }
  }

  return (
    <Group component="header" justify="space-between" px="md" py={6}
      style={{ borderBottom: "1px solid var(--mantine-color-gray-3)" }}>
      <Group gap="sm">
        <Title order={4}>{t("app.title")}</Title>
        <Badge data-testid="live" color={live ? "green" : "gray"} variant="light">
          {live ? t("live.on") : t("live.offline")}
        </Badge>
      </Group>
      <Group gap="sm">
        {me && (
          <Text size="sm" data-testid="me">
            {me.name || me.email} · {t(`roles.${me.role}`)}
          </Text>
        )}
        {me && (
          <Select aria-label={t("status.label")} size="xs" w={120} allowDeselect={false}
            data={["online", "away", "offline"].map((s) => ({ value: s, label: t(`status.${s}`) }))}
            value={status ?? me.status}
            onChange={(value) => {
              if (!value) return;
              setStatus(value);
              void api.setStatus(value).catch(() => setStatus(null));
            }} />
        )}
        <Popover position="bottom-end" withArrow>
          <Popover.Target>
            <Button size="xs" variant="default">{t("notify.options")}</Button>
          </Popover.Target>
          <Popover.Dropdown>
            <Stack gap="xs">
              <Checkbox label={t("notify.sound")} checked={notify.sound}
                onChange={(e) => change({ ...notify, sound: e.currentTarget.checked })} />
              <Checkbox label={t("notify.desktop")} checked={notify.desktop}
                onChange={(e) => change({ ...notify, desktop: e.currentTarget.checked })} />
            </Stack>
          </Popover.Dropdown>
        </Popover>
        <Button size="xs" variant="subtle" onClick={onShortcuts}
          aria-keyshortcuts="?">{t("shortcuts.open")}</Button>
        <LanguagePicker onChosen={(language) => void api.setLanguage(language).catch(() => {})} />
        {canManage && (
          <Button size="xs" variant="light" onClick={onSettings}>{t("settings.open")}</Button>
        )}
        <Button size="xs" variant="subtle" onClick={onSignOut}>{t("signOut")}</Button>
      </Group>
    </Group>
  );
}
