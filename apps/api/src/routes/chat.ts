/** Rooms, membership, messages, read markers and unread counts. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { normaliseRoomId, type Message, type RoomRole, type RoomVisibility } from "@chat/shared";
import type { Services } from "../services";
import { authenticate } from "../authenticate";
import { ApiError, tooMany } from "../errors";
import { obj, uuidParam, messageBody, clientMsgId, messageId, roomName, roomVisibility, userIdField } from "./schemas";

/**
 * Posts idempotently and delivers. A retried post (same clientMsgId) delivers again: broadcasts carry the
 * message id (clients keep one copy) and push jobs are deduplicated by job id, so a delivery that failed the
 * first time is completed by the retry.
 */
export async function postAndDeliver(s: Services, input: { userId: string; roomId: string; body: string; clientMsgId: string }, request: Pick<FastifyRequest, "log" | "id">) {
  const { log } = request;
  // One budget per user for REST, GraphQL and the realtime service's message:send.
  const verdict = await s.sendBudget.take(input.userId);
  if (!verdict.ok) throw tooMany("send_rate_limited", verdict.message, verdict.retryAfterSeconds);
  const result = await s.store.postMessage(input);
  try {
    // The request id travels in the queued jobs, so the workers' log lines can be matched with this request.
    await s.delivery.deliver(result.message, request.id);
  } catch (err) {
    log.error({ err: (err as Error).message, messageId: result.message.id }, "message saved but notifications could not be queued");
    throw new ApiError(503, "delivery_pending", "the message was saved but notifications could not be queued: retry with the same clientMsgId", { "retry-after": "1" });
  }
  return result;
}

export async function chatRoutes(app: FastifyInstance, s: Services): Promise<void> {
  // Every route here needs a signed-in user; checked before the body is even parsed.
  app.addHook("onRequest", async (request: FastifyRequest) => {
    await authenticate(s, request);
  });
  // Room ids are UUIDs in any case; one spelling (lower case) for the database and the socket rooms, so a
  // membership change given in upper case still moves the sockets of room:<id>.
  app.addHook("preHandler", async (request: FastifyRequest) => {
    const params = request.params as { roomId?: unknown } | undefined;
    if (params && typeof params.roomId === "string") params.roomId = normaliseRoomId(params.roomId);
  });
  const uid = (r: FastifyRequest) => r.principal!.userId;
  const room = { params: uuidParam("roomId") };
  const msg = { params: uuidParam("messageId") };

  app.get("/rooms", async (request) => ({ rooms: await s.store.listRooms(uid(request)) }));

  // Membership changes also move the user's open sockets in or out of the room on every realtime task.
  app.post<{ Body: { name: string; visibility?: RoomVisibility } }>("/rooms", { schema: { body: obj({ name: roomName, visibility: roomVisibility }, ["name"]) } }, async (request, reply) => {
    const room = await s.store.createRoom(uid(request), request.body.name, request.body.visibility);
    s.delivery.membershipChanged(uid(request), room.id, true);
    return reply.status(201).send({ room });
  });

  app.get<{ Params: { roomId: string } }>("/rooms/:roomId", { schema: room }, async (request) => {
    await s.store.requireMember(uid(request), request.params.roomId);
    return { room: await s.store.getRoom(request.params.roomId) };
  });

  app.post<{ Params: { roomId: string } }>("/rooms/:roomId/join", { schema: room }, async (request) => {
    await s.store.joinRoom(uid(request), request.params.roomId);
    s.delivery.membershipChanged(uid(request), request.params.roomId, true);
    return { roomId: request.params.roomId, joined: true };
  });

  app.post<{ Params: { roomId: string } }>("/rooms/:roomId/leave", { schema: room }, async (request) => {
    await s.store.leaveRoom(uid(request), request.params.roomId);
    s.delivery.membershipChanged(uid(request), request.params.roomId, false);
    return { roomId: request.params.roomId, joined: false };
  });

  app.get<{ Params: { roomId: string } }>("/rooms/:roomId/members", { schema: room }, async (request) => ({
    members: await s.store.members(uid(request), request.params.roomId),
  }));

  // Owners and admins invite (the only way into a private room, or back into a room after a removal).
  app.post<{ Params: { roomId: string }; Body: { userId: string } }>(
    "/rooms/:roomId/invitations",
    { schema: { ...room, body: obj({ userId: userIdField }) } },
    async (request, reply) => {
      await s.store.invite(uid(request), request.params.roomId, request.body.userId);
      return reply.status(201).send({ roomId: request.params.roomId, userId: request.body.userId, invited: true });
    },
  );

  const member = { params: { type: "object", required: ["roomId", "userId"], properties: { roomId: userIdField, userId: userIdField } } };
  app.delete<{ Params: { roomId: string; userId: string } }>("/rooms/:roomId/members/:userId", { schema: member }, async (request) => {
    await s.store.removeMember(uid(request), request.params.roomId, request.params.userId);
    s.delivery.membershipChanged(request.params.userId, request.params.roomId, false);
    return { roomId: request.params.roomId, userId: request.params.userId, removed: true };
  });

  app.put<{ Params: { roomId: string; userId: string }; Body: { role: RoomRole } }>(
    "/rooms/:roomId/members/:userId/role",
    { schema: { ...member, body: obj({ role: { type: "string", enum: ["admin", "member"] } }) } },
    async (request) => {
      await s.store.setRole(uid(request), request.params.roomId, request.params.userId, request.body.role);
      return { roomId: request.params.roomId, userId: request.params.userId, role: request.body.role };
    },
  );

  app.get<{ Params: { roomId: string }; Querystring: { before?: string; limit?: string } }>(
    "/rooms/:roomId/messages",
    {
      schema: {
        ...room,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { before: messageId, limit: { type: "string", pattern: "^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$" } },
        },
      },
    },
    async (request) => {
      const { before, limit } = request.query;
      return s.store.history(uid(request), request.params.roomId, { before, limit: limit ? Number(limit) : undefined });
    },
  );

  app.post<{ Params: { roomId: string }; Body: { body: string; clientMsgId: string } }>(
    "/rooms/:roomId/messages",
    { schema: { ...room, body: obj({ body: messageBody, clientMsgId }) } },
    async (request, reply) => {
      const { message, created } = await postAndDeliver(s, { userId: uid(request), roomId: request.params.roomId, ...request.body }, request);
      return reply.status(created ? 201 : 200).send({ message, created });
    },
  );

  app.post<{ Params: { roomId: string }; Body: { messageId: string } }>(
    "/rooms/:roomId/read",
    { schema: { ...room, body: obj({ messageId }) } },
    async (request) => {
      await s.store.markRead({ userId: uid(request), roomId: request.params.roomId, messageId: request.body.messageId });
      s.emitter.to(`room:${request.params.roomId}`).emit("read", { roomId: request.params.roomId, userId: uid(request), messageId: request.body.messageId });
      return { roomId: request.params.roomId, lastReadMessageId: request.body.messageId };
    },
  );

  app.patch<{ Params: { messageId: string }; Body: { body: string } }>(
    "/messages/:messageId",
    { schema: { ...msg, body: obj({ body: messageBody }) } },
    async (request) => {
      const message: Message = await s.store.editMessage(uid(request), request.params.messageId, request.body.body);
      s.delivery.broadcast("message:updated", message);
      return { message };
    },
  );

  app.delete<{ Params: { messageId: string } }>("/messages/:messageId", { schema: msg }, async (request) => {
    const message = await s.store.deleteMessage(uid(request), request.params.messageId);
    s.delivery.broadcast("message:deleted", message);
    return { message };
  });

  app.get("/unread", async (request) => ({ rooms: await s.store.unreadCounts(uid(request)) }));
}
