import i18n from "./i18n";

export function time(iso: string | null | undefined): string {
  if (!iso) return "";
  const at = new Date(iso);
  const sameDay = at.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(i18n.language, sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(at);
}

/** A conversation's preview in the member's language: the API marks a message without text
 * by its kind in brackets ("[image]"), which is translated here; text is shown as written. */
export function preview(text: string | null | undefined): string {
  if (!text) return "";
  const kind = /^\[([a-z_]+)\]$/.exec(text)?.[1];
  if (!kind) return text;
  return `[${i18n.t(`kinds.${kind}`, { defaultValue: kind })}]`;
}
