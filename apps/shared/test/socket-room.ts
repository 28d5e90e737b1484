/**
 * Test helper: a tiny Socket.IO server on the Redis adapter (what the realtime service runs) and a real
 * socket.io-client joined to chosen rooms, to prove that something published through the Redis emitter
 * reaches a connected client.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { io as connect, type Socket } from "socket.io-client";
import { createRedis, closeRedis } from "../src/redis";

export interface SocketRoom {
  /** Events received by the client, in order. */
  events: { event: string; args: unknown[] }[];
  client: Socket;
  /** Resolves with the first received event matching `event` (rejects after `timeoutMs`). */
  next(event: string, timeoutMs?: number): Promise<unknown[]>;
  close(): Promise<void>;
}

export async function socketRoom(redisUrl: string, rooms: string[]): Promise<SocketRoom> {
  const pub = createRedis({ kind: "url", url: redisUrl });
  const sub = pub.duplicate();
  sub.on("error", () => undefined);
  const http = createServer();
  const io = new Server(http, { adapter: createAdapter(pub, sub) });
  io.on("connection", (s) => {
    void s.join(rooms);
    s.emit("joined");
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const { port } = http.address() as AddressInfo;
  const events: SocketRoom["events"] = [];
  const client = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false });
  client.onAny((event: string, ...args: unknown[]) => events.push({ event, args }));
  await new Promise<void>((resolve, reject) => {
    client.once("joined", () => resolve());
    client.once("connect_error", reject);
  });
  // The adapter subscribes asynchronously: a pattern subscription for broadcasts, then channels of its own,
  // in that order on one connection. Once Redis lists a subscriber on this adapter's own response channel
  // (named after its uid), the broadcast pattern is in place too.
  const own = `socket.io-response#/#${(io.of("/").adapter as unknown as { uid: string }).uid}#`;
  for (let i = 0; ; i++) {
    const n = (await pub.pubsub("NUMSUB", own)) as [string, number];
    if (Number(n[1]) > 0) break;
    if (i === 500) throw new Error(`the Socket.IO adapter never subscribed to ${own} in Redis`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    events,
    client,
    async next(event, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find((e) => e.event === event);
        if (hit) return hit.args;
        if (Date.now() > deadline) throw new Error(`no "${event}" event within ${timeoutMs} ms (got ${events.map((e) => e.event).join(", ") || "nothing"})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      client.disconnect();
      await new Promise<void>((r) => io.close(() => r()));
      await closeRedis(sub);
      await closeRedis(pub);
    },
  };
}

/**
 * Whether a broadcast to `room` reaches the client, decided by a positive signal instead of a wait: a probe
 * goes to `room`, then a marker to `markerRoom` (a room the client is known to be in), both through
 * `emitter`. One emitter publishes in order on one Redis connection and the adapter applies what it receives
 * in order, so once the marker has arrived the probe has arrived too, or it never will. Anything the same
 * emitter published before (a membership move of the api, say) has been applied as well.
 */
export async function reaches(socket: SocketRoom, emitter: { to(room: string): { emit(event: string, ...args: unknown[]): unknown } }, room: string, markerRoom: string): Promise<boolean> {
  const id = `${Date.now()}-${Math.random()}`;
  emitter.to(room).emit("probe", id);
  emitter.to(markerRoom).emit("probe-marker", id);
  const seen = (event: string) => socket.events.some((e) => e.event === event && e.args[0] === id);
  const deadline = Date.now() + 5000;
  while (!seen("probe-marker")) {
    if (Date.now() > deadline) throw new Error(`the marker sent to ${markerRoom} after the probe never arrived: is the client in ${markerRoom}?`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return seen("probe");
}
