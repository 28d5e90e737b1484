/**
 * The Socket.IO contract's limits are the ones every entry point enforces: the realtime service (its tests send
 * an over-long id), the store (chat-store.test.ts) and the api's JSON Schema, checked here against the constant.
 */
import { CLIENT_EVENTS, CLIENT_MSG_ID, CLIENT_MSG_ID_MAX, CLIENT_MSG_ID_RULE } from "../src/socket-events";
import { clientMsgId as apiClientMsgId } from "../../api/src/routes/schemas";

describe("socket event contract", () => {
  const samples: Array<[string, boolean]> = [
    ["m-1", true], ["a.b:c_d-e", true], ["k".repeat(CLIENT_MSG_ID_MAX), true],
    ["k".repeat(CLIENT_MSG_ID_MAX + 1), false], ["", false], ["has space", false], ["é", false],
  ];

  it("one clientMsgId limit: 64 characters of letters, digits, _ . : -", () => {
    expect(CLIENT_MSG_ID_MAX).toBe(64);
    expect(CLIENT_MSG_ID_RULE).toBe("1 to 64 characters of letters, digits, _ . : -");
    for (const [id, ok] of samples) expect([id, CLIENT_MSG_ID.test(id)]).toEqual([id, ok]);
  });

  it("the api's request schema accepts exactly what the contract does", () => {
    expect(apiClientMsgId.maxLength).toBe(CLIENT_MSG_ID_MAX);
    // what JSON Schema checks for a string: its length in code points and the pattern (unanchored, Unicode mode)
    const valid = (id: string) => [...id].length >= apiClientMsgId.minLength && [...id].length <= apiClientMsgId.maxLength &&
      new RegExp(apiClientMsgId.pattern, "u").test(id);
    for (const [id, ok] of samples) expect([id, valid(id)]).toEqual([id, ok]);
  });

  it("names the events a client may emit", () => {
    expect([...CLIENT_EVENTS]).toEqual(["message:send", "typing", "read", "auth:refresh"]);
  });
});
