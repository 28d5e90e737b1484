import { StackConfigError } from "./load";
import { resolveZones } from "./zones";

/** An account where us-east-1b is use1-az3 (names map to different zone IDs in each account). */
const account = {
  names: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"],
  zoneIds: ["use1-az4", "use1-az3", "use1-az6", "use1-az1"],
};
const cfg = (availabilityZones: string[], availabilityZoneIds?: string[]) => ({ stack: "10k-dau", region: "us-east-1", availabilityZones, availabilityZoneIds });

/** The problems `resolveZones` reports (fails the test when it reports none). */
function problems(c: ReturnType<typeof cfg>): string[] {
  try {
    resolveZones(c, account);
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError);
    expect((err as StackConfigError).stackFile).toBe("Pulumi.10k-dau.yaml");
    return (err as StackConfigError).problems;
  }
  throw new Error("resolveZones accepted the zones");
}

describe("resolveZones (config zones against the account's zone map)", () => {
  it("names only: looks up each name's ID in this account", () => {
    expect(resolveZones(cfg(["us-east-1a", "us-east-1c", "us-east-1d"]), account)).toStrictEqual({
      names: ["us-east-1a", "us-east-1c", "us-east-1d"], zoneIds: ["use1-az4", "use1-az6", "use1-az1"],
    });
  });

  it("names only: refuses a name whose ID here does not support RDS Proxy, naming the key, zone, ID and the zones to pick", () => {
    expect(problems(cfg(["us-east-1a", "us-east-1b", "us-east-1c"]))).toStrictEqual([
      'realtime-chat:availabilityZones = ["us-east-1a","us-east-1b","us-east-1c"]: us-east-1b is zone ID use1-az3 in this account, where RDS Proxy is not supported ' +
        "(every tier runs the database behind RDS Proxy); replace us-east-1b with another zone of us-east-1: us-east-1d (use1-az1)",
    ]);
  });

  it("names only: refuses a name the account cannot use", () => {
    expect(problems(cfg(["us-east-1a", "us-east-1e"]))).toStrictEqual([
      'realtime-chat:availabilityZones = ["us-east-1a","us-east-1e"]: zones us-east-1e are not available in this account; zones available to this account in us-east-1: ' +
        "us-east-1a (use1-az4), us-east-1b (use1-az3), us-east-1c (use1-az6), us-east-1d (use1-az1); list zones from those",
    ]);
  });

  it("IDs given: they decide; names are their names in this account", () => {
    expect(resolveZones(cfg(["us-east-1d", "us-east-1a", "us-east-1c"], ["use1-az1", "use1-az4", "use1-az6"]), account)).toStrictEqual({
      names: ["us-east-1d", "us-east-1a", "us-east-1c"], zoneIds: ["use1-az1", "use1-az4", "use1-az6"],
    });
  });

  it("IDs given: refuses names that are other zones in this account, and says which names the IDs have", () => {
    expect(problems(cfg(["us-east-1a", "us-east-1c"], ["use1-az1", "use1-az6"]))).toStrictEqual([
      'realtime-chat:availabilityZones = ["us-east-1a","us-east-1c"]: does not match realtime-chat:availabilityZoneIds in this account, where use1-az1 is us-east-1d, ' +
        'use1-az6 is us-east-1c; set availabilityZones to ["us-east-1d","us-east-1c"] (the IDs decide; names differ per account)',
    ]);
  });

  it("IDs given: refuses an ID the account cannot use", () => {
    expect(problems(cfg(["us-east-1a", "us-east-1c"], ["use1-az4", "use1-az5"]))).toStrictEqual([
      'realtime-chat:availabilityZoneIds = ["use1-az4","use1-az5"]: zone IDs use1-az5 are not available in this account; zones available to this account in us-east-1: ' +
        "us-east-1a (use1-az4), us-east-1b (use1-az3), us-east-1c (use1-az6), us-east-1d (use1-az1); list IDs from those",
    ]);
  });
});
