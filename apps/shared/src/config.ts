/**
 * Environment parsing. Every reader records problems instead of throwing, so a service that starts with
 * three bad variables hears about all three at once: `env.done()` throws a single ConfigError listing each
 * variable and how to fix it.
 */

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

type Source = Record<string, string | undefined>;

interface Opt<T> {
  /** Used when the variable is unset or empty. Without a default the variable is required. */
  default?: T;
  /** Shown in the error message: what the variable is for or what a good value looks like. */
  hint?: string;
}

export class Env {
  private readonly problems: string[] = [];
  constructor(private readonly source: Source = process.env) {}

  /** The raw value, or undefined when unset or blank. */
  raw(name: string): string | undefined {
    const v = this.source[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  private missing<T>(name: string, opt: Opt<T>, fallback: T): T {
    if (opt.default !== undefined) return opt.default;
    this.problems.push(`${name} is required${opt.hint ? `: ${opt.hint}` : ""}`);
    return fallback;
  }

  str(name: string, opt: Opt<string> & { minLength?: number } = {}): string {
    const v = this.raw(name);
    if (v === undefined) return this.missing(name, opt, "");
    if (opt.minLength !== undefined && v.length < opt.minLength) {
      this.problems.push(`${name} must be at least ${opt.minLength} characters long`);
    }
    return v;
  }

  optionalStr(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, opt: Opt<number> & { min?: number; max?: number } = {}): number {
    const v = this.raw(name);
    if (v === undefined) return this.missing(name, opt, 0);
    if (!/^-?\d+$/.test(v)) {
      this.problems.push(`${name}="${v}" is not an integer${opt.hint ? `: ${opt.hint}` : ""}`);
      return opt.default ?? 0;
    }
    const n = Number(v);
    if ((opt.min !== undefined && n < opt.min) || (opt.max !== undefined && n > opt.max)) {
      this.problems.push(`${name}=${n} is out of range: use a value between ${opt.min ?? "-inf"} and ${opt.max ?? "+inf"}`);
    }
    return n;
  }

  bool(name: string, opt: Opt<boolean> = {}): boolean {
    const v = this.raw(name);
    if (v === undefined) return this.missing(name, opt, false);
    const lower = v.toLowerCase();
    if (["true", "1", "yes", "on"].includes(lower)) return true;
    if (["false", "0", "no", "off"].includes(lower)) return false;
    this.problems.push(`${name}="${v}" is not a boolean: use true or false`);
    return opt.default ?? false;
  }

  url(name: string, opt: Opt<string> & { protocols?: string[] } = {}): string {
    const v = this.raw(name);
    if (v === undefined) return this.missing(name, opt, "");
    try {
      const u = new URL(v);
      if (opt.protocols && !opt.protocols.includes(u.protocol.replace(/:$/, ""))) {
        this.problems.push(`${name} must use one of the schemes ${opt.protocols.join(", ")} (got "${u.protocol}")`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL${opt.hint ? `: ${opt.hint}` : ""}`);
    }
    return v;
  }

  json<T = unknown>(name: string, opt: Opt<T> = {}): T {
    const v = this.raw(name);
    if (v === undefined) return this.missing(name, opt, undefined as T);
    try {
      return JSON.parse(v) as T;
    } catch {
      this.problems.push(`${name} is not valid JSON${opt.hint ? `: ${opt.hint}` : ""}`);
      return opt.default as T;
    }
  }

  enum<T extends string>(name: string, values: readonly T[], opt: Opt<T> = {}): T {
    const v = this.raw(name);
    if (v === undefined) return this.missing(name, opt, values[0]);
    if (!values.includes(v as T)) {
      this.problems.push(`${name}="${v}" is not allowed: use one of ${values.join(", ")}`);
      return opt.default ?? values[0];
    }
    return v as T;
  }

  /** Throws one ConfigError when anything was wrong. */
  done(): void {
    if (this.problems.length) throw new ConfigError([...this.problems]);
  }
}

export interface JwtKey {
  kid: string;
  secret: string;
}
export interface JwtKeys {
  current: JwtKey;
  previous?: JwtKey;
}

export type DbConfig =
  | { kind: "url"; url: string; poolMax: number }
  | {
      kind: "params";
      host: string;
      port: number;
      database: string;
      user: string;
      ssl: "require" | "disable";
      /** Optional PEM bundle to verify the server against (e.g. the RDS CA bundle for direct RDS connections). */
      caFile?: string;
      iamAuth: boolean;
      password?: string;
      region: string;
      poolMax: number;
    };

export type RedisConfig =
  | { kind: "url"; url: string }
  | { kind: "params"; host: string; port: number; tls: boolean; authToken?: string };

export interface ServiceConfig {
  project: string;
  env: string;
  service: string;
  serviceName: string;
  port: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  db: DbConfig;
  redis: RedisConfig;
  jwtKeys: JwtKeys;
  pushQueueUrl?: string;
  offlineQueueUrl?: string;
  sqsEndpoint?: string;
  awsRegion: string;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function parseJwtKeys(env: Env, name = "JWT_KEYS"): JwtKeys {
  const hint = 'JSON {"current":{"kid":"k2","secret":"<32+ chars>"},"previous":{"kid":"k1","secret":"..."}}';
  const value = env.json<unknown>(name, { hint });
  const fallback: JwtKeys = { current: { kid: "invalid", secret: "" } };
  if (value === undefined) return fallback;
  const check = (k: unknown, field: string): JwtKey | undefined => {
    if (typeof k !== "object" || k === null) {
      env.problem(`${name}.${field} must be an object with "kid" and "secret": ${hint}`);
      return undefined;
    }
    const { kid, secret } = k as Record<string, unknown>;
    if (typeof kid !== "string" || kid === "") env.problem(`${name}.${field}.kid must be a non-empty string`);
    if (typeof secret !== "string" || secret.length < 32) {
      env.problem(`${name}.${field}.secret must be a string of at least 32 characters`);
    }
    return { kid: String(kid), secret: String(secret) };
  };
  if (typeof value !== "object" || value === null) {
    env.problem(`${name} must be a JSON object: ${hint}`);
    return fallback;
  }
  const obj = value as Record<string, unknown>;
  const current = check(obj.current, "current");
  const previous = obj.previous === undefined || obj.previous === null ? undefined : check(obj.previous, "previous");
  if (current && previous && current.kid === previous.kid) {
    env.problem(`${name}: current and previous keys must have different kids (both are "${current.kid}")`);
  }
  return { current: current ?? fallback.current, ...(previous ? { previous } : {}) };
}

export function parseDbConfig(env: Env): DbConfig {
  const poolMax = env.int("DB_POOL_MAX", { default: 10, min: 1, max: 200 });
  if (env.has("DATABASE_URL")) {
    return { kind: "url", url: env.url("DATABASE_URL", { protocols: ["postgres", "postgresql"] }), poolMax };
  }
  const hint = "set DATABASE_URL for a local server, or DB_HOST/DB_NAME/DB_USER for AWS";
  const iamAuth = env.bool("DB_IAM_AUTH", { default: false });
  const password = env.optionalStr("DB_PASSWORD");
  if (!iamAuth && password === undefined && env.has("DB_HOST")) {
    env.problem("DB_PASSWORD is required when DB_IAM_AUTH is not true: inject it from Secrets Manager, or set DB_IAM_AUTH=true");
  }
  return {
    kind: "params",
    host: env.str("DB_HOST", { hint }),
    port: env.int("DB_PORT", { default: 5432, min: 1, max: 65535 }),
    database: env.str("DB_NAME", { hint }),
    user: env.str("DB_USER", { hint }),
    ssl: env.enum("DB_SSL", ["require", "disable"] as const, { default: "require" }),
    caFile: env.optionalStr("DB_CA_FILE"),
    iamAuth,
    password,
    region: env.str("AWS_REGION", { default: "us-east-1" }),
    poolMax,
  };
}

export function parseRedisConfig(env: Env): RedisConfig {
  if (env.has("REDIS_URL")) return { kind: "url", url: env.url("REDIS_URL", { protocols: ["redis", "rediss"] }) };
  return {
    kind: "params",
    host: env.str("REDIS_HOST", { hint: "set REDIS_URL for a local server, or REDIS_HOST (+ REDIS_TLS, REDIS_AUTH_TOKEN) for AWS" }),
    port: env.int("REDIS_PORT", { default: 6379, min: 1, max: 65535 }),
    tls: env.bool("REDIS_TLS", { default: true }),
    authToken: env.optionalStr("REDIS_AUTH_TOKEN"),
  };
}

/**
 * The variables every service receives (docs/CONTRACTS.md). `service` is the short name (`api`, `realtime`,
 * `workers`); `SERVICE_NAME` defaults to `<project>-<env>-<service>`. Pass a callback to read the service's own
 * variables from the same Env, so their problems are reported together with the common ones.
 */
export function loadServiceConfig<T = Record<string, never>>(
  service: string,
  source: Source = process.env,
  defaultPort = 3000,
  extra?: (env: Env) => T,
): ServiceConfig & T {
  const env = new Env(source);
  const project = env.str("PROJECT", { default: "chat" });
  const envName = env.str("ENV", { default: "local" });
  for (const [n, v] of [["PROJECT", project], ["ENV", envName]] as const) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(v)) env.problem(`${n}="${v}" must be lowercase letters, digits and dashes`);
  }
  const base: ServiceConfig = {
    project,
    env: envName,
    service,
    serviceName: env.str("SERVICE_NAME", { default: `${project}-${envName}-${service}` }),
    port: env.int("PORT", { default: defaultPort, min: 0, max: 65535 }),
    logLevel: env.enum("LOG_LEVEL", LOG_LEVELS, { default: "info" }),
    db: parseDbConfig(env),
    redis: parseRedisConfig(env),
    jwtKeys: parseJwtKeys(env),
    pushQueueUrl: env.has("PUSH_QUEUE_URL") ? env.url("PUSH_QUEUE_URL", { protocols: ["http", "https"] }) : undefined,
    offlineQueueUrl: env.has("OFFLINE_QUEUE_URL") ? env.url("OFFLINE_QUEUE_URL", { protocols: ["http", "https"] }) : undefined,
    sqsEndpoint: env.has("SQS_ENDPOINT") ? env.url("SQS_ENDPOINT", { protocols: ["http", "https"] }) : undefined,
    awsRegion: env.str("AWS_REGION", { default: "us-east-1" }),
  };
  const more = extra ? extra(env) : ({} as T);
  env.done();
  return { ...base, ...more };
}
