import * as pulumi from "@pulumi/pulumi";

/**
 * One IAM policy statement as a typed object (serialised with `pulumi.jsonStringify` by whoever attaches it).
 * Actions are listed one by one: no `*` in a service part.
 */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: pulumi.Input<string>[];
  Condition?: Record<string, Record<string, pulumi.Input<string | string[]>>>;
}

/** Throws when a statement grants a wildcard action (`*`, `sqs:*`, `sqs:Send*`...). */
export function assertNoWildcardActions(owner: string, statements: PolicyStatement[]): void {
  for (const s of statements) {
    const wild = s.Action.filter((a) => a.includes("*"));
    if (wild.length) throw new Error(`${owner}: statement ${s.Sid ?? "(no Sid)"} grants wildcard actions ${wild.join(", ")}; list the actions instead`);
  }
}

/**
 * The KMS key-policy statement that keeps a key administrable by the account's IAM policies (the statement of
 * AWS's default key policy). Service-specific grants go in statements of their own next to it.
 */
export function accountAdministersKey(accountId: pulumi.Input<string>) {
  return {
    Sid: "AccountAdministers",
    Effect: "Allow",
    Principal: { AWS: pulumi.interpolate`arn:aws:iam::${accountId}:root` },
    Action: "kms:*",
    Resource: "*",
  };
}
