/**
 * Framework floor for `npm run bench:realtime`: the least a Socket.IO server on the Redis adapter can do for
 * the same traffic. Same socket.io and @socket.io/redis-adapter packages as the realtime service, started
 * twice on one Redis like the service; no auth, no database, no limits, no metrics. Every socket joins one
 * room; `message:send` is broadcast to that room (through the adapter, so the other process delivers too) as
 * a message object of the service's shape, then acknowledged, as the service does after its commit.
 *
 * Env: REDIS_URL (required), PORT (0 picks one). Prints `{"port":N}` on stdout once listening; exits on
 * SIGTERM.
 */
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import Redis from "ioredis";

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  process.stderr.write("sio-floor: set REDIS_URL to the benchmark's Redis (redis://127.0.0.1:PORT)\n");
  process.exit(2);
}
const pub = new Redis(redisUrl, { enableAutoPipelining: true });
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub), transports: ["polling", "websocket"], serveClient: false });
const ROOM = "room:bench";

io.on("connection", (socket) => {
  void socket.join(ROOM);
  socket.on("message:send", (p: { roomId?: string; body?: string; clientMsgId?: string }, ack?: (r: unknown) => void) => {
    const message = {
      id: randomUUID(),
      roomId: String(p?.roomId ?? ""),
      authorId: socket.id,
      body: String(p?.body ?? ""),
      clientMsgId: String(p?.clientMsgId ?? ""),
      createdAt: new Date().toISOString(),
      editedAt: null,
      deletedAt: null,
    };
    io.to(ROOM).emit("message:new", message);
    if (typeof ack === "function") ack({ ok: true, message });
  });
});

http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = http.address() as { port: number };
  process.stdout.write(JSON.stringify({ port }) + "\n");
});
process.on("SIGTERM", () => {
  io.close(() => {
    pub.disconnect();
    sub.disconnect();
    process.exit(0);
  });
});
