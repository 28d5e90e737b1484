// Runs before every test file (both projects).

// Service tests start real servers and wait on real timeouts; jest's 5 s default is shorter than a PostgreSQL
// start or a drain on a loaded two-core machine.
jest.setTimeout(120_000);

// Jest runs each test file in its own VM context, but `fetch` is Node's own: the objects its `json()` builds
// belong to Node's realm, and node:assert's deepStrictEqual (which compares prototypes) would then refuse
// `{ status: "ok" }` from a response against the same literal in a test. Parse response bodies in the test's
// realm instead; nothing else about fetch changes.
const nodeFetch = globalThis.fetch;
globalThis.fetch = async (...args: Parameters<typeof fetch>): Promise<Response> => {
  const res = await nodeFetch(...args);
  Object.defineProperty(res, "json", { value: async () => JSON.parse(await res.text()) });
  return res;
};
