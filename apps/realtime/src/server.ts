/**
 * The realtime server: Node's HTTP server with `/health` and `/ready`, and Socket.IO on the Redis adapter so a
 * broadcast from any task (or from the api through the emitter) reaches clients on every task.
 *
 * Life of a connection: the handshake is refused while draining, past the per-task / per-IP connection
 * limits, or without a valid, unrevoked access token (`connect_error` with `data: { code, message }`).
 * An accepted socket joins `user:<id>`, `session:<sid>` and `room:<id>` for each membership; later changes
 * arrive from the api through the adapter (`socketsJoin` / `socketsLeave` on `user:<id>`). Every event
 * then passes the per-connection event/byte budget and payload cap; refusals are answered with an `error`
 * event `{ code, message }` (and a failed acknowledgement when the client asked for one).
 *
 * Below Socket.IO, Engine.IO sessions are counted per client IP from the first handshake request (403 with the
 * reason in the body past MAX_SESSIONS_PER_IP) and closed when they have not connected the namespace within
 * CONNECT_TIMEOUT_MS. A socket is disconnected when its access token expires unless `auth:refresh` brought a
 * newer token of the same session; `message:send` draws on the per-user send budget shared with the api.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { Server, type Socket } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import type { Redis } from "ioredis";
import { ConnectionLimiter, EventBudget, SessionLimiter, clientIp, payloadBytes, type Rejection, type RejectionReason } from "./limits";
import { bufferedBytes } from "./slow-consumer";
import { RealtimeMetrics } from "./metrics";
import type { Metrics } from "@chat/shared/src/metrics";
import { codePoints, MESSAGE_BODY_MAX } from "@chat/shared/src/chat";
import {
  CLIENT_EVENTS as CLIENT_EVENT_NAMES, CLIENT_MSG_ID, CLIENT_MSG_ID_RULE, EVENT_ID_MAX, REFRESH_TOKEN_MAX,
  type ClientToServerEvents, type ServerToClientEvents,
} from "@chat/shared/src/socket-events";
import { ClientError, type ChatMessage, type Principal, type RealtimeDeps } from "./ports";
import type { RealtimeSettings } from "./settings";

/** The subset of the shared (pino) logger the server uses: `log.info({ fields }, "message")`. */
export interface Logger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface RealtimeServerOptions {
  settings: RealtimeSettings;
  deps: RealtimeDeps;
  /** Publishing connection of the Socket.IO Redis adapter. */
  pubClient: Redis;
  /** Subscribing connection of the adapter (a `duplicate()` of the publisher). */
  subClient: Redis;
  log: Logger;
  /** Shared EMF writer created with `intervalMs: 0`; the server flushes it every `metricsIntervalMs`. */
  emf: Metrics;
}

interface SocketState {
  principal: Principal;
  ip: string;
  budget: EventBudget;
  /** Rooms that get this user's `presence` events (those up to PRESENCE_MAX_ROOM_SIZE members). */
  presenceRooms: string[];
  /** Fires at the access token's expiry (re-armed by `auth:refresh`). */
  expiryTimer?: NodeJS.Timeout;
}

interface EngineConn {
  request: object;
  close(discard?: boolean): void;
  once(event: "close", fn: (reason: string, description?: unknown) => void): void;
}

/** The Socket.IO contract (apps/shared/src/socket-events.ts): what clients emit, what the server emits. */
type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketState>;
type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketState>;

const CLIENT_EVENTS: ReadonlySet<string> = new Set(CLIENT_EVENT_NAMES);
/** Client errors counted in `Rejections` (anything else a handler throws is a server fault). */
const REFUSAL_CODES = ["invalid_event", "not_member", "not_found", "send_rate_limited"] as const;
/** Where `allowRequest` leaves the client IP whose session slot it reserved, until the session exists. */
const SESSION_IP = Symbol("sessionIp");
/** Longest delay setTimeout takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_BODY_CHARS = MESSAGE_BODY_MAX;
const MAX_ID_CHARS = EVENT_ID_MAX;
/** How far before a lost Redis subscription the replay starts, to cover publishes in flight. */
const REPLAY_MARGIN_MS = 2000;
const REPLAY_LIMIT = 1000;

function refusal(r: Rejection): Error {
  const err = new Error(r.message) as Error & { data?: unknown };
  err.data = { code: r.code, message: r.message };
  return err;
}

function bearer(socket: ChatSocket): string | undefined {
  const fromAuth = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
  if (typeof fromAuth === "string" && fromAuth.length > 0) return fromAuth;
  const header = socket.handshake.headers.authorization;
  const m = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

function isId(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_ID_CHARS;
}

function validateSend(p: unknown): { roomId: string; body: string; clientMsgId: string } {
  const o = (p ?? {}) as Record<string, unknown>;
  if (typeof p !== "object" || p === null) throw new ClientError("invalid_event", "message:send expects an object { roomId, body, clientMsgId }");
  if (!isId(o.roomId)) throw new ClientError("invalid_event", "message:send: roomId must be a non-empty string");
  if (typeof o.body !== "string" || o.body.trim() === "") throw new ClientError("invalid_event", "message:send: body must be a non-empty string");
  const chars = codePoints(o.body);
  if (chars > MAX_BODY_CHARS) throw new ClientError("invalid_event", `message:send: body is ${chars} characters (Unicode code points); the limit is ${MAX_BODY_CHARS}`);
  if (typeof o.clientMsgId !== "string" || !CLIENT_MSG_ID.test(o.clientMsgId)) {
    throw new ClientError("invalid_event", `message:send: clientMsgId must be ${CLIENT_MSG_ID_RULE} (a client-generated unique id, reused on retry)`);
  }
  return { roomId: o.roomId, body: o.body, clientMsgId: o.clientMsgId };
}

function validateTyping(p: unknown): { roomId: string; isTyping: boolean } {
  const o = (p ?? {}) as Record<string, unknown>;
  if (!isId(o.roomId) || typeof o.isTyping !== "boolean") {
    throw new ClientError("invalid_event", "typing expects { roomId: string, isTyping: boolean }");
  }
  return { roomId: o.roomId, isTyping: o.isTyping };
}

function validateRead(p: unknown): { roomId: string; messageId: string } {
  const o = (p ?? {}) as Record<string, unknown>;
  if (!isId(o.roomId) || !isId(o.messageId)) {
    throw new ClientError("invalid_event", "read expects { roomId: string, messageId: string }");
  }
  return { roomId: o.roomId, messageId: o.messageId };
}

export class RealtimeServer {
  readonly http: HttpServer;
  readonly io: ChatServer;
  readonly metrics: RealtimeMetrics;
  private readonly limiter: ConnectionLimiter;
  private readonly sessions: SessionLimiter;
  /** Engine.IO sessions that have connected the namespace (passed the handshake). */
  private readonly namespaced = new WeakSet<object>();
  private readonly timers: NodeJS.Timeout[] = [];
  private draining = false;
  private closed = false;
  private subscriptionLostAt: number | undefined;
  /** Committed messages waiting for the next broadcast flush (`broadcastSoon`). */
  private outbox: Array<{ room: string; message: ChatMessage; sent: () => void }> = [];

  constructor(private readonly opts: RealtimeServerOptions) {
    const { settings } = opts;
    this.limiter = new ConnectionLimiter(settings.maxConnectionsPerTask, settings.maxConnectionsPerIp);
    this.sessions = new SessionLimiter(settings.maxSessionsPerIp);
    this.metrics = new RealtimeMetrics(opts.emf, () => this.limiter.size);
    this.http = createServer((req, res) => void this.handleHttp(req, res));
    // Engine-level cap on sessions, above the Socket.IO limit, so handshake floods cannot pile up sessions.
    const engineCap = Math.ceil(settings.maxConnectionsPerTask * 1.1) + 100;
    this.io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketState>(this.http, {
      adapter: createAdapter(
        guardFireAndForget(opts.pubClient, (err) => opts.log.warn({ error: err.message }, "redis publish failed")),
        guardFireAndForget(opts.subClient, (err) => opts.log.warn({ error: err.message }, "redis subscription command failed")),
      ),
      transports: ["polling", "websocket"],
      // A whole frame past this closes the transport; events under it but over MAX_PAYLOAD_BYTES get an error.
      maxHttpBufferSize: settings.maxPayloadBytes * 2 + 1024,
      pingInterval: settings.pingIntervalMs,
      pingTimeout: settings.pingTimeoutMs,
      // Socket.IO's own close of a session that never connected the namespace; only a backstop, since the
      // engine "connection" handler below closes such sessions first, discarding the transport (Socket.IO's
      // orderly close leaves a polling session waiting up to 30 s for its next request).
      connectTimeout: settings.connectTimeoutMs * 2 + 1000,
      serveClient: false,
      // Only new sessions come here (requests of an existing session carry its sid). A refusal is an HTTP 403
      // whose JSON body `{ code, message }` carries the message below, the reason a client can read.
      allowRequest: (req, done) => {
        if (this.io.engine.clientsCount >= engineCap) return done("server_full: this server holds its maximum of sessions; retry shortly", false);
        const ip = clientIp(req.headers, req.socket.remoteAddress, settings.trustProxyHops);
        const refused = this.sessions.tryAcquire(ip);
        if (refused) return done(`${refused.code}: ${refused.message}`, false);
        (req as unknown as Record<symbol, string>)[SESSION_IP] = ip;
        done(null, true);
      },
    });
    this.countEngineRefusals();
    this.io.use((socket, next) => void this.admit(socket as ChatSocket, next));
    this.io.on("connection", (socket) => this.onConnection(socket as ChatSocket));
    this.watchSubscription();
  }

  get connectionCount(): number {
    return this.limiter.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async listen(port = this.opts.settings.port, host = "0.0.0.0"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, host, () => {
        this.http.off("error", reject);
        resolve();
      });
    });
    const { settings } = this.opts;
    this.every(1000, () => this.disconnectSlowConsumers());
    this.every(settings.revocationCheckMs, () => this.checkRevocations());
    this.every(settings.presenceRefreshMs, () => this.refreshPresence());
    this.metrics.start(settings.metricsIntervalMs);
    return (this.http.address() as { port: number }).port;
  }

  // ---------------------------------------------------------------- HTTP

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { error: "method not allowed; use GET" });
    if (path === "/health") return send(200, { status: "ok", connections: this.limiter.size });
    if (path === "/ready") {
      if (this.draining) return send(503, { status: "draining" });
      try {
        await withTimeout(this.opts.deps.ready(), 2000, "readiness check timed out after 2000 ms");
        return send(200, { status: "ready" });
      } catch (err) {
        return send(503, { status: "not ready", error: (err as Error).message });
      }
    }
    send(404, { error: `no route ${path}; this service answers /health, /ready and /socket.io/` });
  }

  // ---------------------------------------------------------------- handshake

  /**
   * Refusals that happen below Socket.IO, where no `error` event can be sent, still get counted by reason:
   * Engine.IO's `connection_error` (the `allowRequest` cap answers 403 `server_full`; unknown session ids,
   * bad transports and protocol versions answer 400), and frames over `maxHttpBufferSize`, which close the
   * transport (WebSocket close 1009 "Max payload size exceeded"; a polling POST gets HTTP 413 and the client
   * drops the transport). socket.io-client reconnects in both cases.
   */
  private countEngineRefusals(): void {
    this.io.engine.on("connection_error", (e: { code: number; req?: object; context?: { message?: unknown } }) => {
      // A handshake that passed allowRequest but failed before its session existed gives its slot back.
      this.releaseSession(e.req);
      const text = typeof e.context?.message === "string" ? e.context.message : "";
      const reason: RejectionReason = text.startsWith("server_full")
        ? "server_full"
        : text.startsWith("too_many_sessions_from_ip")
          ? "too_many_sessions_from_ip"
          : "invalid_handshake";
      this.metrics.rejection(reason);
      this.opts.log.info({ reason, engineCode: e.code }, "engine request refused");
    });
    this.io.engine.on("connection", (conn: EngineConn) => {
      const ip = (conn.request as Record<symbol, string | undefined>)[SESSION_IP];
      if (ip !== undefined) {
        delete (conn.request as Record<symbol, string | undefined>)[SESSION_IP];
        conn.once("close", () => this.sessions.release(ip));
      }
      // A session that has not connected the namespace in time is closed at once, discarding its transport
      // (a polling session would otherwise wait up to 30 s for its next request before closing).
      const idle = setTimeout(() => {
        if (!this.namespaced.has(conn)) conn.close(true);
      }, this.opts.settings.connectTimeoutMs);
      idle.unref();
      conn.once("close", () => clearTimeout(idle));
      conn.once("close", (reason, description) => {
        if (reason === "transport error" && /max payload size exceeded/i.test(String((description as Error | undefined)?.message ?? description))) {
          this.metrics.rejection("frame_too_large");
          this.opts.log.info({ reason: "frame_too_large", limit: this.io.engine.opts.maxHttpBufferSize }, "frame over maxHttpBufferSize; transport closed");
        }
      });
    });
    this.http.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (!req.url?.startsWith("/socket.io/")) return;
      res.once("finish", () => {
        if (res.statusCode === 413) this.metrics.rejection("frame_too_large");
      });
    });
  }

  private releaseSession(req: object | undefined): void {
    const holder = req as Record<symbol, string | undefined> | undefined;
    const ip = holder?.[SESSION_IP];
    if (ip === undefined) return;
    delete holder![SESSION_IP];
    this.sessions.release(ip);
  }

  /** Open Engine.IO sessions of one client IP (tests, diagnostics). */
  sessionsFrom(ip: string): number {
    return this.sessions.countFor(ip);
  }

  private reject(reason: RejectionReason, r: Rejection, fields: Record<string, unknown> = {}): Error {
    this.metrics.rejection(reason);
    this.opts.log.info({ reason, ...fields }, "connection refused");
    return refusal(r);
  }

  private async admit(socket: ChatSocket, next: (err?: Error) => void): Promise<void> {
    const { settings, deps } = this.opts;
    if (this.draining) {
      return next(this.reject("server_draining", { code: "server_draining", message: "this server is shutting down; reconnect to be routed to another one" }));
    }
    const ip = clientIp(socket.handshake.headers, socket.request.socket.remoteAddress, settings.trustProxyHops);
    const limited = this.limiter.tryAcquire(ip);
    if (limited) return next(this.reject(limited.code, limited, { ip }));
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.limiter.release(ip);
    };
    socket.conn.once("close", release);
    socket.once("disconnect", release);

    const token = bearer(socket);
    if (!token) {
      release();
      return next(this.reject("auth_failed", { code: "auth_failed", message: "missing access token: pass it as auth.token or an Authorization: Bearer header" }));
    }
    let principal: Principal;
    let presenceRooms: string[] = [];
    try {
      principal = await deps.authenticate(token);
    } catch (err) {
      release();
      const message = err instanceof Error && err.message ? err.message : "invalid access token";
      return next(this.reject("auth_failed", { code: "auth_failed", message }, { ip }));
    }
    try {
      const rooms = await deps.roomsOf(principal.userId);
      socket.join([`user:${principal.userId}`, `session:${principal.sessionId}`, ...rooms.map((r) => `room:${r.roomId}`)]);
      presenceRooms = rooms.filter((r) => r.members <= settings.presenceMaxRoomSize).map((r) => `room:${r.roomId}`);
    } catch (err) {
      release();
      this.opts.log.error({ userId: principal.userId, error: (err as Error).message }, "could not load room memberships");
      return next(this.reject("auth_failed", { code: "auth_failed", message: "temporarily unable to load your rooms; retry shortly" }));
    }
    socket.data = {
      principal,
      ip,
      budget: new EventBudget(settings.maxMessagesPer10s, settings.maxBytesPer10s, settings.maxPayloadBytes),
      presenceRooms,
    };
    next();
  }

  // ---------------------------------------------------------------- events

  private onConnection(socket: ChatSocket): void {
    const { principal } = socket.data;
    this.namespaced.add(socket.conn);
    socket.conn.on("packetCreate", (p: { type: string }) => {
      if (p.type === "message") this.metrics.outgoingMessage();
    });
    socket.use((packet, next) => {
      const [event, ...args] = packet as [string, ...unknown[]];
      this.metrics.incomingMessage();
      const ack = typeof args[args.length - 1] === "function" ? (args[args.length - 1] as (r: unknown) => void) : undefined;
      let r: Rejection | undefined;
      if (!CLIENT_EVENTS.has(event)) {
        r = { code: "invalid_event", message: `unknown event "${String(event).slice(0, 64)}"; send message:send, typing or read` };
      } else {
        r = socket.data.budget.take(payloadBytes(args));
      }
      if (!r) return next();
      this.metrics.rejection(r.code);
      socket.emit("error", { code: r.code, message: r.message });
      ack?.({ ok: false, error: { code: r.code, message: r.message } });
    });
    socket.on("message:send", (payload: unknown, ack?: unknown) => void this.onSend(socket, payload, ack));
    socket.on("typing", (payload: unknown) => this.onTyping(socket, payload));
    socket.on("read", (payload: unknown, ack?: unknown) => void this.onRead(socket, payload, ack));
    socket.on("auth:refresh", (payload: unknown, ack?: unknown) => void this.onRefresh(socket, payload, ack));
    socket.on("disconnect", () => {
      clearTimeout(socket.data.expiryTimer);
      void this.onDisconnect(socket);
    });
    this.armExpiry(socket);
    this.opts.deps.markOnline([principal.userId]).catch((err: Error) => this.opts.log.warn({ error: err.message }, "presence update failed"));
    // Announced once per user and task: further tabs of the same user change nothing for the room.
    const local = this.io.of("/").adapter.rooms.get(`user:${principal.userId}`)?.size ?? 0;
    if (local <= 1 && socket.data.presenceRooms.length > 0) {
      socket.to(socket.data.presenceRooms).emit("presence", { userId: principal.userId, status: "online" });
    }
  }

  private fail(socket: ChatSocket, err: unknown, ack: ((r: unknown) => void) | undefined, event: string): void {
    const ce = err instanceof ClientError ? err : undefined;
    const code = ce?.code ?? "internal_error";
    const message = ce?.message ?? `${event} failed on the server; retry (a retried message:send with the same clientMsgId is not duplicated)`;
    if (!ce) this.opts.log.error({ userId: socket.data.principal.userId, error: (err as Error)?.message }, `${event} failed`);
    if (ce && (REFUSAL_CODES as readonly string[]).includes(ce.code)) this.metrics.rejection(ce.code as RejectionReason);
    if (ack) ack({ ok: false, error: { code, message } });
    else socket.emit("error", { code, message });
  }

  private async onSend(socket: ChatSocket, payload: unknown, rawAck: unknown): Promise<void> {
    const ack = typeof rawAck === "function" ? (rawAck as (r: unknown) => void) : undefined;
    const { principal } = socket.data;
    let input: ReturnType<typeof validateSend>;
    let message: ChatMessage;
    let created: boolean;
    try {
      input = validateSend(payload);
      await this.takeSend(principal.userId);
      ({ message, created } = await this.opts.deps.postMessage({ userId: principal.userId, ...input }));
    } catch (err) {
      return this.fail(socket, err, ack, "message:send");
    }
    // Whatever the database answered, only the sender's own message in the room the sender named may be
    // delivered or move this socket: a row from any other room (a driver or pool mix-up) is dropped.
    if (message.roomId.toLowerCase() !== input.roomId.toLowerCase() || message.authorId !== principal.userId || message.clientMsgId !== input.clientMsgId) {
      this.opts.log.error({
        userId: principal.userId, requestedRoomId: input.roomId, returnedRoomId: message.roomId, messageId: message.id,
      }, "message:send: the store returned a row that is not this send; nothing delivered");
      return this.fail(socket, new Error("store returned a mismatching row"), ack, "message:send");
    }
    // Committed: fan out, queue the jobs for offline members, then acknowledge (as the api's post does). A
    // retry (created=false) is broadcast and queued again, since the first attempt may have died before
    // either: clients drop duplicate message ids and the workers run each job id once. If the jobs cannot be
    // queued the ack says so, and the client's retry with the same clientMsgId completes the delivery.
    const room = `room:${message.roomId}`;
    // The store refuses non-members, replays included, so the sender is a member of the room it named;
    // joining heals a socket that missed the api's membership broadcast (the api moves sockets on
    // create/join/leave).
    if (!socket.rooms.has(room)) socket.join(room);
    await this.broadcastSoon(room, message);
    try {
      await this.opts.deps.notifyOffline(message, principal.userId);
    } catch (err) {
      this.opts.log.error({ messageId: message.id, created, error: (err as Error).message }, "message saved but push jobs for offline members could not be queued");
      const error = {
        code: "delivery_pending",
        message: "the message was saved but notifications could not be queued: retry with the same clientMsgId",
      };
      if (ack) ack({ ok: false, error, message });
      else socket.emit("error", error);
      return;
    }
    ack?.({ ok: true, message });
  }

  /**
   * Broadcasts `message:new` at the end of this turn of the event loop, together with every other message
   * committed in the same turn. Writing them in one go lets each client's transport take the second and
   * later packets as one write (Engine.IO buffers packets while a write is in flight), where broadcasting
   * each commit on its own costs one system call per client per message. Order is kept: messages go out in
   * the order their commits came back. Resolves once the message was handed to Socket.IO.
   */
  private broadcastSoon(room: string, message: ChatMessage): Promise<void> {
    return new Promise((sent) => {
      if (this.outbox.length === 0) setImmediate(() => this.flushOutbox());
      this.outbox.push({ room, message, sent });
    });
  }

  private flushOutbox(): void {
    const batch = this.outbox;
    this.outbox = [];
    for (const { room, message } of batch) this.io.to(room).emit("message:new", message);
    for (const { sent } of batch) sent();
  }

  /**
   * The per-user send budget shared with the api and the other tasks. Redis out of reach lets the send through
   * (logged): the per-connection event budget still applies, and delivery itself needs Redis anyway.
   */
  private async takeSend(userId: string): Promise<void> {
    let verdict: Awaited<ReturnType<RealtimeDeps["takeSend"]>>;
    try {
      verdict = await this.opts.deps.takeSend(userId);
    } catch (err) {
      this.opts.log.warn({ userId, error: (err as Error).message }, "send budget unavailable; message allowed");
      return;
    }
    if (!verdict.ok) throw new ClientError("send_rate_limited", verdict.message);
  }

  /** Disconnects the socket when its access token expires, unless `auth:refresh` brings a newer one first. */
  private armExpiry(socket: ChatSocket): void {
    clearTimeout(socket.data.expiryTimer);
    const expiresAt = socket.data.principal.expiresAt;
    if (expiresAt === undefined) return;
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, expiresAt * 1000 - Date.now()));
    socket.data.expiryTimer = setTimeout(() => {
      if (!socket.connected) return;
      this.metrics.rejection("token_expired");
      this.opts.log.info({ userId: socket.data.principal.userId }, "access token expired; socket disconnected");
      socket.emit("error", {
        code: "token_expired",
        message: "your access token expired: refresh it (POST /api/auth/refresh) and reconnect; send auth:refresh with the new token before expiry to stay connected",
      });
      socket.disconnect(true);
    }, ms);
    socket.data.expiryTimer.unref?.();
  }

  /** `auth:refresh { token }`: a newer access token of the same session moves the socket's expiry. */
  private async onRefresh(socket: ChatSocket, payload: unknown, rawAck: unknown): Promise<void> {
    const ack = typeof rawAck === "function" ? (rawAck as (r: unknown) => void) : undefined;
    const token = (payload as { token?: unknown } | null)?.token;
    const answer = (r: { ok: true; expiresAt?: number } | { ok: false; error: { code: string; message: string } }) => {
      if (ack) ack(r);
      else if (!r.ok) socket.emit("error", r.error);
    };
    if (typeof token !== "string" || token.length === 0 || token.length > REFRESH_TOKEN_MAX) {
      this.metrics.rejection("invalid_event");
      return answer({ ok: false, error: { code: "invalid_event", message: "auth:refresh expects { token: string } (a new access token from POST /api/auth/refresh)" } });
    }
    let next: Principal;
    try {
      next = await this.opts.deps.authenticate(token);
    } catch (err) {
      this.metrics.rejection("auth_failed");
      const message = err instanceof Error && err.message ? err.message : "invalid access token";
      return answer({ ok: false, error: { code: "auth_failed", message: `token not accepted, the current one stays in force until it expires: ${message}` } });
    }
    const current = socket.data.principal;
    if (next.userId !== current.userId || next.sessionId !== current.sessionId) {
      this.metrics.rejection("auth_failed");
      return answer({ ok: false, error: { code: "auth_failed", message: "auth:refresh needs a token of the same user and session as this connection; reconnect to switch" } });
    }
    socket.data.principal = next;
    this.armExpiry(socket);
    answer({ ok: true, expiresAt: next.expiresAt });
  }

  private onTyping(socket: ChatSocket, payload: unknown): void {
    try {
      const { roomId, isTyping } = validateTyping(payload);
      const room = `room:${roomId}`;
      if (!socket.rooms.has(room)) throw new ClientError("not_member", `you are not a member of room ${roomId}`);
      socket.to(room).emit("typing", { roomId, userId: socket.data.principal.userId, isTyping });
    } catch (err) {
      this.fail(socket, err, undefined, "typing");
    }
  }

  private async onRead(socket: ChatSocket, payload: unknown, rawAck: unknown): Promise<void> {
    const ack = typeof rawAck === "function" ? (rawAck as (r: unknown) => void) : undefined;
    try {
      const { roomId, messageId } = validateRead(payload);
      const room = `room:${roomId}`;
      if (!socket.rooms.has(room)) throw new ClientError("not_member", `you are not a member of room ${roomId}`);
      const userId = socket.data.principal.userId;
      await this.opts.deps.markRead({ userId, roomId, messageId });
      ack?.({ ok: true });
      socket.to(room).emit("read", { roomId, userId, messageId });
    } catch (err) {
      this.fail(socket, err, ack, "read");
    }
  }

  private async onDisconnect(socket: ChatSocket): Promise<void> {
    const principal = socket.data?.principal;
    if (!principal || this.draining) return;
    const userRoom = `user:${principal.userId}`;
    if (this.io.of("/").adapter.rooms.get(userRoom)?.size) return;
    try {
      const remaining = await this.io.in(userRoom).fetchSockets();
      if (remaining.length > 0) return;
      await this.opts.deps.markOffline(principal.userId);
      const rooms = socket.data.presenceRooms;
      if (rooms.length > 0) this.io.to(rooms).emit("presence", { userId: principal.userId, status: "offline" });
    } catch (err) {
      this.opts.log.warn({ error: (err as Error).message }, "presence update on disconnect failed");
    }
  }

  // ---------------------------------------------------------------- periodic checks

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => {
      try {
        const r = fn();
        if (r instanceof Promise) r.catch((err: Error) => this.opts.log.warn({ error: err.message }, "periodic task failed"));
      } catch (err) {
        this.opts.log.warn({ error: (err as Error).message }, "periodic task failed");
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private localSockets(): ChatSocket[] {
    return [...this.io.of("/").sockets.values()] as ChatSocket[];
  }

  /** Disconnects sockets whose unsent bytes pass SLOW_CONSUMER_BYTES. */
  disconnectSlowConsumers(): number {
    const limit = this.opts.settings.slowConsumerBytes;
    let dropped = 0;
    for (const socket of this.localSockets()) {
      const buffered = bufferedBytes(socket.conn);
      if (buffered <= limit) continue;
      dropped++;
      this.metrics.rejection("slow_consumer");
      this.opts.log.warn({ userId: socket.data.principal?.userId, bufferedBytes: buffered, limit }, "slow consumer disconnected");
      socket.emit("error", { code: "slow_consumer", message: `${buffered} bytes were waiting for this client (limit ${limit}); reconnect and read faster` });
      socket.disconnect(true);
    }
    return dropped;
  }

  /** Drops sockets whose session or user was revoked, in case the api's disconnect broadcast was missed. */
  async checkRevocations(): Promise<number> {
    const sockets = this.localSockets().filter((s) => s.data?.principal);
    let dropped = 0;
    for (let i = 0; i < sockets.length; i += 500) {
      const batch = sockets.slice(i, i + 500);
      const revoked = await this.opts.deps.revokedAmong(batch.map((s) => s.data.principal));
      batch.forEach((socket, j) => {
        if (!revoked[j]) return;
        dropped++;
        this.metrics.rejection("revoked");
        socket.emit("error", { code: "revoked", message: "your session was revoked; sign in again" });
        socket.disconnect();
      });
    }
    return dropped;
  }

  private async refreshPresence(): Promise<void> {
    const users = new Set<string>();
    for (const s of this.localSockets()) if (s.data?.principal) users.add(s.data.principal.userId);
    const list = [...users];
    for (let i = 0; i < list.length; i += 500) await this.opts.deps.markOnline(list.slice(i, i + 500));
  }

  /**
   * Pub/sub is fire-and-forget: broadcasts published while this task's subscription was down are lost to
   * it. When the subscription comes back, the task re-sends the messages of its rooms committed since the
   * loss (from Postgres) to its local sockets, so no persisted message is missed; clients drop duplicates
   * by id.
   */
  private watchSubscription(): void {
    const sub = this.opts.subClient;
    const lost = () => {
      if (this.closed) return;
      if (this.subscriptionLostAt === undefined) {
        this.subscriptionLostAt = Date.now();
        this.opts.log.warn({}, "redis subscription lost; cross-task delivery paused");
      }
    };
    sub.on("close", lost);
    sub.on("end", lost);
    sub.on("error", (err: Error) => this.opts.log.warn({ error: err.message }, "redis subscriber error"));
    this.opts.pubClient.on("error", (err: Error) => this.opts.log.warn({ error: err.message }, "redis publisher error"));
    sub.on("ready", () => {
      const since = this.subscriptionLostAt;
      if (since === undefined) return;
      this.subscriptionLostAt = undefined;
      void this.replaySince(since - REPLAY_MARGIN_MS);
    });
  }

  private async replaySince(sinceMs: number): Promise<void> {
    try {
      // A round trip on the subscriber makes sure Redis has processed the re-subscription first.
      await this.opts.subClient.ping();
      const rooms = [...this.io.of("/").adapter.rooms.keys()].filter((r) => r.startsWith("room:")).map((r) => r.slice(5));
      if (rooms.length === 0) return;
      const messages = await this.opts.deps.messagesSince(rooms, new Date(sinceMs), REPLAY_LIMIT);
      const asked = new Set(rooms);
      for (const m of messages) if (asked.has(m.roomId)) this.io.local.to(`room:${m.roomId}`).emit("message:new", m);
      this.opts.log.info({ rooms: rooms.length, messages: messages.length }, "redis subscription restored; replayed messages");
    } catch (err) {
      this.opts.log.error({ error: (err as Error).message }, "replay after redis recovery failed");
    }
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stops accepting (readiness fails, handshakes are refused), closes every client's transport so
   * socket.io-client reconnects (the load balancer picks another target), spreading the disconnects over
   * part of the grace period, keeps refusing for a short while, then closes the servers. Resolves within
   * `graceMs`.
   */
  async drain(graceMs = this.opts.settings.shutdownGraceMs): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const started = Date.now();
    this.opts.log.info({ connections: this.limiter.size, graceMs }, "draining");
    const sockets = this.localSockets();
    const spreadMs = Math.min(5000, graceMs / 4);
    const batches = Math.max(1, Math.min(10, Math.ceil(sockets.length / 100)));
    const perBatch = Math.ceil(sockets.length / batches);
    for (let b = 0; b < batches; b++) {
      // Closing the transport (not `disconnect()`, which tells socket.io-client not to come back) makes the
      // client reconnect on its own; the load balancer no longer routes new connections to a draining task.
      for (const s of sockets.slice(b * perBatch, (b + 1) * perBatch)) s.conn.close();
      if (b < batches - 1) await sleep(spreadMs / batches);
    }
    // Keep answering for a moment: readiness says "draining" and late handshakes get `server_draining`
    // instead of a refused TCP connection, while the load balancer finishes taking this task out.
    await sleep(Math.min(1000, graceMs / 4));
    const left = Math.max(100, graceMs - (Date.now() - started) - 500);
    await withTimeout(this.close(), left, "close timed out").catch((err: Error) => this.opts.log.warn({ error: err.message }, "shutdown incomplete"));
  }

  /** Stops timers, closes Socket.IO and the HTTP server. Redis and DB clients belong to the caller. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.metrics.close();
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
      this.http.closeAllConnections?.();
    });
  }
}

/** Commands the adapter sends without handling the returned promise. */
const FIRE_AND_FORGET = new Set(["publish", "psubscribe", "punsubscribe", "subscribe", "unsubscribe"]);

/**
 * The adapter publishes (and unsubscribes on close) without handling the returned promise; while Redis is
 * down, or once the client is closed, that promise rejects and an unhandled rejection would end the process.
 * The adapter gets a view of each client whose fire-and-forget commands report failures instead (broadcasts
 * lost this way are replayed from Postgres once the subscription is back).
 */
function guardFireAndForget(client: Redis, onError: (err: Error) => void): Redis {
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (typeof prop !== "string" || !FIRE_AND_FORGET.has(prop)) return fn;
      return (...args: unknown[]) => {
        const r = fn(...args);
        return r instanceof Promise
          ? r.catch((err: Error) => {
              onError(err);
              return 0;
            })
          : r;
      };
    },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
