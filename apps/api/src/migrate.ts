/**
 * One-off commands of the api image (the stacks run them as ECS tasks before a rollout):
 *
 *   node apps/api/src/migrate.ts                     apply pending migrations (idempotent, advisory-locked)
 *   node apps/api/src/migrate.ts status              print the schema status; exit 1 when behind
 *   node apps/api/src/migrate.ts grant-admin <user>  make an existing user an admin (may revoke others' tokens)
 *
 * Only the database variables are read (DATABASE_URL or DB_*), so the task needs no Redis or JWT secrets.
 */
import { ConfigError, Env, parseDbConfig, createPool, migrate, schemaStatus, loadMigrations } from "@chat/shared";

async function main(argv: string[]): Promise<number> {
  const env = new Env();
  const db = parseDbConfig(env);
  try {
    env.done();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`migrate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const pool = createPool({ ...db, poolMax: 1 }, "chat-migrate");
  try {
    const [command = "up", arg] = argv;
    const migrations = loadMigrations();
    if (command === "up") {
      const r = await migrate(pool, migrations, (m) => process.stdout.write(`${m}\n`));
      process.stdout.write(`schema at version ${r.version} (${r.applied.length} applied now)\n`);
      return 0;
    }
    if (command === "status") {
      const s = await schemaStatus(pool, migrations);
      process.stdout.write(`${JSON.stringify(s)}\n`);
      return s.current ? 0 : 1;
    }
    if (command === "grant-admin") {
      if (!arg) {
        process.stderr.write("migrate grant-admin: give the username, e.g. grant-admin alice\n");
        return 2;
      }
      const { rowCount } = await pool.query("UPDATE users SET is_admin = true WHERE username = $1", [arg.toLowerCase()]);
      if (!rowCount) {
        process.stderr.write(`migrate grant-admin: no user named "${arg}" (register it first)\n`);
        return 1;
      }
      process.stdout.write(`${arg} is now an admin\n`);
      return 0;
    }
    process.stderr.write(`migrate: unknown command "${command}": use up, status or grant-admin <username>\n`);
    return 2;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`migrate: ${err.message}\n`);
    process.exit(1);
  },
);
