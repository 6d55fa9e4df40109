import { Select } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { LANGUAGES, setLanguage } from "../i18n";

export function LanguagePicker() {
  const { t, i18n } = useTranslation();
  return (
    <Select aria-label={t("language")} size="xs" data={LANGUAGES} value={i18n.language}
      allowDeselect={false} onChange={(value) => value && setLanguage(value)} w={130} />
  );
}
