/**
 * Limits of PostgreSQL on RDS derived from the instance class, shared by the `Database` component (its
 * parameter group) and the alarm specs (connection thresholds). Plain functions, no resources.
 */

/** PostgreSQL majors the `Database` component knows a parameter group family for. */
export const POSTGRES_MAJORS = ["15", "16", "17"] as const;

/**
 * `max_connections` for an RDS for PostgreSQL instance class: RDS's default formula
 * `LEAST(DBInstanceClassMemory / 9531392, 5000)` on the class's nominal memory (GiB x 2^30 bytes).
 * The `Database` component writes this number into its parameter group, and the connections alarms divide
 * by the same number, so the alarm's share and the server's limit agree exactly (RDS's own default would be
 * a few percent lower, as DBInstanceClassMemory excludes an OS reserve).
 */
/**
 * RDS for PostgreSQL's own default for `max_connections`, as a parameter-group formula evaluated by RDS on the
 * instance's real memory (`DBInstanceClassMemory` excludes what the OS and RDS processes reserve, which on a
 * 1-2 GiB burstable class is a large share). The dev stack writes this formula instead of the nominal number.
 */
export const RDS_MAX_CONNECTIONS_FORMULA = "LEAST({DBInstanceClassMemory/9531392},5000)";

export function postgresMaxConnections(instanceClass: string): number {
  const memory = instanceMemoryGiB(instanceClass);
  return Math.min(Math.floor((memory * 2 ** 30) / 9_531_392), 5000);
}

/** Nominal memory (GiB) of an RDS class: burstable classes by size, m-classes 4 GiB per vCPU, r-classes 8. */
export function instanceMemoryGiB(instanceClass: string): number {
  const m = /^db\.([a-z]+)(\d+)[a-z]*\.(\w+)$/.exec(instanceClass);
  if (!m) throw new Error(`database.instanceClass = ${JSON.stringify(instanceClass)}: expected an RDS class like db.r6g.large`);
  const [, family, , size] = m as unknown as [string, string, string, string];
  if (family === "t") {
    const burstable: Record<string, number> = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };
    const gib = burstable[size];
    if (gib === undefined) throw new Error(`database.instanceClass = ${JSON.stringify(instanceClass)}: unknown burstable size; use micro to 2xlarge`);
    return gib;
  }
  const perVcpu: Record<string, number> = { m: 4, r: 8, x: 16 };
  const gibPerVcpu = perVcpu[family];
  const vcpus = size === "large" ? 2 : size === "xlarge" ? 4 : /^(\d+)xlarge$/.test(size) ? 4 * Number(size.slice(0, -6)) : undefined;
  if (gibPerVcpu === undefined || vcpus === undefined) {
    throw new Error(`database.instanceClass = ${JSON.stringify(instanceClass)}: cannot tell its memory; use a db.t*, db.m*, db.r* or db.x* class`);
  }
  return gibPerVcpu * vcpus;
}
