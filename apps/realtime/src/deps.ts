/**
 * Wires the server's needs (ports.ts) to the shared library: token verification and revocation keys,
 * memberships and messages in Postgres, presence keys in Redis, push/offline jobs on SQS.
 */
import type { Pool } from "pg";
import type { Redis } from "ioredis";
import { ChatStore, Delivery, Presence, TokenService, runChecks, checkPostgres, checkRedis, checkSchema, loadMigrations, type JobProducer, type Migration } from "@chat/shared";
import type { Emitter } from "@socket.io/redis-emitter";
import type { RealtimeDeps } from "./ports";

export interface SharedParts {
  pool: Pool;
  redis: Redis;
  /** The adapter's subscriber: readiness fails while cross-task delivery is down. */
  subClient: Redis;
  tokens: TokenService;
  presence: Presence;
  emitter: Emitter;
  producer?: JobProducer;
  pushQueueUrl?: string;
  offlineQueueUrl?: string;
  migrations?: Migration[];
}

export function sharedDeps(p: SharedParts): RealtimeDeps {
  const store = new ChatStore(p.pool);
  const delivery = new Delivery({
    store,
    emitter: p.emitter,
    presence: p.presence,
    producer: p.producer,
    pushQueueUrl: p.pushQueueUrl,
    offlineQueueUrl: p.offlineQueueUrl,
  });
  const migrations = p.migrations ?? loadMigrations();
  return {
    authenticate: (token) => p.tokens.verify(token),
    revokedAmong: (principals) => p.tokens.revokedAmong(principals),
    roomsOf: (userId) => store.roomIdsOf(userId),
    postMessage: (input) => store.postMessage(input),
    markRead: (input) => store.markRead(input),
    notifyOffline: async (message, senderId) => {
      await delivery.notifyOffline(message, senderId);
    },
    markOnline: (userIds) => p.presence.markOnline(userIds),
    markOffline: (userId) => p.presence.markOffline(userId),
    messagesSince: (roomIds, since, limit) => store.messagesSince(roomIds, since, limit),
    ready: async () => {
      const r = await runChecks({
        postgres: checkPostgres(p.pool),
        schema: checkSchema(p.pool, migrations),
        redis: checkRedis(p.redis),
        "redis-subscriber": checkRedis(p.subClient),
      });
      if (!r.ok) {
        const failed = Object.entries(r.checks).filter(([, v]) => v !== "ok").map(([k, v]) => `${k}: ${v}`);
        throw new Error(failed.join("; "));
      }
    },
  };
}
