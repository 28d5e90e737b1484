/** Starts the shared test PostgreSQL cluster (idempotent). Called once by scripts/test.mjs. */
import { ensurePostgres } from "./postgres";

ensurePostgres()
  .then((url) => console.log(`postgres ready at ${url}`))
  .catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
