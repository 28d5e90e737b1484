import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "pg";
import { createTestDatabase } from "../../../test/support/postgres";
import { createPool, poolConfig } from "../src/db";
import { migrate, schemaStatus, loadMigrations, migrationsDir } from "../src/migrate";
import { ChatStore, ChatError } from "../src/chat";

let pool: Pool;
let users: string[] = [];

beforeAll(async () => {
  pool = createPool({ kind: "url", url: await createTestDatabase("shared_db"), poolMax: 5 });
});
afterAll(async () => {
  await pool.end();
});

test("pool config for AWS: TLS verified, IAM token per connection", async () => {
  const cfg = poolConfig({ kind: "params", host: "proxy.example", port: 5432, database: "chat", user: "app", ssl: "require", iamAuth: true, region: "us-east-1", poolMax: 4 });
  assert.deepEqual(cfg.ssl, { rejectUnauthorized: true });
  assert.equal(typeof cfg.password, "function", "IAM auth generates a token per connection");
  const pw = poolConfig({ kind: "params", host: "h", port: 5432, database: "chat", user: "app", ssl: "disable", iamAuth: false, password: "pw", region: "us-east-1", poolMax: 4 });
  assert.equal(pw.password, "pw");
  assert.equal(pw.ssl, false);
});

test("schema is behind before migrating, current after; migrating twice (even concurrently) is a no-op", async () => {
  const before = await schemaStatus(pool);
  assert.equal(before.current, false);
  expect(before.pending).toStrictEqual(loadMigrations().map((m) => m.version));
  const [a, b] = await Promise.all([migrate(pool), migrate(pool)]);
  expect([...a.applied, ...b.applied].sort()).toStrictEqual(loadMigrations().map((m) => m.version));
  const again = await migrate(pool);
  assert.deepEqual(again.applied, []);
  const after = await schemaStatus(pool);
  assert.equal(after.current, true);
  assert.equal(after.applied, after.expected);
});

test("a new migration file makes readiness report the schema behind; an edited applied file is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mig-"));
  for (const f of readdirSync(migrationsDir())) copyFileSync(join(migrationsDir(), f), join(dir, f));
  writeFileSync(join(dir, "999_extra.sql"), "CREATE TABLE extra_test (id int);");
  const status = await schemaStatus(pool, loadMigrations(dir));
  expect(status.pending).toStrictEqual([999]);
  writeFileSync(join(dir, "001_initial.sql"), "-- edited\n");
  await assert.rejects(migrate(pool, loadMigrations(dir)), /001_initial\.sql was changed after it was applied/);
  assert.throws(() => { writeFileSync(join(dir, "bad-name.sql"), ""); loadMigrations(dir); }, /must be named NNN_description.sql/);
});

async function user(name: string): Promise<string> {
  const { rows } = await pool.query("INSERT INTO users (username, display_name, password_hash) VALUES ($1, $1, 'x') RETURNING id", [name]);
  return rows[0].id;
}

test("rooms, membership, idempotent posts, edits, history pages and unread counts", async () => {
  const chat = new ChatStore(pool);
  users = [await user("alice"), await user("bob"), await user("carol")];
  const [alice, bob, carol] = users;
  const room = await chat.createRoom(alice, "general");
  await chat.joinRoom(bob, room.id);
  await chat.joinRoom(bob, room.id); // idempotent
  assert.deepEqual((await chat.members(alice, room.id)).map((m) => [m.username, m.role]), [["alice", "owner"], ["bob", "member"]]);
  assert.deepEqual(await chat.roomIdsOf(bob), [room.id]);

  const first = await chat.postMessage({ userId: alice, roomId: room.id, body: "hi", clientMsgId: "c1" });
  assert.equal(first.created, true);
  const retry = await chat.postMessage({ userId: alice, roomId: room.id, body: "hi", clientMsgId: "c1" });
  assert.equal(retry.created, false);
  assert.equal(retry.message.id, first.message.id);
  for (let i = 2; i <= 5; i++) await chat.postMessage({ userId: alice, roomId: room.id, body: `m${i}`, clientMsgId: `c${i}` });

  assert.deepEqual(await chat.unreadCounts(bob), [{ roomId: room.id, unread: 5, lastReadMessageId: "0" }]);
  assert.equal((await chat.unreadCounts(alice))[0].unread, 0, "own messages are read");

  const page1 = await chat.history(bob, room.id, { limit: 2 });
  assert.deepEqual(page1.messages.map((m) => m.body), ["m5", "m4"]);
  const page2 = await chat.history(bob, room.id, { limit: 2, before: page1.nextCursor! });
  assert.deepEqual(page2.messages.map((m) => m.body), ["m3", "m2"]);
  const page3 = await chat.history(bob, room.id, { limit: 2, before: page2.nextCursor! });
  assert.deepEqual(page3.messages.map((m) => m.body), ["hi"]);
  assert.equal(page3.nextCursor, null);

  await chat.markRead({ userId: bob, roomId: room.id, messageId: page2.messages[0].id });
  assert.equal((await chat.unreadCounts(bob))[0].unread, 2);
  await chat.markRead({ userId: bob, roomId: room.id, messageId: first.message.id }); // never moves back
  assert.equal((await chat.unreadCounts(bob))[0].unread, 2);

  const edited = await chat.editMessage(alice, first.message.id, "hello");
  assert.equal(edited.body, "hello");
  assert.ok(edited.editedAt);
  await assert.rejects(chat.editMessage(bob, first.message.id, "mine now"), (e: ChatError) => e.code === "forbidden");
  const deleted = await chat.deleteMessage(alice, first.message.id);
  assert.equal(deleted.body, "");
  await assert.rejects(chat.deleteMessage(alice, first.message.id), (e: ChatError) => e.code === "not_found");

  await assert.rejects(chat.postMessage({ userId: carol, roomId: room.id, body: "x", clientMsgId: "z" }), (e: ChatError) => e.code === "not_member" && e.statusCode === 404);
  await assert.rejects(chat.history(carol, "00000000-0000-0000-0000-000000000000"), (e: ChatError) => e.code === "not_found" && e.statusCode === 404);
  await assert.rejects(chat.history(carol, "not-a-uuid"), (e: ChatError) => e.code === "not_found");
  await assert.rejects(chat.postMessage({ userId: alice, roomId: room.id, body: "", clientMsgId: "e" }), /body must be a non-empty string/);
  await assert.rejects(chat.postMessage({ userId: alice, roomId: room.id, body: "x".repeat(4001), clientMsgId: "e" }), /body must be 1 to 4000 characters \(Unicode code points; got 4001\)/);

  const since = await chat.messagesSince([room.id], new Date(Date.now() - 60_000), 10);
  assert.equal(since.length, 5);
  assert.ok(Number(since[0].id) < Number(since[4].id), "oldest first");

  await chat.leaveRoom(bob, room.id);
  assert.deepEqual(await chat.roomIdsOf(bob), []);
});
