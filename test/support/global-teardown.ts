/**
 * Jest globalTeardown of the "services" project: drops the databases this run created (test/support/postgres.ts),
 * and those left by runs that ended without their teardown long ago, so that repeated runs (a mutation run is
 * hundreds of them) do not fill the shared cluster.
 */
import { dropTestDatabases } from "./postgres";

export default async function globalTeardown(): Promise<void> {
  await dropTestDatabases(process.env.TEST_PG_RUN);
}
