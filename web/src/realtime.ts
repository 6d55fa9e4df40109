import type { Frame } from "./types";

export interface RealtimeHandlers {
  /** A domain event, in order. */
  onFrame: (frame: Frame) => void;
  /** Something may have been missed (a gap in `seq`, or a new connection): refetch. */
  onResync: () => void;
  onStatus: (connected: boolean) => void;
}

const PING_MS = 25_000;
const MAX_BACKOFF_MS = 15_000;

/**
 * The inbox's live connection: `?token=` as the server's `$connect` expects, a ping to keep
 * proxies from dropping an idle socket, and a reconnect with growing back-off.
 */
export class Realtime {
  private socket: WebSocket | null = null;
  private lastSeq = 0;
  private attempts = 0;
  private stopped = false;
  private ping: number | undefined;
  private retry: number | undefined;
  private everConnected = false;

  constructor(
    private url: string,
    private token: string,
    private handlers: RealtimeHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.ping);
    window.clearTimeout(this.retry);
    // Its close arrives later, maybe after a new connection is up: the old socket must not
    // report it down (the badge then stuck at "Reconnecting…") nor schedule a reconnect.
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      socket.close();
    }
  }

  private open(): void {
    const separator = this.url.includes("?") ? "&" : "?";
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${this.url}${separator}token=${encodeURIComponent(this.token)}`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      // Each connection numbers its frames from 1.
      this.lastSeq = 0;
      this.handlers.onStatus(true);
      if (this.everConnected) this.handlers.onResync();
      this.everConnected = true;
      this.ping = window.setInterval(() => this.send({ action: "ping" }), PING_MS);
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = () => {
      window.clearInterval(this.ping);
      this.handlers.onStatus(false);
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  private receive(raw: unknown): void {
    if (typeof raw !== "string") return;
    let frame: Frame;
    try {
      frame = JSON.parse(raw) as Frame;
    } catch {
      return;
    }
    if (frame.event === "pong") return;
    if (typeof frame.seq === "number") {
      const gap = frame.seq !== this.lastSeq + 1;
      this.lastSeq = frame.seq;
      if (gap) {
        this.handlers.onResync();
        return;
      }
    }
    this.handlers.onFrame(frame);
  }

  private send(body: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(body));
  }

  private scheduleReconnect(): void {
    this.attempts += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.attempts, 5));
    this.retry = window.setTimeout(() => this.open(), delay);
  }
}
