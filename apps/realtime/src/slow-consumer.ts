/**
 * How many bytes are waiting to reach one client. Engine.IO keeps packets it could not send yet in the
 * connection's write buffer (long-polling clients drain it only when they poll); the WebSocket transport adds
 * what `ws` and the TCP socket still hold. A client that stops reading makes these grow without bound, so
 * the server measures them and disconnects the client past `SLOW_CONSUMER_BYTES`.
 */

interface PacketLike {
  data?: unknown;
}

interface EngineConnLike {
  writeBuffer?: PacketLike[];
  transport?: { name?: string; socket?: { bufferedAmount?: number } };
}

function packetSize(p: PacketLike): number {
  const d = p.data;
  if (typeof d === "string") return d.length;
  if (d && typeof (d as { byteLength?: number }).byteLength === "number") return (d as { byteLength: number }).byteLength;
  return 1;
}

/** Bytes buffered for one Engine.IO connection (the `socket.conn` of a Socket.IO socket). */
export function bufferedBytes(conn: unknown): number {
  const c = conn as EngineConnLike;
  let total = 0;
  for (const p of c.writeBuffer ?? []) total += packetSize(p);
  const ws = c.transport?.name === "websocket" ? c.transport.socket : undefined;
  if (ws && typeof ws.bufferedAmount === "number") total += ws.bufferedAmount;
  return total;
}
