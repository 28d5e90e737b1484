/**
 * Limits and timings of the realtime service, read from the environment once at start-up.
 *
 * Every variable is optional; a value that is present but malformed stops the start with a message naming the
 * variable, what was given and what is accepted, so a bad task definition fails fast instead of running with
 * a silently different limit.
 */
import { DEFAULT_SEND_LIMIT, type SendLimit } from "@chat/shared/src/limits";

export interface RealtimeSettings {
  port: number;
  /** Connections (Socket.IO sockets) one task accepts before refusing new handshakes. */
  maxConnectionsPerTask: number;
  /** Connections one client IP may hold on one task. */
  maxConnectionsPerIp: number;
  /**
   * Engine.IO sessions (handshakes, authenticated or not) one client IP may hold on one task; past it a
   * handshake gets HTTP 403 with the reason in its body. Defaults to MAX_CONNECTIONS_PER_IP + 10.
   */
  maxSessionsPerIp: number;
  /** An Engine.IO session that has not connected the namespace (passed auth) after this long is closed. */
  connectTimeoutMs: number;
  /** Messages per user per window across every socket, task and the api (SEND_LIMIT_MAX / SEND_LIMIT_WINDOW_S). */
  sendLimit: SendLimit;
  /** Events one connection may send per 10-second window. */
  maxMessagesPer10s: number;
  /** Event payload bytes one connection may send per 10-second window. */
  maxBytesPer10s: number;
  /** Largest single event payload accepted (bytes of its JSON arguments). */
  maxPayloadBytes: number;
  /** A socket whose unsent (buffered) bytes pass this is disconnected as a slow consumer. */
  slowConsumerBytes: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Time from SIGTERM to exit; the stacks set it below the target group's deregistration delay. */
  shutdownGraceMs: number;
  /**
   * Proxies in front of the task whose X-Forwarded-For entries are believed (TRUST_PROXY_HOPS; the ALB is 1,
   * 0 when clients connect directly). `TRUST_PROXY=true` is accepted as 1 hop.
   */
  trustProxyHops: number;
  /** How often open sockets are re-checked against the revocation keys in Redis. */
  revocationCheckMs: number;
  /** How often presence keys of connected users are refreshed. */
  presenceRefreshMs: number;
  /**
   * Rooms with more members than this get no `presence` events (each connect would otherwise cost one packet
   * per member); their clients read presence through the api.
   */
  presenceMaxRoomSize: number;
  /** How often metrics are written. */
  metricsIntervalMs: number;
}

export const DEFAULTS: RealtimeSettings = {
  port: 3001,
  maxConnectionsPerTask: 5000,
  maxConnectionsPerIp: 50,
  maxSessionsPerIp: 60,
  connectTimeoutMs: 5000,
  sendLimit: DEFAULT_SEND_LIMIT,
  maxMessagesPer10s: 100,
  maxBytesPer10s: 1_048_576,
  maxPayloadBytes: 16_384,
  slowConsumerBytes: 1_048_576,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  shutdownGraceMs: 25_000,
  trustProxyHops: 0,
  revocationCheckMs: 15_000,
  presenceRefreshMs: 20_000,
  presenceMaxRoomSize: 100,
  metricsIntervalMs: 10_000,
};

const INT_VARS: Array<[keyof RealtimeSettings, string, number]> = [
  ["port", "PORT", 1],
  ["maxConnectionsPerTask", "MAX_CONNECTIONS_PER_TASK", 1],
  ["maxConnectionsPerIp", "MAX_CONNECTIONS_PER_IP", 1],
  ["connectTimeoutMs", "CONNECT_TIMEOUT_MS", 100],
  ["maxMessagesPer10s", "MAX_MESSAGES_PER_10S", 1],
  ["maxBytesPer10s", "MAX_BYTES_PER_10S", 64],
  ["maxPayloadBytes", "MAX_PAYLOAD_BYTES", 64],
  ["slowConsumerBytes", "SLOW_CONSUMER_BYTES", 1024],
  ["pingIntervalMs", "PING_INTERVAL_MS", 100],
  ["pingTimeoutMs", "PING_TIMEOUT_MS", 100],
  ["shutdownGraceMs", "SHUTDOWN_GRACE_MS", 100],
  ["revocationCheckMs", "REVOCATION_CHECK_MS", 100],
  ["presenceRefreshMs", "PRESENCE_REFRESH_MS", 100],
  ["presenceMaxRoomSize", "PRESENCE_MAX_ROOM_SIZE", 0],
  ["metricsIntervalMs", "METRICS_INTERVAL_MS", 100],
];

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

function readInt(env: NodeJS.ProcessEnv, name: string, min: number, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min) {
    throw new SettingsError(
      `${name} must be a whole number >= ${min} (got "${raw}"); fix the value or unset it to use the default ${fallback}`,
    );
  }
  return value;
}

function readBool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new SettingsError(`${name} must be "true" or "false" (got "${raw}")`);
}

/** TRUST_PROXY_HOPS (0-5), or the older TRUST_PROXY=true/false as 1/0 hops; both set must agree. */
function readTrustProxyHops(env: NodeJS.ProcessEnv): number {
  const hopsSet = env.TRUST_PROXY_HOPS !== undefined && env.TRUST_PROXY_HOPS.trim() !== "";
  const hops = readInt(env, "TRUST_PROXY_HOPS", 0, DEFAULTS.trustProxyHops);
  if (hops > 5) throw new SettingsError(`TRUST_PROXY_HOPS must be between 0 and 5 (got "${env.TRUST_PROXY_HOPS}"); behind the ALB it is 1`);
  const legacySet = env.TRUST_PROXY !== undefined && env.TRUST_PROXY.trim() !== "";
  if (!legacySet) return hops;
  const legacy = readBool(env, "TRUST_PROXY", false) ? 1 : 0;
  if (hopsSet && hops !== legacy) {
    throw new SettingsError(
      `TRUST_PROXY ("${env.TRUST_PROXY}") and TRUST_PROXY_HOPS ("${env.TRUST_PROXY_HOPS}") disagree; set only TRUST_PROXY_HOPS`,
    );
  }
  return hopsSet ? hops : legacy;
}

/** Reads and validates the realtime settings; throws SettingsError naming the first bad variable. */
export function loadRealtimeSettings(env: NodeJS.ProcessEnv = process.env): RealtimeSettings {
  const out: RealtimeSettings = { ...DEFAULTS };
  for (const [key, name, min] of INT_VARS) {
    (out as unknown as Record<string, number>)[key] = readInt(env, name, min, DEFAULTS[key] as number);
  }
  out.trustProxyHops = readTrustProxyHops(env);
  out.maxSessionsPerIp = readInt(env, "MAX_SESSIONS_PER_IP", 1, out.maxConnectionsPerIp + 10);
  out.sendLimit = {
    max: readInt(env, "SEND_LIMIT_MAX", 1, DEFAULT_SEND_LIMIT.max),
    windowSeconds: readInt(env, "SEND_LIMIT_WINDOW_S", 1, DEFAULT_SEND_LIMIT.windowSeconds),
  };
  if (out.sendLimit.windowSeconds > 3600) throw new SettingsError(`SEND_LIMIT_WINDOW_S must be between 1 and 3600 (got "${env.SEND_LIMIT_WINDOW_S}")`);
  if (out.connectTimeoutMs > 60_000) throw new SettingsError(`CONNECT_TIMEOUT_MS must be between 100 and 60000 (got "${env.CONNECT_TIMEOUT_MS}")`);
  if (out.port > 65535) throw new SettingsError(`PORT must be between 1 and 65535 (got "${env.PORT}")`);
  if (out.maxConnectionsPerIp > out.maxConnectionsPerTask) {
    throw new SettingsError(
      `MAX_CONNECTIONS_PER_IP (${out.maxConnectionsPerIp}) must not exceed MAX_CONNECTIONS_PER_TASK (${out.maxConnectionsPerTask})`,
    );
  }
  if (out.maxSessionsPerIp < out.maxConnectionsPerIp) {
    throw new SettingsError(
      `MAX_SESSIONS_PER_IP (${out.maxSessionsPerIp}) must be at least MAX_CONNECTIONS_PER_IP (${out.maxConnectionsPerIp}): every connection holds a session`,
    );
  }
  if (out.maxPayloadBytes > out.maxBytesPer10s) {
    throw new SettingsError(
      `MAX_PAYLOAD_BYTES (${out.maxPayloadBytes}) must not exceed MAX_BYTES_PER_10S (${out.maxBytesPer10s}): one event could never be accepted`,
    );
  }
  return out;
}
