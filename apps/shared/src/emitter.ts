/**
 * The Socket.IO Redis emitter (default key `socket.io`, the same as the realtime tasks' adapter), publishing
 * through a shared ioredis client.
 *
 * The emitter fires `publish` and drops the promise; with Redis down that promise rejects unhandled, which
 * would end the process. The client handed to it therefore catches and reports publish failures instead.
 * A broadcast lost this way is recovered by clients' catch-up after they reconnect (the row is committed
 * before any broadcast).
 */
import { Emitter } from "@socket.io/redis-emitter";
import type { Redis } from "ioredis";

export type { Emitter };

export function createEmitter(redis: Redis, onError: (err: Error) => void = () => undefined): Emitter {
  const client = {
    publish: (channel: string, message: string | Buffer) =>
      redis.publish(channel, message).catch((err: Error) => {
        onError(err);
        return 0;
      }),
  };
  return new Emitter(client);
}
