import { Group, Kbd, Modal, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

// Element ids the shortcuts move the focus to.
export const SEARCH_ID = "conversation-search";
export const COMPOSER_ID = "composer-input";

const KEYS: [string[], string][] = [
  [["j"], "next"],
  [["k"], "previous"],
  [["↑", "↓"], "walk"],
  [["/"], "search"],
  [["r"], "reply"],
  [["Enter"], "send"],
  [["Shift", "Enter"], "newLine"],
  [["Esc"], "leave"],
  [["?"], "help"],
];

export function ShortcutsModal(props: { opened: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("shortcuts.title")}>
      <Stack gap={6} data-testid="shortcuts">
        {KEYS.map(([keys, what]) => (
          <Group key={what} justify="space-between">
            <Text size="sm">{t(`shortcuts.${what}`)}</Text>
            <Group gap={4}>{keys.map((k) => <Kbd key={k}>{k}</Kbd>)}</Group>
          </Group>
        ))}
      </Stack>
    </Modal>
  );
}
