import assert from "node:assert/strict";
import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { createEmitter } from "../src/emitter";
import { createMigratedTestDatabase } from "../../../test/support/postgres";
import { startRedis, type TestRedis } from "../../../test/support/redis";
import { startSqs, type TestSqs } from "../../../test/support/sqs";
import { createPool, type Pool } from "../src/db";
import { createRedis, closeRedis, type Redis } from "../src/redis";
import { ChatStore, Delivery } from "../src/chat";
import { Presence } from "../src/presence";
import { JobProducer, parseJob } from "../src/jobs";
import { socketRoom, reaches } from "./socket-room";

let pool: Pool;
let server: TestRedis;
let redis: Redis;
let sqs: TestSqs;

beforeAll(async () => {
  pool = createPool({ kind: "url", url: await createMigratedTestDatabase("shared_delivery"), poolMax: 4 });
  server = await startRedis();
  redis = createRedis({ kind: "url", url: server.url });
  sqs = await startSqs();
});
afterAll(async () => {
  await pool.end();
  await closeRedis(redis);
  await server.stop();
  await sqs.stop();
});

async function user(name: string): Promise<string> {
  const { rows } = await pool.query("INSERT INTO users (username, display_name, password_hash) VALUES ($1, $1, 'x') RETURNING id", [name]);
  return rows[0].id;
}

async function drain(queueUrl: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    for (const m of r.Messages ?? []) {
      const p = parseJob(m.Body);
      assert.ok(p.ok, "queued job parses");
      if (p.ok) out.push(p.job.userId);
    }
  }
  return out.sort();
}

test("a persisted message reaches a socket in its room through Redis; offline members get push and offline jobs", async () => {
  const store = new ChatStore(pool);
  const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
  const room = await store.createRoom(alice, "general");
  await store.joinRoom(bob, room.id);
  await store.joinRoom(carol, room.id);
  const presence = new Presence(redis);
  await presence.markOnline([bob]);
  const push = (await sqs.client.send(new CreateQueueCommand({ QueueName: "d-push" }))).QueueUrl!;
  const offline = (await sqs.client.send(new CreateQueueCommand({ QueueName: "d-offline" }))).QueueUrl!;
  const delivery = new Delivery({ store, emitter: createEmitter(redis), presence, producer: new JobProducer(sqs.client), pushQueueUrl: push, offlineQueueUrl: offline });

  const inRoom = await socketRoom(server.url, [`room:${room.id}`]);
  const elsewhere = await socketRoom(server.url, ["room:other"]);
  try {
    const { message, created } = await store.postMessage({ userId: alice, roomId: room.id, body: "hello", clientMsgId: "m1" });
    assert.equal(created, true);
    const queued = await delivery.deliver(message);
    assert.deepEqual(queued, [carol], "only the offline member other than the author");
    const [payload] = await inRoom.next("message:new");
    assert.deepEqual(payload, message);
    // A marker published to the other room AFTER the message travels the same Redis channel: once it has
    // arrived, the message would have arrived before it had it been sent there.
    createEmitter(redis).to("room:other").emit("marker", { after: message.id });
    await elsewhere.next("marker");
    assert.deepEqual(elsewhere.events.map((e) => e.event).filter((e) => e !== "joined"), ["marker"], "other rooms hear nothing");
    assert.deepEqual(await drain(push), [carol]);
    assert.deepEqual(await drain(offline), [carol]);

    // A retried post returns the same row; the caller only delivers created rows.
    const again = await store.postMessage({ userId: alice, roomId: room.id, body: "hello", clientMsgId: "m1" });
    assert.deepEqual([again.created, again.message.id], [false, message.id]);

    delivery.broadcast("message:updated", { ...message, body: "edited" });
    const [updated] = await inRoom.next("message:updated");
    assert.equal((updated as { body: string }).body, "edited");
  } finally {
    await inRoom.close();
    await elsewhere.close();
  }
});

test("without a push queue (no push gateway) offline members still get offline digest jobs", async () => {
  const store = new ChatStore(pool);
  const [dave, erin] = [await user("dave"), await user("erin")];
  const room = await store.createRoom(dave, "no-push");
  await store.joinRoom(erin, room.id);
  const offline = (await sqs.client.send(new CreateQueueCommand({ QueueName: "d-offline-only" }))).QueueUrl!;
  const delivery = new Delivery({ store, emitter: createEmitter(redis), presence: new Presence(redis), producer: new JobProducer(sqs.client), offlineQueueUrl: offline });
  const { message } = await store.postMessage({ userId: dave, roomId: room.id, body: "hi", clientMsgId: "np1" });
  assert.deepEqual(await delivery.deliver(message), [erin]);
  const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: offline, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  const jobs = (r.Messages ?? []).map((m) => parseJob(m.Body));
  assert.deepEqual(jobs.map((p) => (p.ok ? [p.job.type, p.job.userId] : p)), [["offline", erin]]);
});

test("without a producer or queue URLs delivery only broadcasts", async () => {
  const store = new ChatStore(pool);
  const [fay, gus] = [await user("fay"), await user("gus")];
  const room = await store.createRoom(fay, "broadcast-only");
  await store.joinRoom(gus, room.id); // gus is offline: with a producer he would get jobs
  const inRoom = await socketRoom(server.url, [`room:${room.id}`]);
  try {
    const cases = [
      ["no producer", new Delivery({ store, emitter: createEmitter(redis), presence: new Presence(redis), pushQueueUrl: "http://unused/push", offlineQueueUrl: "http://unused/offline" })],
      ["no queue URLs", new Delivery({ store, emitter: createEmitter(redis), presence: new Presence(redis), producer: new JobProducer(sqs.client) })],
    ] as const;
    for (const [what, d] of cases) {
      const { message } = await store.postMessage({ userId: fay, roomId: room.id, body: what, clientMsgId: what.replace(/ /g, "-") });
      assert.deepEqual(await d.deliver(message), [], `${what}: no jobs queued`);
      // The broadcast itself is observed: the socket in the room receives this message.
      for (let i = 0; i < 300 && !inRoom.events.some((e) => e.event === "message:new" && (e.args[0] as { id: string }).id === message.id); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(inRoom.events.some((e) => e.event === "message:new" && (e.args[0] as { id: string }).id === message.id), `${what}: broadcast to the room`);
    }
  } finally {
    await inRoom.close();
  }
});

test("a publish that fails while Redis is unreachable is reported, never an unhandled rejection", async () => {
  const dead = createRedis({ kind: "url", url: "redis://127.0.0.1:1" }, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  const errors: Error[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    createEmitter(dead, (e) => errors.push(e)).to("room:x").emit("message:new", { id: "1" });
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(errors.length, 1);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    dead.disconnect();
  }
});

test("a membership change moves every open socket of the user into or out of the room's broadcasts", async () => {
  const store = new ChatStore(pool);
  const hal = await user("hal");
  const room = await store.createRoom(hal, "moves");
  const emitter = createEmitter(redis);
  const delivery = new Delivery({ store, emitter, presence: new Presence(redis) });
  const [mine, another] = [await socketRoom(server.url, [`user:${hal}`]), await socketRoom(server.url, ["user:someone-else"])];
  try {
    const hears = (s: typeof mine, marker: string) => reaches(s, emitter, `room:${room.id}`, marker);
    expect(await hears(mine, `user:${hal}`)).toBe(false);
    // Clients may send the room id in upper case: the socket joins the one lower-case room broadcasts use.
    delivery.membershipChanged(hal, room.id.toUpperCase(), true);
    expect(await hears(mine, `user:${hal}`)).toBe(true);
    expect(await hears(another, "user:someone-else")).toBe(false);
    delivery.membershipChanged(hal, room.id, false);
    expect(await hears(mine, `user:${hal}`)).toBe(false);
  } finally {
    await mine.close();
    await another.close();
  }
});

test("the sender is never queued, whoever wrote the message; nothing is queued when every other member is online", async () => {
  const store = new ChatStore(pool);
  const [ida, jon, kim] = [await user("ida"), await user("jon"), await user("kim")];
  const room = await store.createRoom(ida, "senders");
  await store.joinRoom(jon, room.id);
  await store.joinRoom(kim, room.id);
  const presence = new Presence(redis);
  const push = (await sqs.client.send(new CreateQueueCommand({ QueueName: "d-senders" }))).QueueUrl!;
  const delivery = new Delivery({ store, emitter: createEmitter(redis), presence, producer: new JobProducer(sqs.client), pushQueueUrl: push });
  const { message } = await store.postMessage({ userId: ida, roomId: room.id, body: "hi", clientMsgId: "s-1" });
  // An edit notification sent on behalf of jon: jon is left out, the author (offline) is not.
  expect((await delivery.notifyOffline(message, jon)).sort()).toEqual([ida, kim].sort());
  await presence.markOnline([jon, kim]);
  expect(await delivery.deliver(message)).toEqual([]);
  expect((await drain(push)).sort()).toEqual([ida, kim].sort());
});
