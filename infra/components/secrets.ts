import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Link } from "./link";
import { Problems } from "./problems";
import { RETAIN, type RemovalPolicy } from "./removal";

export interface AppSecretsArgs {
  /** `<project>-<env>`: secrets are `<prefix>-jwt-keys` and `<prefix>-push-gateway-secret`. */
  namePrefix: string;
  /** Without `keepData` (dev): delete the secrets at once on destroy (no 30-day recovery window), so the names are free again. @default RETAIN */
  removal?: RemovalPolicy;
  tags?: Record<string, string>;
}

/** Every wiring problem with the plain arguments (field, value, fix). */
export function appSecretsProblems(args: AppSecretsArgs): Problems {
  const p = new Problems("AppSecrets");
  if (!/^[a-z][a-z0-9-]{0,100}$/.test(args.namePrefix)) p.add("namePrefix", args.namePrefix, "use lowercase letters, digits and '-'");
  return p;
}

/** Throws one error listing every problem. */
export function validateAppSecretsArgs(args: AppSecretsArgs): void {
  appSecretsProblems(args).check();
}

/** First `JWT_KEYS` value (docs/CONTRACTS.md): one current key, no previous key yet. */
export function initialJwtKeys(secret: string, kid = "k1"): string {
  if (secret.length < 32) throw new Error("AppSecrets: a JWT signing secret needs at least 32 characters");
  return JSON.stringify({ current: { kid, secret } });
}

/**
 * Application secrets generated in the program and kept in Secrets Manager:
 *
 * - `JWT_KEYS` (`<prefix>-jwt-keys`): JSON `{"current":{"kid","secret"},"previous"?:{...}}`; only `current`
 *   signs, both verify. The program writes the first value only: the version has `ignoreChanges` on its
 *   value, so a rotation done in Secrets Manager (docs/DATA.md, "Rotating the JWT keys") is never reverted by
 *   the next `pulumi up`.
 * - `PUSH_GATEWAY_SECRET` (`<prefix>-push-gateway-secret`): HMAC key shared with the push gateway; a
 *   placeholder until operators store the gateway's real key (same `ignoreChanges`).
 *
 * The generated values live in Pulumi state as secrets (encrypted), never in outputs or plain environment.
 */
export class AppSecrets extends pulumi.ComponentResource {
  readonly jwtKeysSecretArn: pulumi.Output<string>;
  readonly pushGatewaySecretArn: pulumi.Output<string>;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("realtime-chat:secrets:AppSecrets", name, {}, opts);
    validateAppSecretsArgs(args);
    const child = { parent: this };
    const keepValue = { parent: this, ignoreChanges: ["secretString"] };
    const secret = (role: string, description: string) =>
      new aws.secretsmanager.Secret(`${name}-${role}`, {
        name: `${args.namePrefix}-${role}`,
        description,
        recoveryWindowInDays: (args.removal ?? RETAIN).keepData ? 30 : 0,
        tags: { ...args.tags, Name: `${args.namePrefix}-${role}` },
      }, child);

    const signing = new random.RandomPassword(`${name}-jwt-signing-key`, { length: 64, special: false }, child);
    const jwt = secret("jwt-keys", "JWT_KEYS: current (signs) and previous (verifies only) HMAC keys");
    new aws.secretsmanager.SecretVersion(`${name}-jwt-keys-value`, {
      secretId: jwt.id,
      secretString: pulumi.secret(signing.result.apply((s) => initialJwtKeys(s))),
    }, keepValue);

    const gatewayKey = new random.RandomPassword(`${name}-push-gateway-key`, { length: 64, special: false }, child);
    const gateway = secret("push-gateway-secret", "PUSH_GATEWAY_SECRET: HMAC key shared with the push gateway");
    new aws.secretsmanager.SecretVersion(`${name}-push-gateway-secret-value`, { secretId: gateway.id, secretString: gatewayKey.result }, keepValue);

    this.jwtKeysSecretArn = jwt.arn;
    this.pushGatewaySecretArn = gateway.arn;
    this.registerOutputs({ jwtKeysSecretArn: this.jwtKeysSecretArn, pushGatewaySecretArn: this.pushGatewaySecretArn });
  }

  /** The JWT signing and verification keys (`JWT_KEYS`), as a task secret. */
  jwtKeysLink(): Link {
    return { secrets: { JWT_KEYS: this.jwtKeysSecretArn }, secretArns: [this.jwtKeysSecretArn] };
  }

  /** The push gateway: its URL and the HMAC key shared with it (`PUSH_GATEWAY_SECRET`). */
  pushGatewayLink(url: string): Link {
    return {
      environment: { PUSH_GATEWAY_URL: url },
      secrets: { PUSH_GATEWAY_SECRET: this.pushGatewaySecretArn },
      secretArns: [this.pushGatewaySecretArn],
    };
  }
}
