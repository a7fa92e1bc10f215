/**
 * Compression contexts shared between connections (lib/extensions/contexts.ts): connections that
 * keep no context take turns on one stream per parameter set; connections that keep context hold
 * streams from a bounded pool and give them up to others. Whatever the order of messages across
 * connections, each receives exactly its own, and a failure on one leaves the others intact.
 */
import fc from "fast-check";
import { Driver } from "../../lib/driver";
import { History, deflaterPool, inflaterPool } from "../../lib/extensions/contexts";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import { zlibEngine } from "../../lib/node/zlib";
import { DEFAULT_MAX_LENGTH } from "../../lib/options";
import type { ZlibModule } from "../../lib/node/zlib";
import type { ClientDriver, ServerDriver } from "../../lib/types";
import { clientFrame, readFrames, record, utf8 } from "../support/wire";
import { countingEngine, extensionsHeader, fromHex, hex, serverWith } from "./support";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const zlib = require("node:zlib") as ZlibModule & typeof import("node:zlib");

interface Pair {
  server: ServerDriver;
  client: ClientDriver;
  /** Messages each side received, in order. */
  atServer: Array<string | Uint8Array>;
  atClient: Array<string | Uint8Array>;
  /** Compressed frames the server wrote, as payload bytes. */
  serverFrames: Uint8Array[];
}

/** A server and a client joined in memory, each with `deflate` of its own options and engine. */
function pair(server: DeflateOptions, client: DeflateOptions, maxLength?: number): Pair {
  const serverFrames: Uint8Array[] = [];
  let open = false;
  const atServer: Array<string | Uint8Array> = [], atClient: Array<string | Uint8Array> = [];
  const s: ServerDriver = Driver.server({
    write: (chunk: Uint8Array) => {
      if (open) for (const f of readFrames(chunk)) serverFrames.push(f.payload);
      c.parse(chunk.slice());
    },
  }, maxLength === undefined ? {} : { maxLength });
  const c: ClientDriver = Driver.client("ws://127.0.0.1/", { write: (chunk: Uint8Array) => s.parse(chunk.slice()) });
  s.addExtension(deflate(server));
  c.addExtension(deflate(client));
  s.on("connect", () => s.start());
  s.on("message", ({ data }) => atServer.push(data));
  c.on("message", ({ data }) => atClient.push(data));
  c.start();
  open = true;
  expect(s.readyState).toBe(1);
  expect(c.readyState).toBe(1);
  return { server: s, client: c, atServer, atClient, serverFrames };
}

const NO_CONTEXT: DeflateOptions = { serverNoContextTakeover: true, clientNoContextTakeover: true };

describe("connections that keep no context (RFC 7692 §7.1.1) share one stream each way", () => {
  it("makes one compressor and one decompressor for twenty connections, whatever the order of their messages", () => {
    const engine = countingEngine();
    const pairs = Array.from({ length: 20 }, () => pair({ ...NO_CONTEXT, engine }, {}));
    for (let round = 0; round < 3; round++) {
      pairs.forEach((p, i) => p.server.text(`to client ${i}, round ${round}: ${"abc".repeat(i + 1)}`));
      pairs.forEach((p, i) => p.client.text(`from client ${i}, round ${round}: ${"xyz".repeat(i + 1)}`));
    }
    pairs.forEach((p, i) => {
      expect(p.atClient).toEqual([0, 1, 2].map((round) => `to client ${i}, round ${round}: ${"abc".repeat(i + 1)}`));
      expect(p.atServer).toEqual([0, 1, 2].map((round) => `from client ${i}, round ${round}: ${"xyz".repeat(i + 1)}`));
    });
    expect(engine.deflaters).toBe(1);
    expect(engine.inflaters).toBe(1);
  });

  it("compresses a message alike on every connection: the shared stream is reset after each one", () => {
    const engine = countingEngine();
    const [a, b] = [pair({ ...NO_CONTEXT, engine }, {}), pair({ ...NO_CONTEXT, engine }, {})];
    a.server.text("Hello");
    a.server.text("Hello");
    b.server.text("Hello");
    // RFC 7692 §7.2.3.1: "Hello" on its own is f2 48 cd c9 c9 07 00, each time and on each connection.
    expect([...a.serverFrames, ...b.serverFrames].map(hex)).toEqual(Array(3).fill("f2 48 cd c9 c9 07 00"));
  });

  it("fails only the connection that sent bad DEFLATE (1007); the next connection's message inflates", () => {
    const engine = countingEngine();
    const bad = serverWith([deflate({ ...NO_CONTEXT, engine })], "permessage-deflate");
    const good = pair({ ...NO_CONTEXT, engine }, {});
    good.client.text("before");
    // A block of reserved type 11 (RFC 1951 §3.2.3) is not DEFLATE.
    bad.driver.parse(clientFrame({ opcode: 1, rsv: 0x40, payload: fromHex("ff ff") }));
    expect(bad.events.map(([type]) => type)).toEqual(["error", "close"]);
    expect(String(bad.events[0][1])).toMatch(/Invalid compressed message/);
    expect(bad.events[1]).toEqual(["close", expect.objectContaining({ code: 1007 })]);
    good.client.text("after");
    expect(good.atServer).toEqual(["before", "after"]);
  });

  it("applies each connection's own maxLength to the shared stream's output (1009)", () => {
    const engine = countingEngine();
    const small = pair({ ...NO_CONTEXT, engine }, {}, 100);
    const large = pair({ ...NO_CONTEXT, engine }, {}, 1 << 20);
    const events = record(small.server);
    large.client.text("a".repeat(50_000));
    small.client.text("a".repeat(50_000));
    expect(large.atServer).toEqual(["a".repeat(50_000)]);
    expect(events.find(([type]) => type === "close")).toEqual(["close", expect.objectContaining({ code: 1009 })]);
  });
});

describe("connections that keep context hold streams from a bounded pool (liveContexts)", () => {
  it("holds no more streams than liveContexts however many connections carry messages", () => {
    const engine = countingEngine();
    const pairs = Array.from({ length: 6 }, () => pair({ engine, liveContexts: 2 }, {}));
    for (const p of pairs) p.server.text("one");
    for (const p of pairs) p.client.text("two");
    expect(deflaterPool(engine, { level: 6, memLevel: 8, windowBits: 15 }, 2).size).toBe(2);
    expect(inflaterPool(engine, 15, DEFAULT_MAX_LENGTH, 2).size).toBe(2);
    for (const p of pairs) p.server.close();
    // A closed connection's stream is closed with it, not kept for nobody.
    expect(deflaterPool(engine, { level: 6, memLevel: 8, windowBits: 15 }, 2).size).toBe(0);
    expect(inflaterPool(engine, 15, DEFAULT_MAX_LENGTH, 2).size).toBe(0);
  });

  it("keeps the window while a connection holds its compressor: the second 'Hello' is a back-reference (§7.2.3.2)", () => {
    const engine = countingEngine();
    const a = pair({ engine, liveContexts: 1 }, {});
    a.server.text("Hello");
    a.server.text("Hello");
    expect(a.serverFrames.map(hex)).toEqual(["f2 48 cd c9 c9 07 00", "f2 00 11 00 00"]);
  });

  it("primes the compressor it gets back with the last bytes it sent: the second 'Hello' is still a back-reference", () => {
    const engine = countingEngine();
    const [a, b] = [pair({ engine, liveContexts: 1 }, {}), pair({ engine, liveContexts: 1 }, {})];
    a.server.text("Hello");
    b.server.text("Hello");
    a.server.text("Hello");
    expect(a.serverFrames.map(hex)).toEqual(["f2 48 cd c9 c9 07 00", "f2 00 11 00 00"]);
    expect(a.atClient).toEqual(["Hello", "Hello"]);
    expect(b.atClient).toEqual(["Hello"]);
    expect(engine.deflaters).toBe(1);
  });

  it("with primeBytes: 0, compresses without the window once another connection took the compressor, and the peer still reads it", () => {
    const engine = countingEngine();
    const [a, b] = [pair({ engine, liveContexts: 1, primeBytes: 0 }, {}), pair({ engine, liveContexts: 1, primeBytes: 0 }, {})];
    a.server.text("Hello");
    b.server.text("Hello");
    a.server.text("Hello");
    expect(a.serverFrames.map(hex)).toEqual(["f2 48 cd c9 c9 07 00", "f2 48 cd c9 c9 07 00"]);
    expect(a.atClient).toEqual(["Hello", "Hello"]);
    expect(b.atClient).toEqual(["Hello"]);
  });

  it("primes only with messages it compressed: one under the threshold is not in the peer's window", () => {
    const engine = countingEngine();
    const [a, b] = [pair({ engine, liveContexts: 1, threshold: 6 }, {}), pair({ engine, liveContexts: 1, threshold: 6 }, {})];
    a.server.text("Hello, world");
    a.server.text("Hello");
    b.server.text("Hello, world");
    a.server.text("Hello, world");
    expect(a.atClient).toEqual(["Hello, world", "Hello", "Hello, world"]);
    // The third message refers back past the uncompressed "Hello" to the first one only.
    expect(a.serverFrames[2].length).toBeLessThan(a.serverFrames[0].length);
  });

  it("primes a decompressor with the connection's last window when its own was taken, so back-references still resolve", () => {
    const engine = countingEngine();
    const [a, b] = [pair({ engine, liveContexts: 1 }, {}), pair({ engine, liveContexts: 1 }, {})];
    const text = "the quick brown fox jumps over the lazy dog ";
    a.client.text(text.repeat(3));
    b.client.text("something else entirely");
    // The client keeps its own window: this message refers back into the first one.
    a.client.text(text.repeat(4));
    expect(a.atServer).toEqual([text.repeat(3), text.repeat(4)]);
    expect(b.atServer).toEqual(["something else entirely"]);
    expect(engine.inflaters).toBe(1);
  });

  it("reads back-references as far as the window reaches, across a window's worth of messages (RFC 7692 §7.2.2)", () => {
    const engine = countingEngine();
    const [a, b] = [pair({ engine, liveContexts: 1 }, {}), pair({ engine, liveContexts: 1 }, {})];
    const chunk = (i: number) => Array.from({ length: 1000 }, (_, j) => String.fromCharCode(97 + ((i * 7 + j * 13 + (j >> 3)) % 26))).join("");
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      // Every fourth message repeats one sent up to 30 KB before: within the 32 KiB window.
      const message = i % 4 === 3 ? sent[i - 30 < 0 ? 0 : i - 30] : chunk(i);
      sent.push(message);
      a.client.text(message);
      b.client.text(chunk(100 + i));
    }
    expect(a.atServer).toEqual(sent);
    expect(b.atServer).toHaveLength(40);
  });

  it("keeps each connection's messages its own under any interleaving (property)", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ to: fc.nat(3), fromClient: fc.boolean(), text: fc.string({ maxLength: 300 }), repeat: fc.nat(4) }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 3 }),
      fc.boolean(),
      (sends, live, noContext) => {
        const engine = countingEngine();
        const options = { engine, liveContexts: live, ...(noContext ? NO_CONTEXT : {}) };
        const pairs = Array.from({ length: 4 }, () => pair(options, { engine, liveContexts: live }));
        const expected = pairs.map(() => ({ atServer: [] as string[], atClient: [] as string[] }));
        for (const { to, fromClient, text, repeat } of sends) {
          const message = text.repeat(repeat + 1);
          if (fromClient) {
            pairs[to].client.text(message);
            expected[to].atServer.push(message);
          } else {
            pairs[to].server.text(message);
            expected[to].atClient.push(message);
          }
        }
        pairs.forEach((p, i) => {
          expect(p.atServer).toEqual(expected[i].atServer);
          expect(p.atClient).toEqual(expected[i].atClient);
        });
      },
    ), { numRuns: 60 });
  });

  it("fails only the connection that sent bad DEFLATE; the one whose stream it had reads on", () => {
    const engine = countingEngine();
    const a = pair({ engine, liveContexts: 1 }, {});
    a.client.text("Hello, Hello, Hello");
    const bad = serverWith([deflate({ engine, liveContexts: 1 })], "permessage-deflate");
    bad.driver.parse(clientFrame({ opcode: 1, rsv: 0x40, payload: fromHex("ff ff") }));
    expect(bad.events[1]).toEqual(["close", expect.objectContaining({ code: 1007 })]);
    a.client.text("Hello, Hello, Hello, again");
    expect(a.atServer).toEqual(["Hello, Hello, Hello", "Hello, Hello, Hello, again"]);
  });
});

describe("the window a server reads with", () => {
  it("is the client_max_window_bits it answered: a back-reference further back fails with 1007", () => {
    const offer = "permessage-deflate; client_max_window_bits";
    const { driver, events, response } = serverWith([deflate({ clientMaxWindowBits: 9, engine: countingEngine() })], offer);
    expect(extensionsHeader(response)).toBe("permessage-deflate; client_max_window_bits=9");
    // 600 bytes, then the same 600 again from a compressor with a 32 KiB window: the second
    // message is one match 600 bytes back, past the 512 bytes the client was allowed.
    const deflater = zlibEngine(zlib).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
    let seed = 7;
    const text = Uint8Array.from({ length: 600 }, () => 97 + ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % 26);
    const strip = (out: Uint8Array) => out.subarray(0, out.length - 4);
    driver.parse(clientFrame({ opcode: 2, rsv: 0x40, payload: strip(deflater.deflate(text)) }));
    expect(events).toEqual([["message", { data: text }]]);
    driver.parse(clientFrame({ opcode: 2, rsv: 0x40, payload: strip(deflater.deflate(text)) }));
    deflater.close();
    events.shift();
    expect(events[1]).toEqual(["close", expect.objectContaining({ code: 1007 })]);
    expect(String(events[0][1])).toMatch(/Invalid compressed message: .*distance too far back/);
  });
});

describe("History: the last window a connection received", () => {
  it("keeps the last `window` bytes whatever the sizes of the messages", () => {
    const history = new History(512);
    const all: number[] = [];
    for (let i = 0; i < 200; i++) {
      const message = Uint8Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j) & 0xff);
      history.add(message);
      all.push(...message);
      expect(Array.from(history.bytes)).toEqual(all.slice(Math.max(0, all.length - 512)).slice(-history.bytes.length));
      expect(history.bytes.length).toBe(Math.min(all.length, 512));
    }
  });

  it("writes the window as non-final stored blocks (RFC 1951 §3.2.4) a decompressor reads back", () => {
    const history = new History(1 << 15);
    history.add(utf8("Hello"));
    expect(hex(history.storedBlocks())).toBe("00 05 00 fa ff 48 65 6c 6c 6f");
    expect(hex(new History(256).storedBlocks())).toBe("00 00 00 ff ff");
    const big = new History(1 << 15);
    big.add(Uint8Array.from({ length: 40_000 }, (_, i) => i & 0xff));
    const inflated = zlib.inflateRawSync(big.storedBlocks(), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(inflated.length).toBe(1 << 15);
    expect(inflated[0]).toBe((40_000 - (1 << 15)) & 0xff);
  });
});
