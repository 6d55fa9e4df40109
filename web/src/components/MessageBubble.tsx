import { Anchor, Badge, Box, Button, Card, Group, Image, Stack, Text, Tooltip } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { time } from "../format";
import type { Attachment, Message } from "../types";

/** One message of a Messenger conversation, whatever its kind. */
export function MessageBubble(props: { message: Message; onRetry: (m: Message) => void }) {
  const { message, onRetry } = props;
  const { t } = useTranslation();
  const out = message.direction === "out";
  const failed = message.status === "failed";
  // Sent from Facebook's own tools (Page inbox, phone app), not from here.
  const elsewhere = out && message.origin === "external";
  const error = message.error ?? message.send_error;

  return (
    <Group justify={out ? "flex-end" : "flex-start"} data-testid="message"
      data-direction={message.direction} data-status={message.status}>
      <Stack gap={2} maw="70%" align={out ? "flex-end" : "flex-start"}>
        <Box px="sm" py={6} style={{
          borderRadius: 14,
          background: failed ? "var(--mantine-color-red-1)"
            : out ? "var(--mantine-color-indigo-6)" : "var(--mantine-color-gray-1)",
          color: out && !failed ? "white" : undefined,
          opacity: message.deleted ? 0.6 : 1,
        }}>
          {message.text && (
            <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
              {message.text}
            </Text>
          )}
          {message.attachments.map((a, i) => (
            <AttachmentView key={i} attachment={a} onDark={out && !failed} />
          ))}
          {!message.text && message.attachments.length === 0 && (
            <Text size="sm" fs="italic">{t(`kinds.${message.type}`,
              { defaultValue: t("kinds.unsupported") })}</Text>
          )}
        </Box>
        <Group gap={6}>
          {message.reaction?.emoji && (
            <Badge size="sm" variant="white" title={message.reaction.reaction ?? ""}>
              {message.reaction.emoji}
            </Badge>
          )}
          {message.edited && (
            <Tooltip label={message.edited.previous.join(" → ")}
              disabled={message.edited.previous.length < 2}>
              <Text size="xs" c="dimmed" data-testid="edited">
                {message.edited.previous.length
                  ? t("chat.editedFrom",
                    { text: message.edited.previous[message.edited.previous.length - 1] })
                  : t("chat.edited")}
              </Text>
            </Tooltip>
          )}
          {elsewhere && <Text size="xs" c="dimmed">{t("chat.sentElsewhere")}</Text>}
          {message.tag && <Text size="xs" c="dimmed">{message.tag}</Text>}
          <Text size="xs" c="dimmed">{time(message.created_at)}</Text>
          {out && !failed && (
            <Text size="xs" c={message.status === "read" ? "indigo" : "dimmed"}
              data-testid="delivery" aria-label={t(`delivery.${message.status}`)}>
              {t(`delivery.${message.status}`, { defaultValue: message.status })}
            </Text>
          )}
          {failed && (
            <>
              <Text size="xs" c="red" role="alert">
                {t("chat.failed")}{error?.message ? `: ${error.message}` : ""}
              </Text>
              <Button size="compact-xs" color="red" variant="light"
                onClick={() => onRetry(message)}>{t("chat.retry")}</Button>
            </>
          )}
        </Group>
      </Stack>
    </Group>
  );
}

/** One attachment; `onDark` when it sits on an outbound (coloured) bubble. */
export function AttachmentView(props: { attachment: Attachment; onDark?: boolean }) {
  const { attachment, onDark } = props;
  const { t } = useTranslation();
  const payload = (attachment.payload ?? {}) as Record<string, unknown>;
  const url = attachment.url ?? undefined;
  // Not copied (a refused host, too large...): its link is not one to open, so the member
  // reads why instead of a broken picture, and the browser never asks for it.
  if (attachment.media_status === "failed") {
    const reason = attachment.media_error ?? "";
    const known = reason.startsWith("http_") ? "http" : reason;
    return (
      <Text size="sm" fs="italic" data-testid="media-failed" data-reason={reason}>
        {t("media.notKept", { kind: t(`kinds.${attachment.type}`,
          { defaultValue: t("kinds.file") }) })}
        {": "}
        {t(`media.reasons.${known}`,
          { status: reason.slice(5), defaultValue: t("media.reasons.other") })}
      </Text>
    );
  }
  switch (attachment.type) {
    case "image":
      return <Image src={url} alt={attachment.title ?? t("kinds.image")} maw={260} radius="sm" />;
    case "sticker":
      return <Image src={url} alt={t("kinds.sticker")} w={96} />;
    case "audio":
      return <audio controls src={url} aria-label={t("kinds.audio")} />;
    case "video":
      return <video controls src={url} style={{ maxWidth: 280 }} aria-label={t("kinds.video")} />;
    case "file":
      // The theme's link colour is the outbound bubble's own: white there, underlined.
      return <Anchor href={url} target="_blank" rel="noreferrer" size="sm"
        c={onDark ? "white" : undefined} underline={onDark ? "always" : undefined}>
        📎 {attachment.title ?? fileName(attachment.original_url ?? url) ?? t("kinds.file")}
      </Anchor>;
    case "location": {
      const coordinates = (payload.coordinates ?? payload) as { lat?: number; long?: number };
      return <Text size="sm">📍 {attachment.title ?? t("kinds.location")}
        {coordinates.lat !== undefined && ` (${coordinates.lat}, ${coordinates.long})`}</Text>;
    }
    case "template":
    case "product":
    case "fallback":
      return <TemplateCard attachment={attachment} />;
    default:
      return <Text size="sm" fs="italic">{attachment.title ?? t("kinds.unsupported")}</Text>;
  }
}

function TemplateCard({ attachment }: { attachment: Attachment }) {
  const { t } = useTranslation();
  const payload = (attachment.payload ?? {}) as Record<string, unknown>;
  const elements = (payload.elements as Record<string, unknown>[] | undefined)
    ?? (payload.product?.valueOf ? [payload] : []);
  // A shared link (fallback) carries the page's address, not a picture: shown as a link.
  const link = attachment.type === "fallback" ? attachment.url ?? undefined : undefined;
  const cards = elements.length ? elements
    : [{ title: attachment.title, image_url: link ? undefined : attachment.url }];
  return (
    <Group gap="xs" data-testid="card">
      {cards.map((card, i) => (
        <Card key={i} withBorder p="xs" w={200} c="black">
          {typeof card.image_url === "string" && (
            <Card.Section><CardPicture src={card.image_url} /></Card.Section>
          )}
          <Text size="sm" fw={600} mt={4}>{String(card.title ?? t("kinds.template"))}</Text>
          {typeof card.subtitle === "string" && <Text size="xs" c="dimmed">{card.subtitle}</Text>}
          {link && (
            <Anchor href={link} target="_blank" rel="noreferrer" size="xs" truncate="end">
              {link}
            </Anchor>
          )}
        </Card>
      ))}
    </Group>
  );
}

/** A card's picture; one that does not load (an expired or private link) is left out. */
function CardPicture({ src }: { src: string }) {
  const [failed, setFailed] = useState(false);
  if (failed) return null;
  return <Image src={src} h={100} alt="" onError={() => setFailed(true)} />;
}

/** The name a file link ends with, which Facebook's file attachments carry no other way. */
function fileName(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const last = new URL(url, window.location.href).pathname.split("/").pop();
    return last ? decodeURIComponent(last) : null;
  } catch {
    return null;
  }
}
