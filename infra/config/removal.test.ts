import { RETAIN } from "../components/removal";
import { removalPolicy } from "./removal";
import { TIERS } from "./tiers";

describe("removal policy: one per stack, from its tier", () => {
  it("dev's data and entry point are disposable, and destroy empties its buckets and repositories", () => {
    expect(removalPolicy({ sizing: TIERS.dev, primaryEnv: undefined })).toStrictEqual({ keepData: false, protectEntrypoint: false, emptyOnDestroy: true });
  });

  it.each(["1k-dau", "10k-dau", "100k-dau"] as const)("%s keeps everything (the components' default)", (tier) => {
    expect(removalPolicy({ sizing: TIERS[tier], primaryEnv: undefined })).toStrictEqual(RETAIN);
  });

  it("a DR stack keeps its data but lets a destroy empty buckets and repositories (it is retired after each drill)", () => {
    expect(removalPolicy({ sizing: TIERS["10k-dau"], primaryEnv: "10k-dau" })).toStrictEqual({ keepData: true, protectEntrypoint: true, emptyOnDestroy: true });
  });

  it("the default cannot be changed by a caller", () => {
    expect(Object.isFrozen(RETAIN)).toBe(true);
  });
});
