/**
 * PostgreSQL pool from the service config.
 *
 * - Local runs: `DATABASE_URL` as given.
 * - AWS: `DB_HOST`/`DB_PORT`/`DB_NAME`/`DB_USER` with TLS (`DB_SSL=require`, certificate verified). The
 *   default trust store is Node's bundled Mozilla list, which contains the Amazon Root CAs that sign RDS
 *   Proxy's certificates, so a proxy endpoint verifies with no extra file. For a direct RDS instance endpoint
 *   (signed by the RDS CA), point `DB_CA_FILE` at the RDS CA bundle baked into the image.
 * - Password: `DB_PASSWORD` (from Secrets Manager) or, with `DB_IAM_AUTH=true`, a fresh IAM auth token from
 *   `@aws-sdk/rds-signer` for every new connection (tokens live 15 minutes; pooled connections outlive them,
 *   which is fine: the token is only checked at connect time).
 */
import { readFileSync } from "node:fs";
import { Pool, type PoolConfig, type PoolClient } from "pg";
import { Signer } from "@aws-sdk/rds-signer";
import type { DbConfig } from "./config";

export type { Pool, PoolClient };

export function poolConfig(cfg: DbConfig, applicationName = "chat"): PoolConfig {
  const common: PoolConfig = {
    max: cfg.poolMax,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: applicationName,
    // A statement that runs this long is a bug or a lock pile-up; fail it instead of holding the pool.
    statement_timeout: 15_000,
  };
  if (cfg.kind === "url") return { ...common, connectionString: cfg.url };
  let password: PoolConfig["password"] = cfg.password;
  if (cfg.iamAuth) {
    const signer = new Signer({ hostname: cfg.host, port: cfg.port, username: cfg.user, region: cfg.region });
    password = () => signer.getAuthToken();
  }
  return {
    ...common,
    host: cfg.host,
    port: cfg.port,
    database: cfg.database,
    user: cfg.user,
    password,
    ssl:
      cfg.ssl === "require"
        ? { rejectUnauthorized: true, ...(cfg.caFile ? { ca: readFileSync(cfg.caFile, "utf8") } : {}) }
        : false,
  };
}

export function createPool(cfg: DbConfig, applicationName?: string): Pool {
  const pool = new Pool(poolConfig(cfg, applicationName));
  // An idle client losing its connection (failover, proxy restart) must not crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/** Runs `fn` in a transaction on one client; rolls back on any error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
