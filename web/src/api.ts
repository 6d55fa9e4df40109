import type {
  ApiKey,
  Contact,
  Conversation,
  ConversationDetail,
  Member,
  Message,
  Page,
  Paged,
  Post,
  Product,
  TimelineEntry,
} from "./types";

/** A refusal of the API: its stable `code` drives what the interface says. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface ConversationQuery {
  channel?: string;
  page_id?: string;
  status?: string;
  assignee_id?: string;
  contact_name?: string;
  contact_tag?: string;
  phone?: string;
  cursor?: string;
  limit?: number;
}

type Json = Record<string, unknown> | unknown[];

export interface Tokens {
  id_token: string;
  access_token: string;
  refresh_token?: string;
}

export class Api {
  // One renewal at a time: the requests refused together all wait for it.
  private refreshing: Promise<boolean> | null = null;

  constructor(
    private base: string,
    private token: string | null,
    private onUnauthenticated: () => void = () => {},
    private refreshToken: string | null = null,
    private onRefreshed: (token: string) => void = () => {},
  ) {}

  private async call<T>(method: string, path: string, body?: Json, renewed = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const answer = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (answer.status === 204) return undefined as T;
    const read = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      // The tokens last an hour: renew once and ask again, rather than sign the member out
      // with a reply half typed.
      if (answer.status === 401 && !renewed && this.refreshToken && await this.renew()) {
        return this.call<T>(method, path, body, true);
      }
      if (answer.status === 401) this.onUnauthenticated();
      throw new ApiError(answer.status, read.code ?? "error", read.message ?? answer.statusText,
        read);
    }
    return read as T;
  }

  private renew(): Promise<boolean> {
    this.refreshing ??= fetch(this.base + "/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: this.refreshToken }),
    })
      .then(async (answer) => {
        if (!answer.ok) return false;
        const tokens = (await answer.json()) as Tokens;
        this.token = tokens.id_token || tokens.access_token;
        this.onRefreshed(this.token);
        return true;
      })
      .catch(() => false)
      .finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  login(email: string, password: string) {
    return this.call<Tokens>("POST", "/api/auth/login", { email, password });
  }

  newPassword(email: string, session: string, newPassword: string) {
    return this.call<Tokens>("POST", "/api/auth/new-password",
      { email, session, new_password: newPassword });
  }

  me() {
    return this.call<Member>("GET", "/api/members/me");
  }

  conversations(query: ConversationQuery) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") params.set(key, String(value));
    }
    return this.call<Paged<Conversation>>("GET", `/api/conversations?${params}`);
  }

  conversation(id: string) {
    return this.call<ConversationDetail>("GET", `/api/conversations/${enc(id)}`);
  }

  messages(id: string, cursor?: string) {
    const params = new URLSearchParams({ limit: "50" });
    if (cursor) params.set("cursor", cursor);
    return this.call<Paged<Message>>("GET", `/api/conversations/${enc(id)}/messages?${params}`);
  }

  timeline(id: string) {
    return this.call<Paged<TimelineEntry>>("GET", `/api/conversations/${enc(id)}/timeline`);
  }

  send(id: string, body: {
    text?: string;
    attachments?: { type: string; url: string }[];
    product_ids?: string[];
    tag?: string;
  }) {
    return this.call<{ items: Message[] }>("POST", `/api/conversations/${enc(id)}/messages`,
      body);
  }

  retry(id: string, messageId: string) {
    return this.call<Message>("POST",
      `/api/conversations/${enc(id)}/messages/${enc(messageId)}/retry`);
  }

  read(id: string) {
    return this.call<void>("POST", `/api/conversations/${enc(id)}/read`);
  }

  post(id: string) {
    return this.call<Post>("GET", `/api/conversations/${enc(id)}/post`);
  }

  seen(id: string) {
    return this.call<void>("POST", `/api/conversations/${enc(id)}/seen`);
  }

  pickUp(id: string) {
    return this.call<Conversation>("POST", `/api/conversations/${enc(id)}/pick-up`);
  }

  transfer(id: string, toMemberId: string | null, note?: string) {
    return this.call<Conversation>("POST", `/api/conversations/${enc(id)}/transfer`,
      { to_member_id: toMemberId, note: note || null });
  }

  close(id: string, tags: string[]) {
    return this.call<Conversation>("POST", `/api/conversations/${enc(id)}/close`, { tags });
  }

  reopen(id: string) {
    return this.call<Conversation>("POST", `/api/conversations/${enc(id)}/reopen`);
  }

  comment(id: string, commentId: string, action: "reply" | "private-reply", text: string) {
    return this.call<Message>("POST",
      `/api/conversations/${enc(id)}/comments/${enc(commentId)}/${action}`, { text });
  }

  moderate(id: string, commentId: string, what: "like" | "hidden" | "delete", on: boolean) {
    const path = `/api/conversations/${enc(id)}/comments/${enc(commentId)}`;
    if (what === "delete") return this.call<Message>("DELETE", path);
    return this.call<Message>(on ? "PUT" : "DELETE", `${path}/${what}`);
  }

  async upload(file: File): Promise<{ type: string; url: string }> {
    const slot = await this.call<{
      upload_url: string;
      fields: Record<string, string>;
      media_url: string;
      attachment_type: string;
    }>("POST", "/api/uploads", {
      content_type: file.type || "application/octet-stream",
      filename: file.name,
      size: file.size,
    });
    const form = new FormData();
    for (const [key, value] of Object.entries(slot.fields)) form.append(key, value);
    form.append("file", file);
    const answer = await fetch(slot.upload_url, { method: "POST", body: form });
    if (!answer.ok) throw new ApiError(answer.status, "upload_failed", answer.statusText);
    return { type: slot.attachment_type, url: slot.media_url };
  }

  products() {
    return this.call<Paged<Product>>("GET", "/api/catalog/products");
  }

  pages() {
    return this.call<Paged<Page>>("GET", "/api/pages");
  }

  /** Connects a page from its access token, or reconnects one whose token Facebook refused. */
  connectPage(accessToken: string) {
    return this.call<Page>("POST", "/api/pages", { access_token: accessToken });
  }

  updatePage(id: string, change: Partial<Page>) {
    return this.call<Page>("PATCH", `/api/pages/${enc(id)}`, change as Json);
  }

  members() {
    return this.call<Paged<Member>>("GET", "/api/members");
  }

  invite(email: string, name: string, role: string) {
    return this.call<Member>("POST", "/api/members", { email, name, role });
  }

  updateMember(id: string, change: { role?: string; reception_limit?: number;
    page_ids?: string[] }) {
    return this.call<Member>("PATCH", `/api/members/${enc(id)}`, change);
  }

  deactivateMember(id: string) {
    return this.call<Member>("DELETE", `/api/members/${enc(id)}`);
  }

  apiKeys() {
    return this.call<Paged<ApiKey>>("GET", "/api/api-keys");
  }

  createApiKey(name: string, role: string) {
    return this.call<ApiKey & { key: string }>("POST", "/api/api-keys", { name, role });
  }

  revokeApiKey(id: string) {
    return this.call<ApiKey>("DELETE", `/api/api-keys/${enc(id)}`);
  }

  updateContact(id: string, change: { email?: string; phone?: string; notes?: string;
    tags?: string[] }) {
    return this.call<Contact>("PATCH", `/api/contacts/${enc(id)}`, change);
  }

  setLanguage(language: string) {
    return this.call<Member>("PUT", "/api/members/me/language", { language });
  }

  setStatus(status: string) {
    return this.call<Member>("PUT", "/api/members/me/status", { status });
  }
}

function enc(part: string): string {
  return encodeURIComponent(part);
}
