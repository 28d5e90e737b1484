/**
 * Load-generator worker for `npm run bench:realtime`, forked by bench/realtime.ts so clients never share an
 * event loop with the servers. It holds a slice of the connections (Socket.IO clients of the realtime
 * service, or raw `ws` clients of the baseline) and answers commands from the parent over IPC:
 *
 *   connect -> opens every client (in small concurrent batches) and reports how many connected
 *   send    -> the worker's first client sends `count` messages keeping at most `window` of them unechoed
 *   rate    -> for `seconds`, the worker's clients take turns sending `perSecond` messages a second in all
 *              (each to its own room), as the capacity model's traffic does; reports sent and acknowledged
 *   stats   -> delivery count, latency histogram (0.1 ms buckets) and first/last delivery time
 *   close   -> closes every client and exits
 *
 * Each message body carries its send time (performance.timeOrigin + performance.now(), comparable across
 * processes on one machine); a receiving client records now - sendTime.
 */
import { performance } from "node:perf_hooks";
import { io as ioClient, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../apps/shared/src/socket-events";

/** A client bound to the realtime contract (apps/shared/src/socket-events.ts). */
type ChatClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
import WebSocket from "ws";

export interface WorkerInit {
  mode: "sio" | "ws";
  /** Base URLs; client i connects to urls[i % urls.length]. */
  urls: string[];
  /** One access token per client (sio mode). */
  tokens: string[];
  roomId: string;
  /** Per-client room (rooms of `--fanout` members in the model-rate mode); `roomId` for every client if absent. */
  roomIds?: string[];
  bodyBytes: number;
  runId: string;
}

type Cmd =
  | { cmd: "init"; init: WorkerInit }
  | { cmd: "connect" }
  | { cmd: "send"; count: number; window: number; timeoutMs: number }
  | { cmd: "rate"; perSecond: number; seconds: number }
  | { cmd: "stats" }
  | { cmd: "reset"; phase: number }
  | { cmd: "close" };

const BUCKET_MS = 0.1;
const MAX_MS = 30_000;
let hist = new Uint32Array(MAX_MS / BUCKET_MS + 1);
let received = 0;
let firstAt = 0;
let lastAt = 0;
let init: WorkerInit;
const sio: ChatClientSocket[] = [];
const raw: WebSocket[] = [];
let echoed = 0;
/** Sequence numbers continue across sends, so that every clientMsgId of a run is new. */
let seqBase = 0;

const now = () => performance.timeOrigin + performance.now();

function record(sentAt: number, isSender: boolean): void {
  const t = now();
  const ms = Math.max(0, t - sentAt);
  hist[Math.min(hist.length - 1, Math.round(ms / BUCKET_MS))]++;
  received++;
  if (!firstAt) firstAt = t;
  lastAt = t;
  if (isSender) {
    echoed++;
    wake?.();
  }
}

/** Resolves the sender's wait when its own message comes back (instead of spinning on setImmediate). */
let wake: (() => void) | undefined;
function echoOrTimeout(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      wake = undefined;
      resolve();
    }
    wake = done;
  });
}

/**
 * The phase messages are sent in (0 = warm-up, then 1 after `reset`): a delivery of an earlier phase that
 * arrives late is counted apart (`stale`), never in the current phase's figures.
 */
let phase = 0;
let stale = 0;

function bodyOf(seq: number): string {
  const head = JSON.stringify({ t: now(), seq, ph: phase });
  return head + " ".repeat(Math.max(0, init.bodyBytes - head.length));
}

function parseBody(text: string): { t: number; ph: number } {
  const end = text.indexOf("}");
  return JSON.parse(text.slice(0, end + 1)) as { t: number; ph: number };
}

function onDelivery(text: string, isSender: boolean): void {
  const { t, ph } = parseBody(text);
  if (ph !== phase) {
    stale++;
    return;
  }
  record(t, isSender);
}

function openSio(i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s: ChatClientSocket = ioClient(init.urls[i % init.urls.length], {
      transports: ["websocket"],
      auth: { token: init.tokens[i] },
      reconnection: false,
      timeout: 20_000,
    });
    s.on("message:new", (m) => onDelivery(m.body, i === 0));
    s.once("connect", () => resolve(true));
    s.once("connect_error", (err) => {
      if (i < 3) process.stderr.write(`client ${i}: ${err.message}\n`);
      resolve(false);
    });
    sio[i] = s;
  });
}

function openWs(i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(init.urls[i % init.urls.length], { perMessageDeflate: false });
    ws.on("message", (data) => onDelivery(data.toString(), i === 0));
    ws.once("open", () => resolve(true));
    ws.once("error", () => resolve(false));
    raw[i] = ws;
  });
}

async function connectAll(): Promise<{ connected: number; failed: number }> {
  let connected = 0;
  let failed = 0;
  const n = init.tokens.length;
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); j++) batch.push(init.mode === "sio" ? openSio(j) : openWs(j));
    for (const ok of await Promise.all(batch)) ok ? connected++ : failed++;
  }
  return { connected, failed };
}

async function sendAll(count: number, window: number, timeoutMs: number): Promise<{ sent: number; acked: number; echoed: number; elapsedMs: number }> {
  echoed = 0;
  let sent = 0;
  let acked = 0;
  const started = now();
  const deadline = started + timeoutMs;
  while ((sent < count || echoed < sent) && now() < deadline) {
    if (sent < count && sent - echoed < window) {
      const seq = seqBase + sent++;
      if (init.mode === "sio") {
        sio[0].emit("message:send", { roomId: init.roomId, body: bodyOf(seq), clientMsgId: `${init.runId}-${seq}` }, (r) => {
          if (r?.ok) acked++;
        });
      } else {
        raw[0].send(bodyOf(seq));
        acked++;
      }
      continue;
    }
    await echoOrTimeout(50);
  }
  seqBase += sent;
  const elapsedMs = now() - started;
  // The ack follows the broadcast (the server queues the offline members' jobs in between), so the last
  // echoes can arrive before their acks: wait for those, outside the timed part.
  while (init.mode === "sio" && acked < sent && now() < deadline) await echoOrTimeout(10);
  return { sent, acked, echoed, elapsedMs };
}

/**
 * Sends at a steady rate from all clients in turn, without waiting for echoes (each client sends about
 * perSecond / clients messages a second, far below its own budget). Waits for the outstanding acks after.
 */
async function sendAtRate(perSecond: number, seconds: number): Promise<{ sent: number; acked: number; failed: number }> {
  let sent = 0;
  let acked = 0;
  let failed = 0;
  const n = init.tokens.length;
  const started = now();
  const end = started + seconds * 1000;
  let next = 0;
  while (now() < end) {
    const due = Math.floor(((now() - started) / 1000) * perSecond);
    while (sent < due) {
      const i = next;
      next = (next + 1) % n;
      const seq = seqBase + sent++;
      const s = sio[i];
      if (!s?.connected) {
        failed++;
        continue;
      }
      s.emit("message:send", { roomId: init.roomIds?.[i] ?? init.roomId, body: bodyOf(seq), clientMsgId: `${init.runId}-r${seq}` }, (r: { ok: boolean }) => {
        if (r?.ok) acked++;
        else failed++;
      });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  seqBase += sent;
  const deadline = now() + 10_000;
  while (acked + failed < sent && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { sent, acked, failed };
}

function stats() {
  const buckets: Array<[number, number]> = [];
  hist.forEach((c, i) => {
    if (c) buckets.push([i, c]);
  });
  return { received, stale, firstAt, lastAt, buckets, bucketMs: BUCKET_MS };
}

process.on("message", (m: Cmd) => {
  const reply = (data: unknown) => process.send?.({ cmd: m.cmd, ...((data as object) ?? {}) });
  void (async () => {
    switch (m.cmd) {
      case "init":
        init = m.init;
        return reply({});
      case "connect":
        return reply(await connectAll());
      case "send":
        return reply(await sendAll(m.count, m.window, m.timeoutMs));
      case "rate":
        return reply(await sendAtRate(m.perSecond, m.seconds));
      case "stats":
        return reply(stats());
      case "reset":
        phase = m.phase;
        stale = 0;
        hist = new Uint32Array(MAX_MS / BUCKET_MS + 1);
        received = 0;
        firstAt = 0;
        lastAt = 0;
        return reply({});
      case "close":
        for (const s of sio) s?.close();
        for (const w of raw) w?.terminate();
        reply({});
        setTimeout(() => process.exit(0), 50);
    }
  })();
});
