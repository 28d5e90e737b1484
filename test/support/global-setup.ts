/** Jest globalSetup of the "services" project: starts the shared test PostgreSQL cluster once per run. */
import { ensurePostgres } from "./postgres";

export default async function globalSetup(): Promise<void> {
  const url = await ensurePostgres();
  process.stdout.write(`\npostgres ready at ${url}\n`);
}
