/**
 * Abuse limits of one realtime task: connections per task and per client IP, and per-connection event and
 * byte budgets over fixed 10-second windows. Pure bookkeeping with no I/O, so it is unit-tested directly.
 */

/** Reasons a connection or event is refused; each is a `Reason` dimension of the `Rejections` metric. */
export type RejectionReason =
  | "auth_failed"
  | "server_full"
  | "too_many_connections_from_ip"
  /** Engine.IO sessions (bare handshakes included) past MAX_SESSIONS_PER_IP from one client IP: HTTP 403. */
  | "too_many_sessions_from_ip"
  /** More messages from one user than SEND_LIMIT_MAX per SEND_LIMIT_WINDOW_S over every socket and the api. */
  | "send_rate_limited"
  /** The socket's access token expired and no refreshed one came through `auth:refresh`. */
  | "token_expired"
  | "server_draining"
  | "rate_limited"
  | "bytes_rate_limited"
  | "payload_too_large"
  | "slow_consumer"
  | "revoked"
  | "invalid_event"
  /** `message:send`, `typing` or `read` for a room the user is not (or no longer) a member of. */
  | "not_member"
  /** An event naming a room or message that does not exist. */
  | "not_found"
  /** A frame over `maxHttpBufferSize`: the transport is closed (WebSocket close 1009, polling HTTP 413). */
  | "frame_too_large"
  /** An Engine.IO request refused before any socket exists (unknown session id, bad transport or protocol). */
  | "invalid_handshake";

export interface Rejection {
  code: RejectionReason;
  message: string;
}

/**
 * The client address of a handshake. Each proxy appends the address it received the request from to
 * X-Forwarded-For, so only the last `trustProxyHops` entries were written by proxies we run (the ALB is one
 * hop); anything before them came from the client and may be forged. The address is taken from the chain
 * [socket peer, last entry, second-to-last, ...] at position `trustProxyHops` (or the farthest one present);
 * with 0 hops the header is ignored. The same rule as the api's `TRUST_PROXY_HOPS`.
 */
export function clientIp(headers: Record<string, string | string[] | undefined>, remoteAddress: string | undefined, trustProxyHops: number): string {
  const peer = remoteAddress ?? "unknown";
  if (trustProxyHops <= 0) return normaliseIp(peer);
  const raw = headers["x-forwarded-for"];
  const value = Array.isArray(raw) ? raw.join(",") : raw ?? "";
  const forwarded = value.split(",").map((e) => e.trim()).filter((e) => e.length > 0);
  const chain = [peer, ...forwarded.reverse()];
  return normaliseIp(chain[Math.min(trustProxyHops, chain.length - 1)]);
}

function normaliseIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** Counts open connections per task and per IP. `tryAcquire` and `release` must be paired. */
export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(private readonly maxPerTask: number, private readonly maxPerIp: number) {}

  get size(): number {
    return this.total;
  }

  /** Addresses holding at least one slot: an address whose last slot is released is forgotten (no map growth). */
  get addresses(): number {
    return this.perIp.size;
  }

  countFor(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Reserves a slot for `ip`, or returns the rejection that applies. */
  tryAcquire(ip: string): Rejection | undefined {
    if (this.total >= this.maxPerTask) {
      return {
        code: "server_full",
        message: `this server holds its maximum of ${this.maxPerTask} connections; retry shortly (another server will be chosen)`,
      };
    }
    const current = this.countFor(ip);
    if (current >= this.maxPerIp) {
      return {
        code: "too_many_connections_from_ip",
        message: `too many connections from your address (limit ${this.maxPerIp}); close some before opening more`,
      };
    }
    this.total++;
    this.perIp.set(ip, current + 1);
    return undefined;
  }

  release(ip: string): void {
    const current = this.countFor(ip);
    if (current <= 0) return;
    this.total--;
    if (current === 1) this.perIp.delete(ip);
    else this.perIp.set(ip, current - 1);
  }
}

/**
 * Engine.IO sessions per client IP on one task, counted from the handshake (before any token is checked) until
 * the session closes. `tryAcquire` and `release` must be paired.
 */
export class SessionLimiter {
  private readonly perIp = new Map<string, number>();

  constructor(private readonly maxPerIp: number) {}

  /** Addresses holding at least one session: an address whose last session closes is forgotten. */
  get addresses(): number {
    return this.perIp.size;
  }

  countFor(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  tryAcquire(ip: string): Rejection | undefined {
    const current = this.countFor(ip);
    if (current >= this.maxPerIp) {
      return {
        code: "too_many_sessions_from_ip",
        message: `too many open sessions from your address (limit ${this.maxPerIp}); close some, or wait for unused ones to be closed, before opening more`,
      };
    }
    this.perIp.set(ip, current + 1);
    return undefined;
  }

  release(ip: string): void {
    const current = this.countFor(ip);
    if (current <= 1) this.perIp.delete(ip);
    else this.perIp.set(ip, current - 1);
  }
}

/** Per-connection budget of events and bytes over fixed 10-second windows. */
export class EventBudget {
  static readonly WINDOW_MS = 10_000;
  private windowStart: number;
  private events = 0;
  private bytes = 0;

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
    private readonly maxPayloadBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStart = now();
  }

  /** Accounts one incoming event of `size` bytes, or returns why it is refused (refused events still count). */
  take(size: number): Rejection | undefined {
    if (size > this.maxPayloadBytes) {
      return {
        code: "payload_too_large",
        message: `event payload is ${size} bytes; the limit is ${this.maxPayloadBytes} bytes`,
      };
    }
    const t = this.now();
    if (t - this.windowStart >= EventBudget.WINDOW_MS) {
      this.windowStart = t;
      this.events = 0;
      this.bytes = 0;
    }
    this.events++;
    this.bytes += size;
    const retryIn = Math.max(1, Math.ceil((this.windowStart + EventBudget.WINDOW_MS - t) / 1000));
    if (this.events > this.maxEvents) {
      return {
        code: "rate_limited",
        message: `more than ${this.maxEvents} events in 10 s; slow down and retry in ${retryIn} s`,
      };
    }
    if (this.bytes > this.maxBytes) {
      return {
        code: "bytes_rate_limited",
        message: `more than ${this.maxBytes} bytes in 10 s; slow down and retry in ${retryIn} s`,
      };
    }
    return undefined;
  }
}

/** Byte size of an event's arguments as they travel (JSON), without the acknowledgement callback. */
export function payloadBytes(args: unknown[]): number {
  let size = 0;
  for (const a of args) {
    if (typeof a === "function" || a === undefined) continue;
    // Strings too go through JSON.stringify: their quotes and escapes travel with them.
    if (Buffer.isBuffer(a)) size += a.length;
    else {
      try {
        size += Buffer.byteLength(JSON.stringify(a) ?? "");
      } catch {
        size += Number.MAX_SAFE_INTEGER / 4;
      }
    }
  }
  return size;
}
