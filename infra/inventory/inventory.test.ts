import { readInventory, stackNames, urnsOf } from "./inventory";

// Every stack's resources keep their URNs unless the inventory file is rewritten on purpose
// (`npm run inventory -- --update`), so a reviewer sees each create/delete in the diff of `infra/inventory/`.
describe("resource inventories", () => {
  const stacks = stackNames();

  it("covers every stack file", () => {
    expect(stacks).toEqual(expect.arrayContaining(["dev", "1k-dau", "10k-dau", "100k-dau", "10k-dau-dr"]));
    for (const stack of stacks) expect(readInventory(stack).length).toBeGreaterThan(50);
  });

  it.each(stacks)("%s registers exactly the URNs in its infra/inventory file", async (stack) => {
    expect(await urnsOf(stack)).toStrictEqual(readInventory(stack));
  });
});
