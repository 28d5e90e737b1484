/**
 * Baseline for `npm run bench:realtime`: a bare `ws` server that sends every text frame it receives to every
 * connected client (including the sender). No auth, no persistence, no Redis: the cost floor of fan-out on
 * this machine. Prints `{"port":N}` on stdout once listening; exits on SIGTERM.
 */
import { WebSocketServer, WebSocket } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });
});
wss.on("listening", () => {
  const { port } = wss.address() as { port: number };
  process.stdout.write(JSON.stringify({ port }) + "\n");
});
process.on("SIGTERM", () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
});
