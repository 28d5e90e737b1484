/**
 * The stack's `aws:` provider settings that a second provider (the DR region's) must carry too, so it acts as
 * the same identity in the same account with the same tags: credentials source (profile, shared files, static
 * keys), the role it assumes, the account guard (allowed/forbidden account ids), default and ignored tags, and
 * retry behaviour. Region-bound settings (region, endpoints, stsRegion) stay out; the caller sets the region.
 *
 * Values come from the stack file's `aws:` keys (strings, JSON for structured values, under Pulumi; parsed
 * YAML in tests) and are passed to `aws.Provider` as they are.
 */
import { fromJson } from "./schema";

/** `aws:` config keys copied to the DR-region provider (`aws.ProviderArgs` field names). */
export const CARRIED_AWS_SETTINGS = [
  "profile", "sharedConfigFiles", "sharedCredentialsFiles", "accessKey", "secretKey", "token",
  "assumeRoles", "assumeRoleWithWebIdentity", "allowedAccountIds", "forbiddenAccountIds",
  "defaultTags", "ignoreTags", "maxRetries", "retryMode", "skipCredentialsValidation", "skipMetadataApiCheck",
  "skipRequestingAccountId",
] as const;

export type CarriedAwsSettings = Partial<Record<(typeof CARRIED_AWS_SETTINGS)[number], unknown>>;

/** The carried settings present in `raw` (a stack's flattened config). The legacy `aws:assumeRole` becomes `assumeRoles: [it]`. */
export function carriedAwsSettings(raw: Record<string, unknown>): CarriedAwsSettings {
  const out: CarriedAwsSettings = {};
  for (const name of CARRIED_AWS_SETTINGS) {
    const value = raw[`aws:${name}`];
    if (value !== undefined) out[name] = fromJson(value);
  }
  const legacy = raw["aws:assumeRole"];
  if (legacy !== undefined && out.assumeRoles === undefined) out.assumeRoles = [fromJson(legacy)];
  return out;
}
