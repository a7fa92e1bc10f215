/**
 * The pako engine (lib/extensions/pako.ts), for runtimes without node:zlib: the RFC 7692 §7.2.3
 * bytes, interop with the node:zlib engine both ways, maxLength while inflating, a stream after a
 * final block, and connections sharing its streams.
 */
import * as pako from "pako";
import { Driver } from "../../lib/driver";
import type { DeflateEngine } from "../../lib/extensions/engine";
import { InflateLimitError } from "../../lib/extensions/engine";
import { pakoEngine, type PakoModule } from "../../lib/extensions/pako";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import { zlibEngine, type ZlibModule } from "../../lib/node/zlib";
import { fromHex, hex } from "./support";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const zlib = zlibEngine(require("node:zlib") as ZlibModule);
const engine = (): DeflateEngine => pakoEngine(pako as unknown as PakoModule);

/** A server and a client joined in memory, each with `deflate` of its own options. */
function pair(server: DeflateOptions, client: DeflateOptions): { send: (text: string) => void; reply: (text: string) => void; atServer: string[]; atClient: string[]; wire: string[] } {
  const atServer: string[] = [], atClient: string[] = [], wire: string[] = [];
  let open = false;
  const s = Driver.server({ write: (chunk) => { if (open) wire.push(hex(chunk)); c.parse(chunk.slice()); } });
  const c = Driver.client("ws://127.0.0.1/", { write: (chunk) => s.parse(chunk.slice()) });
  s.addExtension(deflate(server));
  c.addExtension(deflate(client));
  s.on("connect", () => s.start());
  s.on("message", ({ data }) => atServer.push(String(data)));
  c.on("message", ({ data }) => atClient.push(String(data)));
  c.start();
  open = true;
  return { send: (text) => c.text(text), reply: (text) => s.text(text), atServer, atClient, wire };
}

describe("the pako engine", () => {
  it("sends 'Hello' twice as RFC 7692 §7.2.3.1 and §7.2.3.2 do: c1 07 f2 48 cd c9 c9 07 00, then c1 05 f2 00 11 00 00", () => {
    const p = pair({ engine: engine() }, {});
    p.reply("Hello");
    p.reply("Hello");
    expect(p.wire).toEqual(["c1 07 f2 48 cd c9 c9 07 00", "c1 05 f2 00 11 00 00"]);
    expect(p.atClient).toEqual(["Hello", "Hello"]);
  });

  it("reads what node:zlib compresses, and node:zlib reads what it compresses, with and without context", () => {
    const text = (i: number) => JSON.stringify({ seq: i, text: "the quick brown fox ".repeat(1 + (i % 7)) });
    for (const noContext of [false, true]) {
      const options = noContext ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : {};
      const p = pair({ ...options, engine: engine() }, { ...options, engine: zlib });
      for (let i = 0; i < 30; i++) {
        p.send(text(i));
        p.reply(text(i + 100));
      }
      expect(p.atServer).toEqual(Array.from({ length: 30 }, (_, i) => text(i)));
      expect(p.atClient).toEqual(Array.from({ length: 30 }, (_, i) => text(i + 100)));
    }
  });

  it("throws InflateLimitError at the first piece past maxLength, not after inflating it all", () => {
    const bomb = zlib.createDeflater({ level: 9, memLevel: 8, windowBits: 15 }).deflate(new Uint8Array(8 * 1024 * 1024));
    const inflater = engine().createInflater({ windowBits: 15, maxLength: 100_000 });
    let pieces = 0;
    const stream = (inflater as unknown as { stream: { onData(chunk: Uint8Array): void } }).stream;
    const onData = stream.onData;
    stream.onData = (chunk) => { pieces++; onData(chunk); };
    expect(() => inflater.inflate(bomb)).toThrow(InflateLimitError);
    // 16 KiB pieces: the one that passed 100,000 bytes is the seventh.
    expect(pieces).toBe(7);
  });

  it("closes with 1009 on a message that inflates past maxLength", () => {
    const s = Driver.server({ write: () => true }, { maxLength: 1000 });
    s.addExtension(deflate({ engine: engine() }));
    s.on("connect", () => s.start());
    const events: unknown[] = [];
    s.on("close", ({ code }) => events.push(code));
    s.parse(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"));
    const payload = zlib.createDeflater({ level: 6, memLevel: 8, windowBits: 15 }).deflate(new Uint8Array(5000));
    const body = payload.subarray(0, payload.length - 4);
    s.parse(Uint8Array.of(0xc2, 0x80 | body.length, 0, 0, 0, 0, ...body));
    expect(events).toEqual([1009]);
  });

  it("starts a new stream after a final block (RFC 7692 §7.2.3.4), and fails bad data with an Error", () => {
    const inflater = engine().createInflater({ windowBits: 15, maxLength: 1000 });
    const final = fromHex("f3 48 cd c9 c9 07 00 00 00 ff ff");
    expect(new TextDecoder().decode(inflater.inflate(final))).toBe("Hello");
    expect(new TextDecoder().decode(inflater.inflate(final))).toBe("Hello");
    expect(() => inflater.inflate(fromHex("ff ff 00 00 ff ff"))).toThrow(/invalid block type/);
  });

  it("serves connections taking turns on its streams (liveContexts: 1)", () => {
    const shared = engine();
    const pairs = [0, 1, 2].map(() => pair({ engine: shared, liveContexts: 1 }, { engine: shared, liveContexts: 1 }));
    for (let round = 0; round < 4; round++) {
      pairs.forEach((p, i) => { p.send(`to server ${i} `.repeat(round + 2)); p.reply(`to client ${i} `.repeat(round + 2)); });
    }
    pairs.forEach((p, i) => {
      expect(p.atServer).toEqual([0, 1, 2, 3].map((round) => `to server ${i} `.repeat(round + 2)));
      expect(p.atClient).toEqual([0, 1, 2, 3].map((round) => `to client ${i} `.repeat(round + 2)));
    });
  });
});
