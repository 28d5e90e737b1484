/**
 * Wires the server's needs (ports.ts) to the shared library: token verification and revocation keys,
 * memberships and messages in Postgres, presence keys in Redis, push/offline jobs on SQS.
 */
import type { Pool } from "pg";
import type { Redis } from "ioredis";
import {
  AuthError, ChatError, ChatStore, Delivery, TurnBatcher, type Message, type PostInput, Presence, SendBudget, TokenService, type SendLimit, runChecks, checkPostgres, checkRedis, checkSchema, loadMigrations,
  type JobProducer, type Migration,
} from "@chat/shared";
import type { Emitter } from "@socket.io/redis-emitter";
import { ClientError, type RealtimeDeps } from "./ports";

const CHAT_CODES: Record<string, string> = { bad_request: "invalid_event", forbidden: "not_member", not_member: "not_member", not_found: "not_found", conflict: "conflict" };

/** Store errors carry a client-readable message: pass them on as ClientError; anything else stays internal. */
function clientFacing(err: unknown): unknown {
  if (err instanceof ChatError) return new ClientError(CHAT_CODES[err.code] ?? "invalid_event", err.message);
  return err;
}

async function mapped<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw clientFacing(err);
  }
}

/** The most sends stored by one statement. */
export const POST_BATCH_MAX = 100;

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
  sendLimit: SendLimit;
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
  const sendBudget = new SendBudget(p.redis, p.sendLimit);
  // Sends that arrive in the same turn of the event loop are stored by one statement and one commit.
  const posts = new TurnBatcher<PostInput, { message: Message; created: boolean }>((inputs) => store.postMessages(inputs), POST_BATCH_MAX);
  return {
    authenticate: async (token) => {
      try {
        return await p.tokens.verify(token);
      } catch (err) {
        if (err instanceof AuthError) throw err;
        // Redis down while checking revocation: say so without leaking connection details.
        throw new Error("unable to verify the access token right now; retry shortly");
      }
    },
    revokedAmong: (principals) => p.tokens.revokedAmong(principals),
    roomsOf: async (userId) => {
      const { rows } = await p.pool.query<{ room_id: string; user_id: string; members: number }>(
        `SELECT m.room_id, m.user_id, (SELECT count(*) FROM room_members x WHERE x.room_id = m.room_id)::int AS members
           FROM room_members m WHERE m.user_id = $1`,
        [userId],
      );
      // Only rows that are this user's memberships may put the socket in a room, whatever else comes back.
      return rows.filter((r) => r.user_id.toLowerCase() === userId.toLowerCase()).map((r) => ({ roomId: r.room_id, members: r.members }));
    },
    takeSend: (userId) => sendBudget.take(userId),
    postMessage: (input) => mapped(posts.add(input)),
    markRead: (input) => mapped(store.markRead(input)),
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
