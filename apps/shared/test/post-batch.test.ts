// ChatStore.postMessages on a real PostgreSQL: several sends in one statement answer exactly as the same sends
// one by one would (each input its own outcome, ids in input order, replays and refusals per input), and the
// authors' read markers move to their newest message.
import { createTestDatabase } from "../../../test/support/postgres";
import { createPool, type Pool } from "../src/db";
import { migrate } from "../src/migrate";
import { ChatStore, ChatError, type Message } from "../src/chat";

let pool: Pool;
let store: ChatStore;
let alice: string, bob: string, outsider: string;
let roomA: string, roomB: string;

async function user(name: string): Promise<string> {
  const { rows } = await pool.query("INSERT INTO users (username, display_name, password_hash) VALUES ($1, $1, 'x') RETURNING id", [name]);
  return rows[0].id;
}
async function room(ownerId: string, name: string, members: string[]): Promise<string> {
  const { rows } = await pool.query("INSERT INTO rooms (name, created_by) VALUES ($1, $2) RETURNING id", [name, ownerId]);
  for (const m of [ownerId, ...members]) await pool.query("INSERT INTO room_members (room_id, user_id) VALUES ($1, $2)", [rows[0].id, m]);
  return rows[0].id;
}
const value = (r: PromiseSettledResult<{ message: Message; created: boolean }>) => {
  if (r.status !== "fulfilled") throw new Error(`expected a stored message, got ${String((r.reason as Error)?.message)}`);
  return r.value;
};
const reason = (r: PromiseSettledResult<unknown>) => {
  if (r.status !== "rejected") throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  return r.reason as ChatError;
};
const count = async (clientMsgId: string) =>
  Number((await pool.query("SELECT count(*) FROM messages WHERE client_msg_id = $1", [clientMsgId])).rows[0].count);
const lastRead = async (roomId: string, userId: string) =>
  String((await pool.query("SELECT last_read_message_id FROM room_members WHERE room_id = $1 AND user_id = $2", [roomId, userId])).rows[0].last_read_message_id);

beforeAll(async () => {
  pool = createPool({ kind: "url", url: await createTestDatabase("shared_post_batch"), poolMax: 4 });
  await migrate(pool);
  store = new ChatStore(pool);
  [alice, bob, outsider] = [await user("alice"), await user("bob"), await user("outsider")];
  roomA = await room(alice, "a", [bob]);
  roomB = await room(bob, "b", []);
});
afterAll(async () => {
  await pool.end();
});

describe("ChatStore.postMessages", () => {
  test("stores every send in one statement, ids in input order, each answered with its own row", async () => {
    const queries = jest.spyOn(pool, "query");
    const inputs = [
      { userId: alice, roomId: roomA, body: "one", clientMsgId: "b1-1" },
      { userId: bob, roomId: roomB.toUpperCase(), body: "two", clientMsgId: "b1-2" },
      { userId: bob, roomId: roomA, body: "three", clientMsgId: "b1-3" },
      { userId: alice, roomId: roomA, body: "four", clientMsgId: "b1-4" },
    ];
    const results = (await store.postMessages(inputs)).map(value);
    expect(queries).toHaveBeenCalledTimes(1);
    queries.mockRestore();
    results.forEach((r, i) => {
      expect(r.created).toBe(true);
      expect(r.message).toMatchObject({ authorId: inputs[i].userId, roomId: inputs[i].roomId.toLowerCase(), body: inputs[i].body, clientMsgId: inputs[i].clientMsgId });
    });
    const ids = results.map((r) => BigInt(r.message.id));
    expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids);
    const stored = await pool.query("SELECT id::text, body FROM messages WHERE client_msg_id LIKE 'b1-%' ORDER BY id");
    expect(stored.rows).toEqual(results.map((r) => ({ id: r.message.id, body: r.message.body })));
  });

  test("moves each author's read marker to the author's newest message in each room", async () => {
    const results = (await store.postMessages([
      { userId: alice, roomId: roomA, body: "x", clientMsgId: "rm-1" },
      { userId: alice, roomId: roomA, body: "y", clientMsgId: "rm-2" },
      { userId: bob, roomId: roomB, body: "z", clientMsgId: "rm-3" },
    ])).map(value);
    expect(await lastRead(roomA, alice)).toBe(results[1].message.id);
    expect(await lastRead(roomB, bob)).toBe(results[2].message.id);
    // Bob wrote nothing in room A here: his marker there is not moved by Alice's messages.
    const bobInA = await lastRead(roomA, bob);
    expect(BigInt(bobInA)).toBeLessThan(BigInt(results[0].message.id));
  });

  test("refuses a non-member's send and an invalid send on their own; the others are stored", async () => {
    const results = await store.postMessages([
      { userId: alice, roomId: roomA, body: "kept", clientMsgId: "mix-1" },
      { userId: outsider, roomId: roomA, body: "intruder", clientMsgId: "mix-2" },
      { userId: alice, roomId: roomA, body: "bad id", clientMsgId: "has space" },
      { userId: alice, roomId: roomB, body: "not her room", clientMsgId: "mix-4" },
      { userId: bob, roomId: roomA, body: "kept too", clientMsgId: "mix-5" },
    ]);
    expect(value(results[0]).created).toBe(true);
    expect(reason(results[1])).toBeInstanceOf(ChatError);
    expect(reason(results[1]).code).toBe("not_member");
    expect(reason(results[2]).code).toBe("bad_request");
    expect(reason(results[2]).message).toContain("clientMsgId");
    expect(reason(results[3]).code).toBe("not_member");
    expect(value(results[4]).created).toBe(true);
    expect(await count("mix-2")).toBe(0);
    expect(await count("mix-4")).toBe(0);
  });

  test("a clientMsgId sent twice in one batch, or sent before, is one message: the repeat is a replay", async () => {
    const first = value((await store.postMessages([{ userId: alice, roomId: roomA, body: "earlier", clientMsgId: "dup-0" }]))[0]);
    const results = (await store.postMessages([
      { userId: alice, roomId: roomA, body: "new", clientMsgId: "dup-1" },
      { userId: alice, roomId: roomA, body: "new (retry)", clientMsgId: "dup-1" },
      { userId: alice, roomId: roomA, body: "earlier (retry)", clientMsgId: "dup-0" },
      // Same clientMsgId from another author is another message.
      { userId: bob, roomId: roomA, body: "bob's", clientMsgId: "dup-1" },
    ])).map(value);
    expect(results.map((r) => r.created)).toEqual([true, false, false, true]);
    expect(results[1].message).toEqual(results[0].message);
    expect(results[1].message.body).toBe("new");
    expect(results[2].message).toEqual(first.message);
    expect(results[3].message.id).not.toBe(results[0].message.id);
    expect(await count("dup-1")).toBe(2);
  });

  test("when the statement fails, every send is answered one by one: the good ones are stored", async () => {
    // A user id that is not a UUID fails the batch's uuid[] cast (the whole statement), as any bad row would.
    const results = await store.postMessages([
      { userId: alice, roomId: roomA, body: "survives", clientMsgId: "fail-1" },
      { userId: "not-a-uuid", roomId: roomA, body: "breaks the statement", clientMsgId: "fail-2" },
      { userId: bob, roomId: roomB, body: "survives too", clientMsgId: "fail-3" },
    ]);
    expect(value(results[0]).created).toBe(true);
    expect(results[1].status).toBe("rejected");
    expect(value(results[2]).created).toBe(true);
    expect(await count("fail-1")).toBe(1);
    expect(await count("fail-3")).toBe(1);
  });

  test("an empty batch makes no query", async () => {
    const queries = jest.spyOn(pool, "query");
    expect(await store.postMessages([])).toEqual([]);
    expect(queries).not.toHaveBeenCalled();
    queries.mockRestore();
  });
});
