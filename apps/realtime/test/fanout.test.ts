/**
 * Fan-out scheduling: messages whose commits come back in separate callbacks of one event-loop turn are
 * broadcast together, so each client's transport takes the later ones as one write (bench/results/realtime.md
 * shows what one write per client per message costs). Order and acknowledgement-after-broadcast are kept.
 */
import { startRealtime, type RunningRealtime } from "../src/app";
import { fixture, connected, send, sleep, type Fixture, type Client } from "./helpers";
import { freePort } from "../../../test/support/redis";

let f: Fixture;
let rt: RunningRealtime;
let url: string;
let userIds: string[];
let roomId: string;
const open: Client[] = [];
/** Commits held back until the test releases them. */
const held = new Map<string, () => void>();

beforeAll(async () => {
  f = await fixture();
  ({ userIds, roomId } = await f.seed(2));
  const port = await freePort();
  rt = await startRealtime({
    env: f.env(port, { LOG_LEVEL: "silent" }),
    host: "127.0.0.1",
    writeMetric: () => undefined,
    wrapDeps: (deps) => ({
      ...deps,
      postMessage: async (input) => {
        const committed = await deps.postMessage(input);
        await new Promise<void>((release) => held.set(input.body, release));
        return committed;
      },
    }),
  });
  url = `http://127.0.0.1:${rt.port}`;
});

afterAll(async () => {
  for (const c of open) c.close();
  await rt?.stop(1000);
  await f?.close();
});

test("commits that come back in one turn are broadcast together, in commit order, each acknowledged after its broadcast", async () => {
  const sender = await connected(url, await f.token(userIds[0]));
  const reader = await connected(url, await f.token(userIds[1]));
  open.push(sender, reader);
  const readerSid = ([...rt.server.io.of("/").sockets.values()].find((s) => s.data.principal.userId === userIds[1])!.conn as unknown as { id: string }).id;
  // Packets of message:new handed to the reader's transport per write (Engine.IO "flush").
  const writes: number[] = [];
  rt.server.io.engine.on("flush", (socket: { id: string }, buffer: Array<{ type: string; data?: unknown }>) => {
    if (socket.id !== readerSid) return;
    const n = buffer.filter((p) => p.type === "message" && String(p.data).includes('"message:new"')).length;
    if (n > 0) writes.push(n);
  });

  const bodies = (c: Client) => c.of("message:new").map((m: { body: string }) => m.body);
  // Each acknowledgement, with the messages the sender had received when it arrived.
  const acks = [0, 1, 2].map((i) => send(sender, { roomId, body: `m${i}`, clientMsgId: `fan-${i}` }).then((ack) => ({ ack, before: bodies(sender) })));
  for (let i = 0; i < 100 && held.size < 3; i++) await sleep(20);
  expect(held.size).toBe(3);
  // Three commits returning in three separate callbacks of one check phase, in this order: immediates queued
  // together run together, with the transport's write callbacks (nextTicks) run between them. (Three timers
  // are not certain to share a turn: Node runs a timer created a millisecond later in the next one.)
  const order = [2, 0, 1];
  for (const i of order) setImmediate(held.get(`m${i}`)!);
  const answered = await Promise.all(acks);
  expect(answered.map((a) => a.ack.ok)).toEqual([true, true, true]);
  // Every acknowledgement reached the sender after its own broadcast did.
  answered.forEach(({ before }, i) => expect(before).toContain(`m${i}`));
  for (let i = 0; i < 100 && bodies(reader).length < 3; i++) await sleep(20);
  expect(bodies(reader)).toEqual(order.map((i) => `m${i}`));
  // The first goes out at once, the two behind it share the transport's next write.
  expect(writes).toEqual([1, 2]);
  expect(bodies(sender)).toEqual(order.map((i) => `m${i}`));
});
