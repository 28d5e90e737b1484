/**
 * GraphQL amplification: an operation is priced before any resolver runs (root fields with aliases, fields x
 * list limits) and refused with a 400 naming the limit; an answer over the size limit is not sent.
 */
import assert from "node:assert/strict";
import { startApi, register, sibling, K1, type TestApi, type Session } from "./helpers";

let t: TestApi;
let ann: Session;
let roomId: string;
beforeAll(async () => {
  t = await startApi("api_graphql_cost");
  ann = await register(t.app, "ann");
  roomId = (await t.app.inject({ method: "POST", url: "/api/rooms", headers: ann.auth, payload: { name: "big" } })).json().room.id;
  for (let i = 0; i < 30; i++) {
    const r = await t.app.inject({ method: "POST", url: `/api/rooms/${roomId}/messages`, headers: ann.auth, payload: { body: "x".repeat(3000), clientMsgId: `m${i}` } });
    assert.equal(r.statusCode, 201);
  }
});
afterAll(async () => {
  await t?.close();
});

const gql = (query: string, app = t.app) => app.inject({ method: "POST", url: "/graphql", headers: ann.auth, payload: { query } });
const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(" ")} }`;
const userHits = async () => Number((await t.redis.get(`ratelimit:user:${ann.userId}`)) ?? 0);

test("the 150-alias query (messages(limit: 200) x 150) is refused before it runs, naming both limits", async () => {
  const query = aliases(150, `messages(roomId: "${roomId}", limit: 200) { messages { body } }`);
  assert.ok(query.length > 10_000, `a ${query.length}-byte query, as in the report`);
  const before = await userHits();
  const res = await gql(query);
  assert.equal(res.statusCode, 400, res.body.slice(0, 300));
  assert.ok(res.body.length < 2000, `a short answer (${res.body.length} bytes), not the messages`);
  const errors = res.json().errors as { message: string; extensions: { code: string; limit: string } }[];
  assert.deepEqual(errors.map((e) => [e.extensions.code, e.extensions.limit]), [
    ["query_too_expensive", "GRAPHQL_MAX_ROOT_FIELDS"],
    ["query_too_expensive", "GRAPHQL_MAX_COST"],
  ]);
  assert.match(errors[0].message, /selects 150 root fields .*the limit is 20 \(GRAPHQL_MAX_ROOT_FIELDS\)/);
  assert.match(errors[1].message, /costs 330150 .*the limit is 5000 \(GRAPHQL_MAX_COST\)/);
  assert.equal(res.json().data, null);
  assert.equal(await userHits(), before, "no resolver ran (none authenticated the user)");
});

test("each limit on its own: cost with few aliases, root fields with cheap ones; a normal page passes", async () => {
  const costly = await gql(aliases(3, `messages(roomId: "${roomId}", limit: 200) { messages { id body } }`));
  assert.equal(costly.statusCode, 400);
  assert.deepEqual(costly.json().errors.map((e: { extensions: { limit: string } }) => e.extensions.limit), ["GRAPHQL_MAX_COST"]);

  // A variable limit is priced at the largest limit accepted (200).
  const viaVariable = await t.app.inject({
    method: "POST", url: "/graphql", headers: ann.auth,
    payload: { query: `query($n: Int) { ${[0, 1, 2].map((i) => `a${i}: messages(roomId: "${roomId}", limit: $n) { messages { body } }`).join(" ")} }`, variables: { n: 1 } },
  });
  assert.deepEqual(viaVariable.json().errors.map((e: { extensions: { limit: string } }) => e.extensions.limit), ["GRAPHQL_MAX_COST"]);

  const wide = await gql(aliases(21, "me { id }"));
  assert.equal(wide.statusCode, 400);
  assert.deepEqual(wide.json().errors.map((e: { extensions: { limit: string } }) => e.extensions.limit), ["GRAPHQL_MAX_ROOT_FIELDS"]);

  // Fragments are priced as if written out.
  const fragments = await gql(`query { ${[0, 1, 2].map((i) => `a${i}: messages(roomId: "${roomId}", limit: 200) { ...page }`).join(" ")} } fragment page on MessagePage { messages { body } }`);
  assert.deepEqual(fragments.json().errors.map((e: { extensions: { limit: string } }) => e.extensions.limit), ["GRAPHQL_MAX_COST"]);

  const page = await gql(`{ messages(roomId: "${roomId}", limit: 200) { messages { id body } nextCursor } me { id } }`);
  assert.equal(page.statusCode, 200, page.body.slice(0, 300));
  assert.equal(page.json().data.messages.messages.length, 30);
  assert.equal((await gql(aliases(20, "me { id }"))).statusCode, 200, "20 root fields are allowed");
});

test("an answer over GRAPHQL_MAX_RESPONSE_BYTES is replaced by a 400 naming the limit", async () => {
  const small = await sibling(t, { current: K1 }, { graphqlMaxResponseBytes: 50_000 });
  try {
    const res = await gql(`{ messages(roomId: "${roomId}", limit: 30) { messages { body } } }`, small);
    assert.equal(res.statusCode, 400);
    assert.ok(res.body.length < 1000);
    const [error] = res.json().errors;
    assert.deepEqual([error.extensions.code, error.extensions.limit], ["response_too_large", "GRAPHQL_MAX_RESPONSE_BYTES"]);
    assert.match(error.message, /the response would be \d+ bytes; the limit is 50000/);
    assert.equal(res.headers["content-length"], String(Buffer.byteLength(res.body)));
    const fits = await gql(`{ messages(roomId: "${roomId}", limit: 10) { messages { body } } }`, small);
    assert.equal(fits.statusCode, 200);
  } finally {
    await small.close();
  }
});
