import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Client } from "pg";
import { createTestDatabase } from "../../../test/support/postgres";

const root = join(__dirname, "..", "..", "..");
const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ["--import", "tsx", "apps/api/src/migrate.ts", ...args], { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });

test("the migrate command applies, reports status, grants admin, and names bad config", async () => {
  const DATABASE_URL = await createTestDatabase("api_migrate");
  const behind = run(["status"], { DATABASE_URL });
  assert.equal(behind.status, 1, behind.stderr);
  assert.equal(JSON.parse(behind.stdout).current, false);
  const up = run([], { DATABASE_URL });
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /applied migration 001_initial\.sql/);
  const again = run(["up"], { DATABASE_URL });
  assert.match(again.stdout, /\(0 applied now\)/);
  assert.equal(run(["status"], { DATABASE_URL }).status, 0);
  const missing = run(["grant-admin", "ghost"], { DATABASE_URL });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no user named "ghost"/);
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query("INSERT INTO users (username, display_name, password_hash) VALUES ('root', 'root', 'x')");
    const granted = run(["grant-admin", "Root"], { DATABASE_URL });
    assert.equal(granted.status, 0, granted.stderr);
    assert.equal((await client.query("SELECT is_admin FROM users WHERE username = 'root'")).rows[0].is_admin, true);
  } finally {
    await client.end();
  }
  const bad = run([], { DB_HOST: "db.example", DB_NAME: "chat", DB_USER: "app" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /DB_PASSWORD is required when DB_IAM_AUTH is not true/);
  assert.match(run(["frobnicate"], { DATABASE_URL }).stderr, /unknown command "frobnicate"/);
});
