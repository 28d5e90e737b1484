// TurnBatcher: what is added in one turn of the event loop runs as one batch; each caller gets its own item's
// outcome.
import { TurnBatcher } from "../src/batch";

const turn = () => new Promise<void>((r) => setImmediate(r));

function recorder(answer: (items: number[]) => Array<PromiseSettledResult<string>> = (items) => items.map((i) => ({ status: "fulfilled", value: `v${i}` }))) {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    return answer(items);
  };
  return { batches, run };
}

test("items added in one turn run as one batch, in order; each caller gets its own result", async () => {
  const r = recorder();
  const b = new TurnBatcher(r.run);
  const results = await Promise.all([b.add(1), b.add(2), b.add(3)]);
  expect(r.batches).toEqual([[1, 2, 3]]);
  expect(results).toEqual(["v1", "v2", "v3"]);
});

test("items added in later turns make later batches", async () => {
  const r = recorder();
  const b = new TurnBatcher(r.run);
  const first = b.add(1);
  await turn();
  const second = Promise.all([b.add(2), b.add(3)]);
  expect(await first).toBe("v1");
  expect(await second).toEqual(["v2", "v3"]);
  expect(r.batches).toEqual([[1], [2, 3]]);
});

test("a batch reaching maxBatch starts at once; the rest of the turn makes the next batch", async () => {
  const r = recorder();
  const b = new TurnBatcher(r.run, 2);
  const all = Promise.all([1, 2, 3, 4, 5].map((i) => b.add(i)));
  // Two full batches started while the items were being added, before the turn ended.
  expect(r.batches).toEqual([[1, 2], [3, 4]]);
  expect(await all).toEqual(["v1", "v2", "v3", "v4", "v5"]);
  expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
});

test("one item's rejection reaches only its caller", async () => {
  const r = recorder((items) => items.map((i) => (i === 2 ? { status: "rejected", reason: new Error("two is refused") } : { status: "fulfilled", value: `v${i}` })));
  const b = new TurnBatcher(r.run);
  const settled = await Promise.allSettled([b.add(1), b.add(2), b.add(3)]);
  expect(settled).toEqual([
    { status: "fulfilled", value: "v1" },
    { status: "rejected", reason: new Error("two is refused") },
    { status: "fulfilled", value: "v3" },
  ]);
});

test("a runner that throws or rejects fails every item of its batch with that error", async () => {
  const boom = new Error("database unreachable");
  const throwing = new TurnBatcher<number, string>(() => {
    throw boom;
  });
  const rejecting = new TurnBatcher<number, string>(async () => Promise.reject(boom));
  for (const b of [throwing, rejecting]) {
    const settled = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(settled).toEqual([{ status: "rejected", reason: boom }, { status: "rejected", reason: boom }]);
  }
});

test("an item the runner did not answer is rejected, saying how many were answered", async () => {
  const r = recorder((items) => items.slice(0, 1).map((i) => ({ status: "fulfilled", value: `v${i}` })));
  const b = new TurnBatcher(r.run);
  const settled = await Promise.allSettled([b.add(1), b.add(2)]);
  expect(settled[0]).toEqual({ status: "fulfilled", value: "v1" });
  expect(settled[1]).toEqual({ status: "rejected", reason: new Error("batch runner answered 1 of 2 items") });
});

test("maxBatch must be a positive integer", () => {
  const run = async () => [];
  expect(() => new TurnBatcher(run, 0)).toThrow("maxBatch must be a positive integer (got 0)");
  expect(() => new TurnBatcher(run, 1.5)).toThrow("maxBatch must be a positive integer (got 1.5)");
  expect(() => new TurnBatcher(run, 1)).not.toThrow();
});
