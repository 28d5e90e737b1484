/**
 * What a stack keeps when it is destroyed, or when the program stops declaring a resource: one value per stack,
 * derived once from its tier (`removalPolicy` in infra/config/removal.ts) and handed to every component that
 * holds something worth keeping. Components read it; none decides its own.
 */
export interface RemovalPolicy {
  /**
   * The data outlives the stack: RDS deletion protection and a final snapshot, ElastiCache's final snapshot,
   * 30-day recovery windows on secrets and keys, and Pulumi `protect` + `retainOnDelete` on the database, the
   * Redis group and the backup vaults with their keys. False only where the data is disposable (dev).
   */
  keepData: boolean;
  /** The load balancer refuses deletion (its DNS name is what clients and the site's record point at). */
  protectEntrypoint: boolean;
  /**
   * `pulumi destroy` empties what would otherwise stop it: the access-log and query-result buckets and the
   * image repositories. True on dev and on DR stacks, which are retired after every drill; those objects are
   * rebuilt or re-read, never the only copy of anything.
   */
  emptyOnDestroy: boolean;
}

/** The safe policy: what a component assumes when it is given none. */
export const RETAIN: RemovalPolicy = Object.freeze({ keepData: true, protectEntrypoint: true, emptyOnDestroy: false });
