/**
 * GraphQL at `/graphql` (Mercurius): the REST operations as queries and mutations, same services, same auth
 * (`Authorization: Bearer <access token>`), same limits (the per-IP hook covers the route; the per-user limit
 * applies when a resolver needs the user). Errors carry `extensions.code` with the REST error codes; when the
 * operation produced no data the HTTP status is the error's (401, 403, 404, 429 with Retry-After...).
 * Internal errors are logged and answered as "internal error".
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import mercurius from "mercurius";
import { GraphQLError } from "graphql";
import { normaliseRoomId, textProblem, DISPLAY_NAME_MAX, ROOM_VISIBILITIES, type Principal, type RoomRole, type RoomVisibility } from "@chat/shared";
import type { Services } from "./services";
import { authenticate } from "./authenticate";
import { toHttpError } from "./errors";
import { authBody, sessionMeta } from "./routes/auth";
import { postAndDeliver } from "./routes/chat";
import { ApiError } from "./errors";
import { costRule } from "./graphql-cost";

const schema = /* GraphQL */ `
  type User { id: ID!, username: String!, displayName: String!, isAdmin: Boolean!, createdAt: String! }
  type AuthPayload {
    user: User!, tokenType: String!, accessToken: String!, accessTokenExpiresAt: Int!,
    refreshToken: String!, refreshTokenExpiresAt: Int!
  }
  type Room {
    id: ID!, name: String!, "public or private" visibility: String!, createdBy: ID!, createdAt: String!,
    role: String, unread: Int, lastReadMessageId: ID
  }
  type Member { userId: ID!, username: String!, displayName: String!, role: String!, joinedAt: String!, lastReadMessageId: ID! }
  type Message {
    id: ID!, roomId: ID!, authorId: ID!, body: String!, clientMsgId: String!, createdAt: String!,
    editedAt: String, deletedAt: String
  }
  type MessagePage { messages: [Message!]!, nextCursor: ID }
  type PostResult { message: Message!, created: Boolean! }
  type Unread { roomId: ID!, unread: Int!, lastReadMessageId: ID! }
  type Missed { roomId: ID!, messageId: ID!, createdAt: String! }
  type Revoked { userId: ID!, revokedSessions: Int! }

  type Query {
    me: User!
    rooms: [Room!]!
    "One room the caller is a member of (404 not_found otherwise, as for an unknown room)."
    room(roomId: ID!): Room!
    members(roomId: ID!): [Member!]!
    messages(roomId: ID!, before: ID, limit: Int): MessagePage!
    unread: [Unread!]!
    "Missed messages recorded while offline; each is returned once."
    digest: [Missed!]!
  }

  type Mutation {
    register(username: String!, password: String!, displayName: String): AuthPayload!
    login(username: String!, password: String!): AuthPayload!
    refresh(refreshToken: String!): AuthPayload!
    logout: Boolean!
    "visibility: public (default; anyone may join) or private (by invitation of an owner or admin)"
    createRoom(name: String!, visibility: String): Room!
    joinRoom(roomId: ID!): Boolean!
    "Owners and admins: lets the user join (a private room, or a room they were removed from)."
    inviteToRoom(roomId: ID!, userId: ID!): Boolean!
    "The owner removes admins and members, an admin removes members; the user cannot rejoin without an invitation."
    removeMember(roomId: ID!, userId: ID!): Boolean!
    "The owner: role admin or member."
    setMemberRole(roomId: ID!, userId: ID!, role: String!): Boolean!
    leaveRoom(roomId: ID!): Boolean!
    postMessage(roomId: ID!, body: String!, clientMsgId: String!): PostResult!
    editMessage(messageId: ID!, body: String!): Message!
    deleteMessage(messageId: ID!): Message!
    markRead(roomId: ID!, messageId: ID!): Boolean!
    "Admins only: ends every session of the user."
    revokeUser(userId: ID!): Revoked!
  }
`;

interface Ctx {
  reply: FastifyReply;
}

const bad = (message: string) => new ApiError(400, "bad_request", message);

function checkCredentials(a: { username: string; password: string }) {
  if (!/^[A-Za-z0-9_.-]{3,32}$/.test(a.username)) throw bad("username must be 3 to 32 characters of a-z, 0-9, _ . -");
  if (a.password.length < 8 || a.password.length > 256) throw bad("password must be 8 to 256 characters");
}

export async function registerGraphql(app: FastifyInstance, s: Services): Promise<void> {
  const authAttempt = (ctx: Ctx) => s.limiter.consume("auth", ctx.reply.request.ip, s.settings.rateLimitAuthMax, s.settings.rateLimitWindowSeconds);
  const user = (ctx: Ctx): Promise<Principal> => authenticate(s, ctx.reply.request);
  type Raw = Record<string, string | undefined> & { limit?: number };
  type A = Raw;
  // Room ids in one spelling (lower case), as the REST routes do: the socket rooms follow membership.
  const norm = (a: Raw): A => (typeof a.roomId === "string" ? (Object.assign({}, a, { roomId: normaliseRoomId(a.roomId) }) as A) : a);

  const plain = {
    Query: {
      me: async (_: unknown, __: A, ctx: Ctx) => {
        const u = await s.accounts.get((await user(ctx)).userId);
        if (!u) throw new ApiError(401, "token_invalid", "the account of this token no longer exists");
        return u;
      },
      rooms: async (_: unknown, __: A, ctx: Ctx) => s.store.listRooms((await user(ctx)).userId),
      room: async (_: unknown, a: A, ctx: Ctx) => {
        // As GET /api/rooms/:roomId: membership first, so a non-member learns nothing about the room.
        await s.store.requireMember((await user(ctx)).userId, a.roomId!);
        return s.store.getRoom(a.roomId!);
      },
      members: async (_: unknown, a: A, ctx: Ctx) => s.store.members((await user(ctx)).userId, a.roomId!),
      messages: async (_: unknown, a: A, ctx: Ctx) => {
        if (a.limit !== undefined && a.limit !== null && (a.limit < 1 || a.limit > 200)) throw bad("limit must be between 1 and 200");
        return s.store.history((await user(ctx)).userId, a.roomId!, { before: a.before ?? undefined, limit: a.limit ?? undefined });
      },
      unread: async (_: unknown, __: A, ctx: Ctx) => s.store.unreadCounts((await user(ctx)).userId),
      digest: async (_: unknown, __: A, ctx: Ctx) => s.accounts.takeDigest((await user(ctx)).userId),
    },
    Mutation: {
      register: async (_: unknown, a: A, ctx: Ctx) => {
        await authAttempt(ctx);
        const input = { username: a.username!, password: a.password!, displayName: a.displayName ?? undefined };
        checkCredentials(input);
        const nameProblem = input.displayName === undefined ? null : textProblem("displayName", input.displayName, 1, DISPLAY_NAME_MAX);
        if (nameProblem) throw bad(nameProblem);
        return authBody(await s.accounts.register(input, sessionMeta(ctx.reply.request)));
      },
      login: async (_: unknown, a: A, ctx: Ctx) => {
        await authAttempt(ctx);
        return authBody(await s.accounts.login({ username: a.username!, password: a.password! }, sessionMeta(ctx.reply.request)));
      },
      refresh: async (_: unknown, a: A, ctx: Ctx) => {
        await authAttempt(ctx);
        return authBody(await s.accounts.refresh(a.refreshToken!));
      },
      logout: async (_: unknown, __: A, ctx: Ctx) => {
        await s.accounts.logout((await user(ctx)).sessionId);
        return true;
      },
      createRoom: async (_: unknown, a: A, ctx: Ctx) => {
        const userId = (await user(ctx)).userId;
        if (a.visibility != null && !ROOM_VISIBILITIES.includes(a.visibility as RoomVisibility)) throw bad(`visibility must be one of ${ROOM_VISIBILITIES.join(", ")}`);
        const room = await s.store.createRoom(userId, a.name!, (a.visibility ?? undefined) as RoomVisibility | undefined);
        s.delivery.membershipChanged(userId, room.id, true);
        return room;
      },
      joinRoom: async (_: unknown, a: A, ctx: Ctx) => {
        const userId = (await user(ctx)).userId;
        await s.store.joinRoom(userId, a.roomId!);
        s.delivery.membershipChanged(userId, a.roomId!, true);
        return true;
      },
      leaveRoom: async (_: unknown, a: A, ctx: Ctx) => {
        const userId = (await user(ctx)).userId;
        await s.store.leaveRoom(userId, a.roomId!);
        s.delivery.membershipChanged(userId, a.roomId!, false);
        return true;
      },
      inviteToRoom: async (_: unknown, a: A, ctx: Ctx) => {
        await s.store.invite((await user(ctx)).userId, a.roomId!, a.userId!);
        return true;
      },
      removeMember: async (_: unknown, a: A, ctx: Ctx) => {
        await s.store.removeMember((await user(ctx)).userId, a.roomId!, a.userId!);
        s.delivery.membershipChanged(a.userId!, a.roomId!, false);
        return true;
      },
      setMemberRole: async (_: unknown, a: A, ctx: Ctx) => {
        if (a.role !== "admin" && a.role !== "member") throw bad("role must be admin or member");
        await s.store.setRole((await user(ctx)).userId, a.roomId!, a.userId!, a.role as RoomRole);
        return true;
      },
      postMessage: async (_: unknown, a: A, ctx: Ctx) =>
        postAndDeliver(s, { userId: (await user(ctx)).userId, roomId: a.roomId!, body: a.body!, clientMsgId: a.clientMsgId! }, ctx.reply.request),
      editMessage: async (_: unknown, a: A, ctx: Ctx) => {
        const m = await s.store.editMessage((await user(ctx)).userId, a.messageId!, a.body!);
        s.delivery.broadcast("message:updated", m);
        return m;
      },
      deleteMessage: async (_: unknown, a: A, ctx: Ctx) => {
        const m = await s.store.deleteMessage((await user(ctx)).userId, a.messageId!);
        s.delivery.broadcast("message:deleted", m);
        return m;
      },
      markRead: async (_: unknown, a: A, ctx: Ctx) => {
        const p = await user(ctx);
        await s.store.markRead({ userId: p.userId, roomId: a.roomId!, messageId: a.messageId! });
        s.emitter.to(`room:${a.roomId}`).emit("read", { roomId: a.roomId, userId: p.userId, messageId: a.messageId });
        return true;
      },
      revokeUser: async (_: unknown, a: A, ctx: Ctx) => {
        const adminId = (await user(ctx)).userId;
        const result = await s.accounts.adminRevoke(adminId, a.userId!);
        ctx.reply.request.log.warn({ adminId, ...result }, "admin revoked a user's tokens");
        return result;
      },
    },
  };

  type Resolver = (root: unknown, a: Raw, ctx: Ctx) => unknown;
  const normalised = (group: Record<string, Resolver>) =>
    Object.fromEntries(Object.entries(group).map(([k, fn]) => [k, (root: unknown, a: Raw, ctx: Ctx) => fn(root, norm(a), ctx)]));
  const resolvers = { Query: normalised(plain.Query), Mutation: normalised(plain.Mutation) };

  const maxResponse = s.settings.graphqlMaxResponseBytes;
  // The response size cap: the cost rule bounds the work; this bounds what one answer may carry.
  app.addHook("onSend", async (request, reply, payload) => {
    if (request.routeOptions.url !== "/graphql" || typeof payload !== "string") return payload;
    const bytes = Buffer.byteLength(payload);
    if (bytes <= maxResponse) return payload;
    request.log.warn({ bytes, limit: maxResponse }, "graphql response over the size limit");
    void reply.status(400);
    return JSON.stringify({
      data: null,
      errors: [{
        message: `the response would be ${bytes} bytes; the limit is ${maxResponse} (GRAPHQL_MAX_RESPONSE_BYTES): ask for fewer fields, aliases or smaller limits`,
        extensions: { code: "response_too_large", limit: "GRAPHQL_MAX_RESPONSE_BYTES" },
      }],
    });
  });

  await app.register(mercurius, {
    schema,
    resolvers,
    validationRules: [costRule({ maxCost: s.settings.graphqlMaxCost, maxRootFields: s.settings.graphqlMaxRootFields })],
    path: "/graphql",
    graphiql: false,
    queryDepth: 6,
    errorFormatter: (execution, context) => {
      const reply = (context as unknown as Ctx).reply;
      let status: number | undefined;
      const errors = execution.errors.map((e) => {
        const original = e.originalError;
        if (!original || original instanceof GraphQLError || (original as { errors?: unknown }).errors) {
          // Syntax and validation errors from GraphQL itself: their messages are about the query.
          status ??= 400;
          const nested = (original as { errors?: GraphQLError[] } | undefined)?.errors;
          // Our own validation rules (the cost limits) carry their code and the limit's name.
          const ext = (n: GraphQLError) => ({ ...n.extensions, code: (n.extensions?.code as string | undefined) ?? "bad_request" });
          return nested ? nested.map((n) => ({ message: n.message, extensions: ext(n) })) : [{ message: e.message, locations: e.locations, path: e.path, extensions: ext(e) }];
        }
        const mapped = toHttpError(original);
        if (mapped) {
          status ??= mapped.status;
          if (mapped.headers["retry-after"]) void reply.header("retry-after", mapped.headers["retry-after"]);
          return [{ message: mapped.message, path: e.path, extensions: { code: mapped.code } }];
        }
        reply.log.error({ err: original }, "graphql resolver failed");
        status ??= 500;
        return [{ message: `internal error (request id ${reply.request.id})`, path: e.path, extensions: { code: "internal" } }];
      }).flat();
      return { statusCode: execution.data ? 200 : status ?? 200, response: { data: execution.data ?? null, errors } as never };
    },
  });
}
