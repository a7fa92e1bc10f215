/**
 * Messages in pieces on shared compression contexts (lib/extensions/contexts.ts). A message sent or
 * received in pieces spans several calls, and other connections use the same engine's streams
 * between them: each such message keeps one stream of its own to its end (lent to it alone when
 * the connection keeps no context, its own pinned when it keeps context, RFC 7692 §7.1.1), so
 * pieces of several connections' messages, interleaved, each inflate to exactly their own bytes.
 */
import { Driver } from "../../lib/driver";
import { deflaterPool, inflaterPool } from "../../lib/extensions/contexts";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import { DEFAULT_MAX_LENGTH } from "../../lib/options";
import type { ClientDriver, MessageWriter, ServerDriver } from "../../lib/types";
import { FrameDecoder } from "../../lib/testing/frames";
import { countingEngine } from "./support";

const decoder = new TextDecoder();

interface Pair {
  server: ServerDriver;
  client: ClientDriver;
  /** What the server received: each message as the list of its pieces' text. */
  atServer: string[][];
  /** What the client received, the same way. */
  atClient: string[][];
  /** The first frame of each data message the client sent set RSV1 (compressed). */
  clientRsv1: boolean[];
  /** Errors on either side. */
  errors: Error[];
}

/**
 * A server and a client joined in memory, both receiving every message in pieces
 * (`receive: "stream"`), each with `deflate` of its own options and engine.
 */
function pair(server: DeflateOptions, client: DeflateOptions): Pair {
  const atServer: string[][] = [], atClient: string[][] = [], clientRsv1: boolean[] = [], errors: Error[] = [];
  let open = false;
  const frames = new FrameDecoder();
  const s: ServerDriver = Driver.server({ write: (chunk: Uint8Array) => c.parse(chunk.slice()) }, { receive: "stream" });
  const c: ClientDriver = Driver.client("ws://127.0.0.1/", {
    write: (chunk: Uint8Array) => {
      // RFC 7692 §6.1: RSV1 (0x40) on a data message's first frame says it is compressed.
      if (open) for (const f of frames.push(chunk.slice())) if (f.opcode === 1 || f.opcode === 2) clientRsv1.push((f.rsv & 0x40) !== 0);
      s.parse(chunk.slice());
    },
  }, { receive: "stream" });
  s.addExtension(deflate(server));
  c.addExtension(deflate(client));
  s.on("connect", () => s.start());
  for (const [driver, into] of [[s, atServer], [c, atClient]] as const) {
    driver.on("messagestart", () => into.push([]));
    driver.on("messagedata", ({ data }) => into[into.length - 1].push(decoder.decode(data)));
    driver.on("error", (error) => errors.push(error));
  }
  c.start();
  open = true;
  expect(s.readyState).toBe(1);
  expect(c.readyState).toBe(1);
  return { server: s, client: c, atServer, atClient, clientRsv1, errors };
}

/**
 * Piece `k` of connection `i`'s message: repetitive within a connection (so each piece refers back
 * into the earlier ones, across frames) and different from every other connection's.
 */
function piece(i: number, k: number): string {
  return `<${i}.${k}>` + `conn-${i}-${"xyzw"[i % 4]}`.repeat(40 + 7 * i);
}

/** Joined pieces: what a message's pieces say, whatever their boundaries. */
const joined = (pieces: string[]): string => pieces.join("");

/**
 * Sends, on every pair's `side`, one message in `count` pieces, taking turns piece by piece across
 * the pairs, and checks after each round that each receiver has had its piece already (the pieces
 * arrive as they are sent, not at the end).
 */
function interleave(pairs: Pair[], side: "client" | "server", count: number): void {
  const writers: MessageWriter[] = pairs.map((p) => p[side].startMessage("text") as MessageWriter);
  const received = (p: Pair): string[][] => (side === "client" ? p.atServer : p.atClient);
  for (let k = 0; k < count; k++) {
    pairs.forEach((_, i) => {
      if (k === count - 1) expect(writers[i].end(piece(i, k))).toBe(true);
      else expect(writers[i].write(piece(i, k))).toBe(true);
    });
    pairs.forEach((p, i) => {
      const message = received(p)[received(p).length - 1];
      expect(joined(message)).toBe(Array.from({ length: k + 1 }, (_, j) => piece(i, j)).join(""));
    });
  }
}

const NO_CONTEXT: DeflateOptions = { serverNoContextTakeover: true, clientNoContextTakeover: true };

describe("messages in pieces of connections that keep no context: each keeps a stream lent to it alone", () => {
  it("receive: three clients' compressed messages, interleaved piece by piece into servers sharing one engine, each inflate to their own bytes", () => {
    const serverEngine = countingEngine(), clientEngine = countingEngine();
    const pairs = [0, 1, 2].map(() => pair({ ...NO_CONTEXT, engine: serverEngine }, { ...NO_CONTEXT, engine: clientEngine }));
    interleave(pairs, "client", 5);
    pairs.forEach((p, i) => {
      expect(p.clientRsv1).toEqual([true]);
      expect(p.atServer.map(joined)).toEqual([[0, 1, 2, 3, 4].map((k) => piece(i, k)).join("")]);
      expect(p.errors).toEqual([]);
    });
    // Three messages under way at once: three decompressors, and three compressors on the clients.
    expect(serverEngine.inflaters).toBe(3);
    expect(clientEngine.deflaters).toBe(3);
    // Given back, one is kept as the shared stream: the next messages, whole or in pieces, make none.
    pairs.forEach((p, i) => p.client.text(`whole ${i} ${"q".repeat(100)}`));
    interleave(pairs.slice(0, 1), "client", 3);
    expect(serverEngine.inflaters).toBe(3);
    expect(clientEngine.deflaters).toBe(3);
    pairs.forEach((p, i) => expect(joined(p.atServer[1])).toBe(`whole ${i} ${"q".repeat(100)}`));
    expect(joined(pairs[0].atServer[2])).toBe([0, 1, 2].map((k) => piece(0, k)).join(""));
  });

  it("send: servers sharing one engine send in pieces, interleaved, while whole messages borrow the shared stream between the pieces", () => {
    const serverEngine = countingEngine(), clientEngine = countingEngine();
    const pairs = [0, 1].map(() => pair({ ...NO_CONTEXT, engine: serverEngine }, { ...NO_CONTEXT, engine: clientEngine }));
    const third = pair({ ...NO_CONTEXT, engine: serverEngine }, { ...NO_CONTEXT, engine: clientEngine });
    const writers = pairs.map((p) => p.server.startMessage("text") as MessageWriter);
    for (let k = 0; k < 4; k++) {
      writers.forEach((w, i) => w.write(piece(i, k)));
      // A whole message from another connection between the pieces, on the shared stream.
      expect(third.server.text(`between ${k}: ${"abcabc".repeat(30)}`)).toBe(true);
      pairs.forEach((p, i) => expect(joined(p.atClient[0])).toBe(Array.from({ length: k + 1 }, (_, j) => piece(i, j)).join("")));
    }
    writers.forEach((w) => w.end());
    pairs.forEach((p, i) => {
      expect(p.atClient.map(joined)).toEqual([[0, 1, 2, 3].map((k) => piece(i, k)).join("")]);
      expect(p.errors).toEqual([]);
    });
    expect(third.atClient.map(joined)).toEqual([0, 1, 2, 3].map((k) => `between ${k}: ${"abcabc".repeat(30)}`));
  });
});

describe("messages in pieces of connections that keep context: each pins its own stream", () => {
  /** `liveContexts: 1`: any other connection's message would take an unpinned stream away. */
  const ONE_LIVE: DeflateOptions = { liveContexts: 1 };

  it("receive: a stream pinned for a message in pieces is not taken by another connection's message; the pool returns to its capacity after", () => {
    const serverEngine = countingEngine(), clientEngine = countingEngine();
    const pairs = [0, 1, 2].map(() => pair({ ...ONE_LIVE, engine: serverEngine }, { ...ONE_LIVE, engine: clientEngine }));
    // Messages each way first, so that each connection has a window the next ones refer back to.
    pairs.forEach((p, i) => p.client.text(piece(i, 9)));
    interleave(pairs, "client", 4);
    const inflaters = inflaterPool(serverEngine, 15, Math.max(DEFAULT_MAX_LENGTH, 1 << 15), 1);
    const deflaters = deflaterPool(clientEngine, { level: 6, memLevel: 8, windowBits: 15 }, 1);
    // All pinned at once, then back to the one live context.
    expect(serverEngine.inflaters).toBeGreaterThanOrEqual(3);
    expect(inflaters.size).toBe(1);
    expect(deflaters.size).toBe(1);
    // Their next messages refer back into the pieces (context kept): primed, they still inflate.
    pairs.forEach((p, i) => p.client.text(piece(i, 1) + piece(i, 9)));
    pairs.forEach((p, i) => {
      expect(p.atServer.map(joined)).toEqual([piece(i, 9), [0, 1, 2, 3].map((k) => piece(i, k)).join(""), piece(i, 1) + piece(i, 9)]);
      expect(p.errors).toEqual([]);
    });
  });

  it("send: a message in pieces keeps its compressor while other connections' whole messages need one between the pieces", () => {
    const serverEngine = countingEngine(), clientEngine = countingEngine();
    const pairs = [0, 1].map(() => pair({ ...ONE_LIVE, engine: serverEngine }, { ...ONE_LIVE, engine: clientEngine }));
    const third = pair({ ...ONE_LIVE, engine: serverEngine }, { ...ONE_LIVE, engine: clientEngine });
    pairs.forEach((p, i) => p.server.text(piece(i, 8)));
    const writers = pairs.map((p) => p.server.startMessage("binary") as MessageWriter);
    for (let k = 0; k < 4; k++) {
      writers.forEach((w, i) => w.write(new TextEncoder().encode(piece(i, k))));
      expect(third.server.text(`between ${k}: ${piece(2, k)}`)).toBe(true);
    }
    writers.forEach((w, i) => w.end(piece(i, 4)));
    pairs.forEach((p, i) => p.server.text(piece(i, 2) + piece(i, 8)));
    pairs.forEach((p, i) => {
      expect(p.atClient.map(joined)).toEqual([piece(i, 8), [0, 1, 2, 3, 4].map((k) => piece(i, k)).join(""), piece(i, 2) + piece(i, 8)]);
      expect(p.errors).toEqual([]);
    });
    expect(third.atClient.map(joined)).toEqual([0, 1, 2, 3].map((k) => `between ${k}: ${piece(2, k)}`));
    expect(deflaterPool(serverEngine, { level: 6, memLevel: 8, windowBits: 15 }, 1).size).toBe(1);
  });

  it("a connection closed mid-message gives its pinned stream up: the pool is back within its capacity", () => {
    const serverEngine = countingEngine();
    const pairs = [0, 1].map(() => pair({ ...ONE_LIVE, engine: serverEngine }, {}));
    const writers = pairs.map((p) => p.client.startMessage("text") as MessageWriter);
    writers.forEach((w, i) => w.write(piece(i, 0)));
    const inflaters = inflaterPool(serverEngine, 15, Math.max(DEFAULT_MAX_LENGTH, 1 << 15), 1);
    expect(inflaters.size).toBe(2);
    pairs[0].server.close();
    expect(inflaters.size).toBe(1);
    writers[1].end(piece(1, 1));
    expect(pairs[1].atServer.map(joined)).toEqual([piece(1, 0) + piece(1, 1)]);
    expect(inflaters.size).toBe(1);
  });
});
