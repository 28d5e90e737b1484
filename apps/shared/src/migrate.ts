/**
 * Versioned SQL migrations. Files are `NNN_description.sql` in `apps/shared/migrations` (or MIGRATIONS_DIR);
 * each runs once, in its own transaction, in version order. The runner holds a session advisory lock, so
 * two tasks started at once apply each file once; an applied file whose text changed is refused (write a
 * new migration instead of editing an old one).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Pool } from "pg";

/** Arbitrary constant identifying the migration lock (pg_advisory_lock takes a bigint). */
export const MIGRATION_LOCK_ID = 724_311_906;

export interface Migration {
  version: number;
  name: string;
  /** File name, used in messages. */
  file: string;
  sql: string;
  checksum: string;
}

export function migrationsDir(): string {
  return process.env.MIGRATIONS_DIR ?? join(__dirname, "..", "migrations");
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const m = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migration file "${file}" must be named NNN_description.sql (lowercase, digits, underscores)`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`two migration files share version ${version}: renumber one`);
    seen.add(version);
    const sql = readFileSync(join(dir, file), "utf8");
    return { version, name: m[2], file, sql, checksum: createHash("sha256").update(sql).digest("hex") };
  });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface MigrateResult {
  applied: number[];
  version: number;
}

export async function migrate(pool: Pool, migrations = loadMigrations(), log?: (msg: string) => void): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID]);
    try {
      await client.query(CREATE_TABLE);
      const { rows } = await client.query<{ version: number; checksum: string }>("SELECT version, checksum FROM schema_migrations");
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      const applied: number[] = [];
      for (const m of migrations) {
        const previous = done.get(m.version);
        if (previous !== undefined) {
          if (previous !== m.checksum) {
            throw new Error(`migration ${m.file} was changed after it was applied: restore it and add a new migration`);
          }
          continue;
        }
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [m.version, m.name, m.checksum]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw new Error(`migration ${m.file} failed: ${(err as Error).message}`);
        }
        applied.push(m.version);
        log?.(`applied migration ${m.file}`);
      }
      return { applied, version: Math.max(0, ...migrations.map((m) => m.version)) };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

export interface SchemaStatus {
  current: boolean;
  /** Highest applied version (0 when none). */
  applied: number;
  /** Highest version this build ships. */
  expected: number;
  pending: number[];
}

/** Whether every migration this build ships is applied (readiness uses it). */
export async function schemaStatus(pool: Pool, migrations = loadMigrations()): Promise<SchemaStatus> {
  const expected = Math.max(0, ...migrations.map((m) => m.version));
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  const versions = exists.rows[0].t
    ? (await pool.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version)
    : [];
  const have = new Set(versions);
  const pending = migrations.map((m) => m.version).filter((v) => !have.has(v));
  return { current: pending.length === 0, applied: Math.max(0, ...versions), expected, pending };
}
