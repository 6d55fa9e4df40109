// The REST API's answers, as its OpenAPI document (/api/openapi.json) describes them.

export type WindowState = "open" | "human_agent" | "closed";

export interface Conversation {
  id: string;
  channel: string | null;
  page_id: string | null;
  contact_id: string | null;
  contact_name: string | null;
  post_id?: string | null;
  status: string | null;
  assignee_id?: string | null;
  created_at: string | null;
  last_activity_at: string | null;
  last_message_preview?: string | null;
  last_message_direction?: string | null;
  unread_count: number;
  window: { state: WindowState; ends_at: string | null };
  messenger_conversation_id?: string | null;
  comment_conversation_ids?: string[];
  tags?: string[];
}

export interface Contact {
  id: string;
  page_id: string;
  kind: string;
  name: string;
  picture_url?: string | null;
  email?: string | null;
  phone?: string | null;
  notes?: string | null;
  tags: string[];
  conversation_ids: string[];
}

export interface Referral {
  kind: string;
  source?: string | null;
  ref?: string | null;
  ad_id?: string | null;
  ad_title?: string | null;
  ad_post_id?: string | null;
  ad_photo_url?: string | null;
  ad_video_url?: string | null;
  at?: string | null;
}

export interface ConversationDetail extends Conversation {
  contact: Contact | null;
  referral: Referral | null;
}

export interface Attachment {
  type: string;
  url?: string | null;
  title?: string | null;
  payload?: unknown;
  // The link Facebook sent; `url` is the inbox's own copy once kept.
  original_url?: string | null;
  // `pending`, `stored` or `failed` (with `media_error`, such as `host_not_allowed`).
  media_status?: string | null;
  media_error?: string | null;
  content_type?: string | null;
  size?: number | null;
}

export interface Message {
  id: string;
  facebook_id?: string | null;
  conversation_id: string;
  direction: "in" | "out";
  origin: string;
  type: string;
  text: string | null;
  attachments: Attachment[];
  status: string;
  created_at: string;
  author_id?: string | null;
  parent_comment_id?: string | null;
  reaction?: { reaction: string | null; emoji: string | null } | null;
  edited?: { count: number; previous: string[]; at: string | null } | null;
  hidden?: boolean;
  deleted?: boolean;
  liked_by_page?: boolean;
  private_reply?: { status: string; at: string | null } | null;
  send_error?: { code?: string; message?: string } | null;
  error?: { code?: string; message?: string } | null;
  tag?: string | null;
}

export interface Post {
  id: string;
  message?: string | null;
  created_at?: string | null;
  permalink_url?: string | null;
  picture_url?: string | null;
}

export interface Page {
  id: string;
  name: string;
  picture_url?: string | null;
  reconnect_needed: boolean;
  auto_assign?: boolean;
  faq_auto_reply: boolean;
  unanswered_timeout_seconds?: number | null;
  handover_words?: string[];
}

export interface ApiKey {
  id: string;
  name: string;
  role: Exclude<Role, "owner">;
  page_ids: string[];
  created_at: string | null;
  revoked_at?: string | null;
}

export type Role = "owner" | "admin" | "supervisor" | "agent";

export interface Member {
  id: string;
  email: string;
  name: string;
  role: Role;
  page_ids: string[];
  active: boolean;
  status: "online" | "away" | "offline";
  reception_limit: number;
  open_count: number;
  language?: string | null;
}

export interface TimelineEntry {
  id: string;
  kind: string;
  actor: string;
  from_member_id?: string | null;
  to_member_id?: string | null;
  note?: string | null;
  tags: string[];
  at: string;
}

export interface Product {
  id: string;
  name?: string;
  title?: string;
  price?: string | number | null;
  currency?: string | null;
  image_url?: string | null;
}

export interface Paged<T> {
  items: T[];
  next?: string | null;
}

/** A frame of the WebSocket (see the realtime contract). */
export interface Frame {
  seq?: number;
  event: string;
  conversation_id?: string | null;
  data?: Record<string, unknown>;
}
