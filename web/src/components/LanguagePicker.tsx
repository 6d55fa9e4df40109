import { Select } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { LANGUAGES, setLanguage } from "../i18n";

/** Signed in, the choice is also saved with the member (`onChosen`), so it follows them. */
export function LanguagePicker(props: { onChosen?: (language: string) => void }) {
  const { t, i18n } = useTranslation();
  return (
    <Select aria-label={t("language")} size="xs" data={LANGUAGES} value={i18n.language}
      allowDeselect={false} w={130} onChange={(value) => {
        if (!value) return;
        setLanguage(value);
        props.onChosen?.(value);
      }} />
  );
}
