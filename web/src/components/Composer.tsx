import {
  Alert, Badge, Box, Button, CloseButton, FileButton, Group, Modal, Select, SimpleGrid, Text,
  Textarea, UnstyledButton, Card, Image,
} from "@mantine/core";
import { type DragEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import { type Api, ApiError } from "../api";
import type { ConversationDetail, Product } from "../types";
import { COMPOSER_ID } from "./Shortcuts";

const HUMAN_AGENT = "HUMAN_AGENT";
// The API's upload limit (MAX_UPLOAD_BYTES in shared/inbox/actions/outbound.py, Facebook's
// attachment limit): a larger file is refused there, so it is refused here before the upload.
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;
const MAX_FILES = 10;

/** Why a file cannot be sent, before any upload: empty, or over the limit. */
function fileProblem(file: File, t: TFunction): string | null {
  if (file.size === 0) return t("composer.fileEmpty", { name: file.name });
  if (file.size > MAX_UPLOAD_BYTES) {
    return t("composer.fileTooLarge", { name: file.name, size: megabytes(file.size),
      limit: megabytes(MAX_UPLOAD_BYTES) });
  }
  return null;
}

function megabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0);
}

/** A refused upload, named by its file: the API's own wording says nothing of which one. */
function uploadRefusal(file: File, caught: unknown,
  t: TFunction): string {
  let reason = t("errors.network");
  if (caught instanceof ApiError) {
    const detail = (caught.body.detail ?? []) as { loc?: unknown[] }[];
    const field = caught.body.field ?? detail.find((d) => d.loc)?.loc?.slice(-1)[0];
    if (field === "size") {
      reason = t("composer.uploadTooLarge", { limit: megabytes(MAX_UPLOAD_BYTES) });
    } else if (field === "content_type") {
      reason = t("composer.uploadType");
    } else if (caught.code === "upload_failed") {
      reason = t("composer.uploadStorage", { status: caught.status });
    } else {
      reason = t(`composer.errors.${caught.code}`, { defaultValue: caught.message });
    }
  }
  return t("composer.uploadRefused", { name: file.name, reason });
}

/** The reply box: text, attachments (picker or drop), catalog products, and the window's tag. */
export function Composer(props: {
  api: Api;
  conversation: ConversationDetail;
  onSent: () => void;
}) {
  const { api, conversation, onSent } = props;
  const { t } = useTranslation();
  const [text, setText] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [products, setProducts] = useState<Product[]>([]);
  const [tag, setTag] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [catalogOpen, setCatalogOpen] = useState(false);
  const window_ = conversation.window.state;

  if (window_ === "closed") {
    return (
      <Alert color="gray" m="sm" data-testid="window-closed">{t("composer.windowClosed")}</Alert>
    );
  }
  const needsTag = window_ === "human_agent";
  const empty = !text.trim() && files.length === 0 && products.length === 0;

  async function send() {
    if (empty || busy) return;
    if (needsTag && tag !== HUMAN_AGENT) {
      setError(t("composer.pickTag"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const attachments = [];
      for (const file of files) {
        try {
          attachments.push(await api.upload(file));
        } catch (caught) {
          setError(uploadRefusal(file, caught, t));
          return;
        }
      }
      await api.send(conversation.id, {
        text: text.trim() || undefined,
        attachments,
        product_ids: products.map((p) => p.id),
        tag: needsTag ? HUMAN_AGENT : undefined,
      });
      setText("");
      setFiles([]);
      setProducts([]);
      onSent();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t("errors.network"));
    } finally {
      setBusy(false);
    }
  }

  // Files that cannot go are named at once, not after an upload the API refuses.
  function addFiles(picked: File[]) {
    const problems = picked.map((f) => fileProblem(f, t)).filter((p) => p !== null);
    setError(problems.length ? problems.join(" ") : null);
    const good = picked.filter((f) => fileProblem(f, t) === null);
    setFiles((old) => [...old, ...good].slice(0, MAX_FILES));
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    addFiles(Array.from(event.dataTransfer.files));
  }

  return (
    <Box p="sm" data-testid="composer"
      onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave={() => setDragging(false)} onDrop={drop}
      style={{ borderTop: "1px solid var(--mantine-color-gray-3)",
        outline: dragging ? "2px dashed var(--mantine-color-indigo-5)" : undefined }}>
      {needsTag && (
        <Alert color="yellow" mb="xs" p="xs" data-testid="window-tag">
          <Group justify="space-between">
            <Text size="sm">{t("composer.humanAgentWindow")}</Text>
            <Select size="xs" w={200} aria-label={t("composer.tag")}
              placeholder={t("composer.tag")} value={tag} onChange={setTag}
              data={[{ value: HUMAN_AGENT, label: t("composer.humanAgentTag") }]} />
          </Group>
        </Alert>
      )}
      {(files.length > 0 || products.length > 0) && (
        <Group gap={4} mb="xs">
          {files.map((f, i) => (
            <Badge key={i} variant="light" rightSection={<CloseButton size="xs"
              aria-label={t("composer.remove")}
              onClick={() => setFiles(files.filter((_, j) => j !== i))} />}>{f.name}</Badge>
          ))}
          {products.map((p) => (
            <Badge key={p.id} color="teal" variant="light" rightSection={<CloseButton size="xs"
              aria-label={t("composer.remove")}
              onClick={() => setProducts(products.filter((x) => x.id !== p.id))} />}>
              {p.title ?? p.name ?? p.id}</Badge>
          ))}
        </Group>
      )}
      <Textarea id={COMPOSER_ID} aria-keyshortcuts="r"
        aria-label={t("composer.placeholder")} placeholder={t("composer.placeholder")}
        autosize minRows={2} maxRows={6} value={text} maxLength={2000}
        onChange={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          // Enter sends; Shift+Enter starts a new line.
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void send();
          }
        }} />
      {error && <Text c="red" size="sm" role="alert" mt={4}>{error}</Text>}
      <Group justify="space-between" mt="xs">
        <Group gap="xs">
          <FileButton multiple onChange={addFiles}>
            {(p) => <Button {...p} size="xs" variant="default">{t("composer.attach")}</Button>}
          </FileButton>
          <Button size="xs" variant="default" onClick={() => setCatalogOpen(true)}>
            {t("composer.products")}
          </Button>
          <Text size="xs" c="dimmed">{t("composer.dropHint")}</Text>
        </Group>
        <Button size="xs" onClick={() => void send()} loading={busy} disabled={empty}>
          {t("composer.send")}
        </Button>
      </Group>
      <CatalogPicker api={api} opened={catalogOpen} onClose={() => setCatalogOpen(false)}
        onPick={(p) => setProducts((old) => old.some((x) => x.id === p.id) ? old : [...old, p])} />
    </Box>
  );
}

function CatalogPicker(props: {
  api: Api;
  opened: boolean;
  onClose: () => void;
  onPick: (product: Product) => void;
}) {
  const { t } = useTranslation();
  const [items, setItems] = useState<Product[] | null>(null);
  if (props.opened && items === null) {
    void props.api.products().then((a) => setItems(a.items)).catch(() => setItems([]));
  }
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("composer.products")} size="lg">
      {items?.length === 0 && <Text c="dimmed">{t("composer.noProducts")}</Text>}
      <SimpleGrid cols={3}>
        {(items ?? []).map((p) => (
          <UnstyledButton key={p.id} onClick={() => { props.onPick(p); props.onClose(); }}>
            <Card withBorder p="xs">
              {p.image_url && <Card.Section><Image src={p.image_url} h={90} alt="" /></Card.Section>}
              <Text size="sm" fw={600}>{p.title ?? p.name}</Text>
              {p.price && <Text size="xs" c="dimmed">{p.price} {p.currency ?? ""}</Text>}
            </Card>
          </UnstyledButton>
        ))}
      </SimpleGrid>
    </Modal>
  );
}
