import { CLIENT_MSG_ID_CHARS, CLIENT_MSG_ID_MAX, DISPLAY_NAME_MAX, MESSAGE_BODY_MAX, ROOM_NAME_MAX } from "@chat/shared";
/** JSON schemas shared by the routes. Unknown fields are refused, so typos surface as a 400 naming the field. */
export const uuidParam = (name: string) => ({
  type: "object",
  required: [name],
  properties: { [name]: { type: "string", minLength: 1, maxLength: 64 } },
});

export const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({
  type: "object",
  additionalProperties: false,
  required,
  properties,
});

export const username = { type: "string", minLength: 3, maxLength: 32, pattern: "^[A-Za-z0-9_.-]+$" };
export const password = { type: "string", minLength: 8, maxLength: 256 };
export const displayName = { type: "string", minLength: 1, maxLength: DISPLAY_NAME_MAX };
// maxLength counts Unicode code points (JSON Schema), as the store, realtime and the database constraint do.
export const messageBody = { type: "string", minLength: 1, maxLength: MESSAGE_BODY_MAX };
export const clientMsgId = { type: "string", minLength: 1, maxLength: CLIENT_MSG_ID_MAX, pattern: `^[${CLIENT_MSG_ID_CHARS}]+$` };
export const messageId = { type: "string", pattern: "^[1-9][0-9]{0,18}$" };
export const roomName = { type: "string", minLength: 1, maxLength: ROOM_NAME_MAX };
export const roomVisibility = { type: "string", enum: ["public", "private"] };
export const userIdField = { type: "string", minLength: 1, maxLength: 64 };
