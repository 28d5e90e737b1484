/**
 * Attacks on the realtime service, each against real Redis and PostgreSQL: a store that answers a send with
 * another room's row, a flood of bare Engine.IO handshakes from one address, a socket kept open past its
 * token's expiry, and one user spreading sends over several sockets and the api.
 */
import { randomUUID } from "node:crypto";
import { ChatStore, TokenService, createLogger } from "@chat/shared";
import { startRealtime, type RunningRealtime } from "../src/app";
import { loadRealtimeSettings } from "../src/settings";
import { fixture, client, connected, send, type Fixture, type Client } from "./helpers";
import { freePort } from "../../../test/support/redis";
import { buildServices } from "../../api/src/services";
import { buildApp } from "../../api/src/app";
import { DEFAULT_SETTINGS } from "../../api/src/config";

let f: Fixture;
const running: RunningRealtime[] = [];
const open: Client[] = [];

beforeAll(async () => {
  f = await fixture();
});

afterAll(async () => {
  for (const c of open) c.close();
  for (const rt of running) await rt.stop(500);
  await f?.close();
});

async function start(env: Record<string, string>, opts: Partial<Parameters<typeof startRealtime>[0]> = {}): Promise<{ rt: RunningRealtime; url: string }> {
  const rt = await startRealtime({ env: f.env(await freePort(), env), host: "127.0.0.1", writeMetric: () => undefined, ...opts });
  running.push(rt);
  return { rt, url: `http://127.0.0.1:${rt.port}` };
}

async function user(url: string, userId: string, opts: Parameters<typeof connected>[2] = {}, token?: string): Promise<Client> {
  const c = await connected(url, token ?? (await f.token(userId)), opts);
  open.push(c);
  return c;
}

test("a store that answers message:send with another room's row: the socket is not moved there and hears nothing from it", async () => {
  const mine = await f.seed(1);
  const theirs = await f.seed(2);
  const [attackerId] = mine.userIds;
  const [victimId] = theirs.userIds;
  // A real row of the other room, as a pool that mixes up sessions would hand back.
  const store = new ChatStore(f.pool);
  const foreign = (await store.postMessage({ userId: victimId, roomId: theirs.roomId, body: "private", clientMsgId: "theirs-1" })).message;
  let lie = true;
  const { rt, url } = await start({ LOG_LEVEL: "silent" }, {
    wrapDeps: (deps) => ({
      ...deps,
      postMessage: async (input) => {
        const real = await deps.postMessage(input);
        return lie && input.userId === attackerId ? { message: foreign, created: true } : real;
      },
    }),
  });
  const attacker = await user(url, attackerId);
  const victim = await user(url, victimId);

  const ack = await send(attacker, { roomId: mine.roomId, body: "hello", clientMsgId: "mine-1" });
  expect(ack).toMatchObject({ ok: false, error: { code: "internal_error" } });
  expect(ack.message).toBeUndefined();
  const attackerSocketId = [...rt.server.io.of("/").sockets.values()].find((s) => s.data.principal?.userId === attackerId)!.id;
  expect(rt.server.io.of("/").adapter.rooms.get(`room:${theirs.roomId}`)?.has(attackerSocketId)).toBe(false);

  // The other room keeps talking; the victim hears it (the message went out), the attacker does not.
  const said = await send(victim, { roomId: theirs.roomId, body: "still private", clientMsgId: "theirs-2" });
  expect(said.ok).toBe(true);
  await victim.next("message:new", (m) => m.id === said.message!.id);
  // A message of the attacker's own room, sent after, is the signal that everything before it has arrived.
  lie = false;
  const own = await send(attacker, { roomId: mine.roomId, body: "own room", clientMsgId: "mine-2" });
  expect(own.ok).toBe(true);
  await attacker.next("message:new", (m) => m.id === own.message!.id);
  expect(attacker.of("message:new").filter((m) => m.roomId === theirs.roomId)).toEqual([]);
  // Nor was the stolen row broadcast to its own room.
  expect(victim.of("message:new").map((m) => m.id)).not.toContain(foreign.id);
});

test("a flood of bare polling handshakes from one address is capped per IP with a readable reason; another address still connects; idle sessions are closed", async () => {
  const { rt, url } = await start({
    TRUST_PROXY_HOPS: "1",
    MAX_CONNECTIONS_PER_IP: "2",
    MAX_SESSIONS_PER_IP: "4",
    // Long enough for the whole flood to land while its first sessions are still open.
    CONNECT_TIMEOUT_MS: "3000",
    // Pings far apart: only the connect timeout can close the idle sessions here.
    PING_INTERVAL_MS: "25000",
    PING_TIMEOUT_MS: "20000",
  });
  const from = (ip: string) => ({ "x-forwarded-for": ip });
  const flood = await Promise.all(
    Array.from({ length: 30 }, async () => {
      const r = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: from("203.0.113.9") });
      return { status: r.status, body: await r.text() };
    }),
  );
  expect(flood.filter((r) => r.status === 200)).toHaveLength(4);
  const refusedAnswers = flood.filter((r) => r.status === 403);
  expect(refusedAnswers).toHaveLength(26);
  for (const r of refusedAnswers) {
    expect(JSON.parse(r.body).message).toMatch(/^too_many_sessions_from_ip: too many open sessions from your address \(limit 4\)/);
  }

  // socket.io-client (Node) at the flooded address sees the 403 in its connect_error (its Node XHR does not
  // keep an error body; a browser's XHR, or any HTTP client, reads the reason above from it).
  const { userIds: flooded } = await f.seed(1);
  const late = client(url, await f.token(flooded[0]), { transports: ["polling"], extraHeaders: from("203.0.113.9") });
  open.push(late);
  const lateError = await late.next("connect_error");
  expect(lateError.description).toBe(403);
  expect(lateError.message).toBe("xhr poll error");

  // A valid user behind another address connects while the flood's sessions are still open.
  const { userIds } = await f.seed(1);
  expect(rt.server.sessionsFrom("203.0.113.9")).toBe(4);
  const valid = await user(url, userIds[0], { extraHeaders: from("203.0.113.10") });
  expect(valid.socket.connected).toBe(true);
  expect(rt.server.metrics.rejectionTotals().too_many_sessions_from_ip).toBe(27);

  // Sessions that never connect the namespace are closed after CONNECT_TIMEOUT_MS, and the address may
  // open sessions again.
  const deadline = Date.now() + 10_000;
  while (rt.server.sessionsFrom("203.0.113.9") > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(rt.server.sessionsFrom("203.0.113.9")).toBe(0);
  const again = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: from("203.0.113.9") });
  expect(again.status).toBe(200);
  await again.text();
  expect(rt.server.sessionsFrom("203.0.113.10")).toBe(1);
});

test("a socket is disconnected when its access token expires, unless auth:refresh brought a newer token of the same session", async () => {
  const { url } = await start({});
  const { userIds } = await f.seed(2);
  const tokensFor = (ttl: number) => new TokenService({ keys: f.keys, redis: f.kv, accessTtlSeconds: ttl });
  const session = randomUUID();
  // The kept socket's token expires first (2-3 s); it refreshes right away. The other one (3-4 s) is left to expire.
  const kept = await user(url, userIds[0], {}, (await tokensFor(3).sign(userIds[0], session)).token);
  const expiring = await user(url, userIds[1], {}, (await tokensFor(4).sign(userIds[1], randomUUID())).token);
  const refresh = (c: Client, token: unknown) => c.socket.timeout(5000).emitWithAck("auth:refresh", { token });
  const fresh = await tokensFor(60).sign(userIds[0], session);
  expect(await refresh(kept, fresh.token)).toEqual({ ok: true, expiresAt: fresh.expiresAt });

  // Refusals leave the current token in force: another user's token, another session's, garbage.
  expect(await refresh(kept, (await tokensFor(60).sign(userIds[1], session)).token)).toMatchObject({ ok: false, error: { code: "auth_failed", message: expect.stringMatching(/same user and session/) } });
  expect(await refresh(kept, (await tokensFor(60).sign(userIds[0], randomUUID())).token)).toMatchObject({ ok: false, error: { code: "auth_failed" } });
  expect(await refresh(kept, "not-a-token")).toMatchObject({ ok: false, error: { code: "auth_failed" } });
  expect(await refresh(kept, 42)).toMatchObject({ ok: false, error: { code: "invalid_event" } });

  const err = await expiring.next("error", (e) => e.code === "token_expired", 10_000);
  expect(err.message).toMatch(/access token expired/);
  expect(await expiring.next("disconnect", undefined, 5000)).toBe("io server disconnect");
  // The refreshed socket outlived both its first token and the other socket's.
  expect(kept.socket.connected).toBe(true);
  expect(await refresh(kept, fresh.token)).toMatchObject({ ok: true });
});

test("one user's sends share one budget across five sockets and the api", async () => {
  const limit = { max: 10, windowSeconds: 60 };
  const { url } = await start({ SEND_LIMIT_MAX: String(limit.max), SEND_LIMIT_WINDOW_S: String(limit.windowSeconds) });
  const { userIds, roomId } = await f.seed(1);
  const token = await f.token(userIds[0]);
  // The api on the same Redis and database, with the same budget.
  const api = await buildApp(
    buildServices({
      pool: f.pool,
      redis: f.kv,
      keys: f.keys,
      settings: { ...DEFAULT_SETTINGS, trustProxyHops: 0, sendLimit: limit },
      logger: createLogger({ service: "api", level: "silent" }),
    }),
  );
  try {
    const post = (n: number) =>
      api.inject({ method: "POST", url: `/api/rooms/${roomId}/messages`, headers: { authorization: `Bearer ${token}` }, payload: { body: `rest ${n}`, clientMsgId: `rest-${n}` } });
    const rest = [await post(1), await post(2), await post(3)];
    expect(rest.map((r) => r.statusCode)).toEqual([201, 201, 201]);

    const sockets = await Promise.all(Array.from({ length: 5 }, () => user(url, userIds[0], {}, token)));
    const acks = await Promise.all(sockets.flatMap((c, i) => Array.from({ length: 4 }, (_, j) => send(c, { roomId, body: `socket ${i}.${j}`, clientMsgId: `s-${i}-${j}` }))));
    const accepted = acks.filter((a) => a.ok);
    const limited = acks.filter((a) => !a.ok);
    expect(accepted).toHaveLength(limit.max - rest.length);
    expect(limited).toHaveLength(20 - (limit.max - rest.length));
    for (const a of limited) expect(a.error).toMatchObject({ code: "send_rate_limited", message: expect.stringMatching(/more than 10 messages in 60 s from this account/) });

    // The api refuses too, with Retry-After: the budget was spent over sockets.
    const over = await post(4);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: { code: "send_rate_limited" } });
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    const { rows } = await f.pool.query("SELECT count(*)::int AS n FROM messages WHERE room_id = $1", [roomId]);
    expect(rows[0].n).toBe(limit.max);
  } finally {
    await api.close();
  }
});

test("settings: the new limits are read, defaulted and checked", () => {
  const d = loadRealtimeSettings({});
  expect(d).toMatchObject({ maxSessionsPerIp: 60, connectTimeoutMs: 5000, sendLimit: { max: 120, windowSeconds: 60 } });
  expect(loadRealtimeSettings({ MAX_CONNECTIONS_PER_IP: "20" }).maxSessionsPerIp).toBe(30);
  expect(() => loadRealtimeSettings({ MAX_CONNECTIONS_PER_IP: "20", MAX_SESSIONS_PER_IP: "5" })).toThrow(
    /^MAX_SESSIONS_PER_IP \(5\) must be at least MAX_CONNECTIONS_PER_IP \(20\): every connection holds a session$/,
  );
  expect(() => loadRealtimeSettings({ SEND_LIMIT_MAX: "0" })).toThrow(/^SEND_LIMIT_MAX must be a whole number >= 1 \(got "0"\)/);
  expect(() => loadRealtimeSettings({ CONNECT_TIMEOUT_MS: "50" })).toThrow(/^CONNECT_TIMEOUT_MS must be a whole number >= 100/);
});
