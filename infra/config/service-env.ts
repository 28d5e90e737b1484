/**
 * `serviceEnv`: the service limits a stack may set (docs/SERVICES.md, docs/CONTRACTS.md). Only documented,
 * non-secret limit variables are accepted, each a whole number; the services check the range at start-up and
 * exit with a message naming the variable when it is out of range. Variables the stack sets itself (endpoints,
 * secrets, values derived from the tier) cannot be set here: change the setting they come from instead.
 */
import { CONFIG_NAMESPACE } from "./schema";
import type { ServiceName } from "../catalogue";

/** The services of the catalogue (infra/catalogue.ts): each has an entry in SERVICE_ENV_ALLOWED. */
export type ServiceEnvService = ServiceName;

/** Per service: `{ VARIABLE: value }`; values are whole numbers (given as numbers or digit strings). */
export type ServiceEnv = Partial<Record<ServiceEnvService, Record<string, string>>>;

/** Limit variables each service reads and a stack may set (with the service's default, for the docs). */
export const SERVICE_ENV_ALLOWED: Record<ServiceEnvService, readonly string[]> = {
  api: [
    "RATE_LIMIT_WINDOW_S", "RATE_LIMIT_IP_MAX", "RATE_LIMIT_USER_MAX", "RATE_LIMIT_AUTH_MAX",
    "LOGIN_MAX_FAILURES", "LOGIN_FAILURE_WINDOW_S", "LOGIN_LOCKOUT_S",
    "ACCESS_TOKEN_TTL_S", "REFRESH_TOKEN_TTL_S", "BODY_LIMIT_BYTES", "DB_POOL_MAX",
    "LOGIN_SLOW_AFTER_FAILURES", "LOGIN_SLOW_INTERVAL_S", "SEND_LIMIT_MAX", "SEND_LIMIT_WINDOW_S",
    "GRAPHQL_MAX_COST", "GRAPHQL_MAX_ROOT_FIELDS", "GRAPHQL_MAX_RESPONSE_BYTES", "REDIS_COMMAND_TIMEOUT_MS",
  ],
  realtime: [
    "MAX_CONNECTIONS_PER_IP", "MAX_MESSAGES_PER_10S", "MAX_BYTES_PER_10S", "MAX_PAYLOAD_BYTES", "SLOW_CONSUMER_BYTES",
    "REVOCATION_CHECK_MS", "PRESENCE_REFRESH_MS", "PRESENCE_MAX_ROOM_SIZE", "METRICS_INTERVAL_MS", "DB_POOL_MAX",
    "MAX_SESSIONS_PER_IP", "CONNECT_TIMEOUT_MS", "SEND_LIMIT_MAX", "SEND_LIMIT_WINDOW_S",
  ],
  workers: ["WORKER_CONCURRENCY", "PUSH_MAX_ATTEMPTS", "PUSH_ATTEMPT_TIMEOUT_MS", "SQS_WAIT_TIME_S", "DB_POOL_MAX"],
};

/** The services a stack may set limits for: the keys above (typed by the catalogue, so none is missing). */
export const SERVICE_ENV_SERVICES = Object.keys(SERVICE_ENV_ALLOWED) as ServiceEnvService[];

/**
 * Variables the stack sets itself, with the setting to change instead. A test compares this list with what the
 * compute layer and the data tier really pass, so it cannot fall behind.
 */
export const STACK_SET_ENV: Record<string, string> = {
  PROJECT: "project", ENV: "env", SERVICE_NAME: "project/env", PORT: "the service's contract port", LOG_LEVEL: "the compute layer",
  NODE_ENV: "the compute layer",
  MAX_CONNECTIONS_PER_TASK: "sizing.services.realtime.maxConnectionsPerTask (the alarms and the scaling target use it)",
  SHUTDOWN_GRACE_MS: "the stop timeouts (sizing.services.workers.stopTimeoutSeconds, the realtime deregistration delay)",
  PING_INTERVAL_MS: "the Socket.IO settings in infra/config/capacity.ts (the ALB idle timeout depends on them)",
  PING_TIMEOUT_MS: "the Socket.IO settings in infra/config/capacity.ts (the ALB idle timeout depends on them)",
  TRUST_PROXY_HOPS: "the compute layer (the ALB is the one proxy)",
  DB_HOST: "the data tier", DB_PORT: "the data tier", DB_NAME: "the data tier", DB_USER: "the data tier", DB_SSL: "the data tier",
  DB_IAM_AUTH: "the data tier", DB_PASSWORD: "the data tier (a secret)",
  REDIS_HOST: "the data tier", REDIS_PORT: "the data tier", REDIS_TLS: "the data tier", REDIS_AUTH_TOKEN: "the data tier (a secret)",
  JWT_KEYS: "the data tier (a secret)", PUSH_GATEWAY_SECRET: "the data tier (a secret)",
  PUSH_QUEUE_URL: "the data tier", OFFLINE_QUEUE_URL: "the data tier", PUSH_GATEWAY_URL: "pushGatewayUrl",
  JOB_TIMEOUT_MS: "sizing.queues.consumerTimeoutSeconds", VISIBILITY_TIMEOUT_S: "sizing.queues.visibilityTimeoutSeconds",
};

const show = (v: unknown) => JSON.stringify(v);

/** Shape check for the config parser: `{ api?: {NAME: value}, realtime?: {...}, workers?: {...} }`. Returns an error text or the value. */
export function parseServiceEnv(v: unknown): ServiceEnv | string {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return `expected an object like {realtime: {MAX_CONNECTIONS_PER_IP: 100}} with keys ${SERVICE_ENV_SERVICES.join(", ")}`;
  }
  const out: ServiceEnv = {};
  for (const [svc, vars] of Object.entries(v)) {
    if (!(SERVICE_ENV_SERVICES as readonly string[]).includes(svc)) return `unknown service ${show(svc)}; allowed: ${SERVICE_ENV_SERVICES.join(", ")}`;
    if (typeof vars !== "object" || vars === null || Array.isArray(vars)) return `${svc}: expected an object of VARIABLE: value`;
    out[svc as ServiceEnvService] = Object.fromEntries(Object.entries(vars).map(([k, x]) => [k, typeof x === "number" ? String(x) : (x as string)]));
  }
  return out;
}

/** Every problem with the names and values, as `<key>.<service>.<NAME> = <value>: <fix>` lines. */
export function serviceEnvProblems(env: ServiceEnv | undefined): string[] {
  const problems: string[] = [];
  for (const svc of SERVICE_ENV_SERVICES) {
    for (const [name, value] of Object.entries(env?.[svc] ?? {})) {
      const at = `${CONFIG_NAMESPACE}:serviceEnv.${svc}.${name} = ${show(value)}`;
      const allowed = SERVICE_ENV_ALLOWED[svc];
      if (name in STACK_SET_ENV) {
        problems.push(`${at}: the stack sets ${name} itself; change ${STACK_SET_ENV[name]} instead`);
      } else if (!allowed.includes(name)) {
        problems.push(`${at}: not a ${svc} limit a stack may set; allowed: ${allowed.join(", ")}`);
      } else if (typeof value !== "string" || !/^\d{1,10}$/.test(value)) {
        problems.push(`${at}: expected a whole number (the service checks its range at start-up, see docs/SERVICES.md)`);
      }
    }
  }
  return problems;
}
