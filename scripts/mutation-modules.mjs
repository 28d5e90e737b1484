// The modules under mutation testing and the test files that guard each one. `npm run test:mutation` runs
// them one module at a time (scripts/mutation.mjs); a run mutates only the listed source (ranges are
// `file:startLine-endLine`) and runs only the listed tests, so each module takes minutes, not an hour.
// `timeoutMS` (optional): the module's allowance over twice the tests' normal time before a mutant counts as
// timed out (10 s otherwise).
// Test processes per StrykerJS run: two by default (the machine the one-hour budget is measured on has 2 cores;
// the modules' tests wait on PostgreSQL, Redis, SQS and timers as much as they compute, and each jest run has its
// own databases and ports). MUTATION_CONCURRENCY overrides it (1 on a loaded machine).
export const DEFAULT_CONCURRENCY = 2;
export const CONCURRENCY = Number(process.env.MUTATION_CONCURRENCY ?? DEFAULT_CONCURRENCY);

export const MODULES = {
  "shared-auth": {
    mutate: ["apps/shared/src/auth.ts"],
    // revocation-store.test.ts: revocation read from and written to PostgreSQL (the pool path).
    tests: ["apps/shared/test/auth.test.ts", "apps/shared/test/tokens.test.ts", "apps/shared/test/revocation-store.test.ts"],
  },
  "shared-chat": {
    mutate: ["apps/shared/src/chat.ts"],
    // The store's own tests check every membership guard as an outsider and as an ex-member; the api's
    // authorization.test.ts (the same guards through REST and GraphQL) starts an api per run, and the setup in
    // its beforeAll makes most of chat.ts "static" (run by every test): it is left to `npm test`.
    tests: ["apps/shared/test/chat-store.test.ts", "apps/shared/test/delivery.test.ts", "apps/shared/test/post-batch.test.ts"],
  },
  "shared-jobs": {
    mutate: ["apps/shared/src/jobs.ts"],
    tests: ["apps/shared/test/jobs.test.ts", "apps/shared/test/job-producer.test.ts"],
  },
  "api-authorization-errors": {
    mutate: ["apps/api/src/authenticate.ts", "apps/api/src/errors.ts"],
    // errors.test.ts (a Redis restart, a broken schema: ~8 s a run) is left to `npm test`: errors.ts has
    // static mutants (run by every test of the module), so each slow file costs its time once per mutant.
    // authorization.test.ts guards the store's membership checks (module shared-chat), not these two files.
    tests: ["apps/api/test/error-mapping.test.ts", "apps/api/test/authenticate.test.ts"],
  },
  "realtime-limits-membership": {
    // server.ts: admit() (token, connection limits, the rooms joined at connect) and the membership checks
    // of typing/read. Line ranges: keep them in step with the file.
    mutate: ["apps/realtime/src/limits.ts", "apps/realtime/src/server.ts:302-349", "apps/realtime/src/server.ts:532-556"],
    tests: ["apps/realtime/test/limits.test.ts", "apps/realtime/test/server.test.ts"],
  },
  "workers-consumer": {
    mutate: ["apps/workers/src/consumer.ts"],
    tests: ["apps/workers/test/consumer.test.ts", "apps/workers/test/consumer-engine.test.ts", "apps/workers/test/consumer-sqs.test.ts"],
    // Most of its tests run on a fake clock, and its hanging mutants are endless loops: 3 s over twice the
    // normal time is enough to call one timed out (stryker.config.mjs).
    timeoutMS: 3_000,
  },
  "alarm-specs": {
    mutate: ["infra/components/alarm-specs.ts"],
    // The pure spec test. The component test (alarms.test.ts, ~4 s a run) and the stacks' wiring
    // (infra/alarm-wiring.test.ts, ~20 s) synthesize programs: too slow to run once per mutant.
    tests: ["infra/components/alarm-specs.test.ts"],
  },
  "preflight": {
    mutate: ["infra/components/preflight.ts"],
    tests: ["infra/components/preflight.test.ts", "infra/components/preflight-exact.test.ts"],
  },
  "policy-rules": {
    mutate: ["infra/policy/rules.ts"],
    tests: ["infra/policy/rules.test.ts", "infra/policy/rules-exact.test.ts"],
  },
};
