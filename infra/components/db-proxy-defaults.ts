// In a file of its own, without provider imports: the tier table reads it, and loading @pulumi/aws for two
// numbers would slow every program that only needs the sizing (the plan, the policy rules, their tests).
/**
 * Defaults of the optional arguments, written once: the validator and the constructor read them, and the tier
 * table (infra/config/tiers.ts) takes its proxy settings from here. 95% keeps the proxy's cap above the
 * critical connections alarm (90% of max_connections), so that alarm can fire through the proxy.
 */
export const DB_PROXY_DEFAULTS = Object.freeze({ maxConnectionsPercent: 95, idleClientTimeoutSeconds: 1800 });
