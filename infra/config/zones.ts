/**
 * Relates the configured zones to the target account's real zone IDs.
 *
 * Zone names are per-account aliases: `us-east-1b` is one physical zone (zone ID) in one account and another
 * one elsewhere, and some services skip some zone IDs (RDS Proxy and `use1-az3`). `resolveZones` takes the
 * stack config and the account's name -> ID map (one `getAvailabilityZones` invoke in the composition layer,
 * infra/platform.ts) and returns the zones to build in, or throws ONE `StackConfigError` listing every
 * problem. Pure: tested without mocks in zones.test.ts.
 */
import { CONFIG_NAMESPACE } from "./schema";
import type { StackConfig } from "./schema";
import { RDS_PROXY_UNSUPPORTED_ZONE_IDS, StackConfigError } from "./load";

/** The account's available zones in the stack's region: `names[i]` has the ID `zoneIds[i]`. */
export interface AccountZones {
  names: string[];
  zoneIds: string[];
}

/** Zones to build in, in config order, with the ID each has in the target account. */
export interface ResolvedZones {
  names: string[];
  zoneIds: string[];
}

const show = (v: unknown) => JSON.stringify(v);

/**
 * `availabilityZoneIds` set: they are the source of truth; each must be available in the account, and the
 * names are those IDs' names in this account (a given `availabilityZones` list must agree, position by
 * position, so a stack file never builds in zones other than the ones its IDs name). Only names set: each must be available in the account, and none may have an ID RDS Proxy does
 * not support.
 */
export function resolveZones(cfg: Pick<StackConfig, "stack" | "region" | "availabilityZones" | "availabilityZoneIds">, account: AccountZones): ResolvedZones {
  const problems: string[] = [];
  const namesKey = `${CONFIG_NAMESPACE}:availabilityZones`;
  const idsKey = `${CONFIG_NAMESPACE}:availabilityZoneIds`;
  const idOf = new Map(account.names.map((n, i) => [n, account.zoneIds[i]!]));
  const nameOf = new Map(account.zoneIds.map((id, i) => [id, account.names[i]!]));
  const offer = (exclude: Set<string>) =>
    account.names
      .map((n, i) => ({ name: n, id: account.zoneIds[i]! }))
      .filter((z) => !exclude.has(z.name) && !RDS_PROXY_UNSUPPORTED_ZONE_IDS.includes(z.id))
      .map((z) => `${z.name} (${z.id})`)
      .join(", ");
  const available = `zones available to this account in ${cfg.region}: ${account.names.map((n, i) => `${n} (${account.zoneIds[i]})`).join(", ")}`;

  let result: ResolvedZones;
  if (cfg.availabilityZoneIds !== undefined) {
    const ids = cfg.availabilityZoneIds;
    const missing = ids.filter((id) => !nameOf.has(id));
    if (missing.length) {
      problems.push(`${idsKey} = ${show(ids)}: zone IDs ${missing.join(", ")} are not available in this account; ${available}; list IDs from those`);
    }
    const names = ids.map((id) => nameOf.get(id) ?? "");
    const given = cfg.availabilityZones;
    if (!missing.length && given.some((n, i) => n !== names[i])) {
      problems.push(
        `${namesKey} = ${show(given)}: does not match ${idsKey} in this account, where ${ids.map((id, i) => `${id} is ${names[i]}`).join(", ")}; ` +
          `set availabilityZones to ${show(names)} (the IDs decide; names differ per account)`,
      );
    }
    result = { names, zoneIds: ids };
  } else {
    const names = cfg.availabilityZones;
    const unknown = names.filter((n) => !idOf.has(n));
    if (unknown.length) {
      problems.push(`${namesKey} = ${show(names)}: zones ${unknown.join(", ")} are not available in this account; ${available}; list zones from those`);
    }
    const zoneIds = names.map((n) => idOf.get(n) ?? "");
    // RDS Proxy limitations: "US East (N. Virginia) Region does not support RDS Proxy in the use1-az3 Availability
    // Zone" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html#rds-proxy.limitations)
    const noProxy = names.filter((n, i) => RDS_PROXY_UNSUPPORTED_ZONE_IDS.includes(zoneIds[i]!));
    if (noProxy.length) {
      problems.push(
        `${namesKey} = ${show(names)}: ${noProxy.map((n) => `${n} is zone ID ${idOf.get(n)} in this account`).join(", ")}, where RDS Proxy is not supported ` +
          `(every tier runs the database behind RDS Proxy); replace ${noProxy.join(", ")} with another zone of ${cfg.region}: ${offer(new Set(names)) || "none left"}`,
      );
    }
    result = { names, zoneIds };
  }
  if (problems.length) throw new StackConfigError(`Pulumi.${cfg.stack}.yaml`, problems);
  return result;
}
