/**
 * Presence: `presence:<userId>` exists while the user has a live connection somewhere. Realtime tasks set it
 * with a TTL on connect and refresh it on a heartbeat (every TTL/3 or so); a crashed task's users expire by
 * themselves. A member without the key is offline and gets push notifications.
 */
import type { Redis } from "ioredis";

export const presenceKey = (userId: string) => `presence:${userId}`;

export class Presence {
  constructor(
    private readonly redis: Redis,
    /** Seconds a presence key lives without a refresh. @default 60 */
    readonly ttlSeconds = 60,
  ) {}

  /** Sets or refreshes the key of each user (heartbeat). */
  async markOnline(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const p = this.redis.pipeline();
    for (const id of userIds) p.set(presenceKey(id), String(Date.now()), "EX", this.ttlSeconds);
    await p.exec();
  }

  async markOffline(userId: string): Promise<void> {
    await this.redis.del(presenceKey(userId));
  }

  /** Which of the users are online, in one round trip. */
  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const values = await this.redis.mget(...userIds.map(presenceKey));
    return new Set(userIds.filter((_, i) => values[i] !== null));
  }
}
