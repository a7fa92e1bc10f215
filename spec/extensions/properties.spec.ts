/**
 * permessage-deflate under generated traffic (fast-check): our client and server, with generated
 * options, exchange generated text and binary messages while the bytes between them are cut into
 * generated pieces; every message must arrive intact and in order. And the RFC 7692 §7.2.3 frames
 * read one byte at a time.
 */
import fc from "fast-check";
import { fuzzParameters } from "../fuzz/arbitraries";
import { Driver } from "../../lib/driver";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import { Opcode } from "../../lib/hybi/parser";
import { clientFrame } from "../support/wire";
import { fromHex, serverWith } from "./support";

/** The string UTF-8 can carry: lone surrogates become U+FFFD, as `TextEncoder` makes them. */
const wellFormed = (text: string): string => new TextDecoder().decode(new TextEncoder().encode(text));

/** Hands `bytes` to `parse` in pieces of the given sizes (cycled). */
function feed(parse: (chunk: Uint8Array) => void, bytes: Uint8Array, cuts: number[]): void {
  let at = 0, i = 0;
  while (at < bytes.length) {
    const size = Math.max(1, cuts[i++ % cuts.length]);
    parse(bytes.slice(at, at + size));
    at += size;
  }
}

const options: fc.Arbitrary<DeflateOptions> = fc.record({
  serverNoContextTakeover: fc.boolean(),
  clientNoContextTakeover: fc.boolean(),
  serverMaxWindowBits: fc.option(fc.integer({ min: 8, max: 15 }), { nil: undefined }),
  clientMaxWindowBits: fc.oneof(fc.boolean(), fc.integer({ min: 8, max: 15 })),
  level: fc.integer({ min: 0, max: 9 }),
  memLevel: fc.integer({ min: 1, max: 9 }),
  threshold: fc.integer({ min: 0, max: 64 }),
});

/** Repetitive enough to compress, varied enough to exercise back-references across messages. */
const message = fc.oneof(
  fc.string({ maxLength: 300, unit: "grapheme" }),
  fc.array(fc.constantFrom("alpha ", "beta ", "☃ ", "😀", "{\"k\":1}"), { maxLength: 200 }).map((words) => words.join("")),
  fc.uint8Array({ maxLength: 2000 }),
  fc.integer({ min: 0, max: 5000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
);

describe("generated messages between our client and server, cut at generated places", () => {
  it("arrive intact and in order, whatever the options", () => {
    fc.assert(fc.property(
      options, options, fc.array(fc.tuple(fc.boolean(), message), { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
      (clientOptions, serverOptions, traffic, cuts) => {
        const toServer: Uint8Array[] = [], toClient: Uint8Array[] = [];
        const server = Driver.server({ write: (chunk) => { toClient.push(chunk.slice()); } });
        const client = Driver.client("ws://example.com/", { write: (chunk) => { toServer.push(chunk.slice()); } });
        server.addExtension(deflate(serverOptions));
        client.addExtension(deflate(clientOptions));
        server.on("connect", () => server.start());
        const got = { server: [] as unknown[], client: [] as unknown[] };
        const errors: string[] = [];
        server.on("message", ({ data }) => got.server.push(data));
        client.on("message", ({ data }) => got.client.push(data));
        server.on("error", (error) => errors.push(error.message));
        client.on("error", (error) => errors.push(error.message));
        const pump = () => {
          while (toServer.length > 0 || toClient.length > 0) {
            const up = Buffer.concat(toServer.splice(0));
            feed((chunk) => server.parse(chunk), up, cuts);
            const down = Buffer.concat(toClient.splice(0));
            feed((chunk) => client.parse(chunk), down, cuts);
          }
        };
        client.start();
        pump();
        expect(client.readyState).toBe(1);
        for (const [fromClient, data] of traffic) {
          const sender = fromClient ? client : server;
          if (typeof data === "string") sender.text(data);
          else sender.binary(data);
        }
        pump();
        expect(errors).toEqual([]);
        const expectFrom = (fromClient: boolean) => traffic.filter(([side]) => side === fromClient).map(([, data]) =>
          typeof data === "string" ? wellFormed(data) : Buffer.from(data).toString("base64"));
        const seen = (list: unknown[]) => list.map((data) => (typeof data === "string" ? data : Buffer.from(data as Uint8Array).toString("base64")));
        expect(seen(got.server)).toEqual(expectFrom(true));
        expect(seen(got.client)).toEqual(expectFrom(false));
      },
    ), fuzzParameters(150));
  });
});

describe("RFC 7692 §7.2.3 frames in any split", () => {
  it("reads the shared-window 'Hello's one byte at a time, and at every two-way split", () => {
    // A plain Uint8Array, whose `slice` copies (a Buffer's would not): the parser unmasks in place.
    const bytes = new Uint8Array(Buffer.concat([
      clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }),
      clientFrame({ fin: false, rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 00") }),
      clientFrame({ opcode: Opcode.CONTINUATION, payload: fromHex("11 00 00") }),
    ]));
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (const pieces of [[cut, bytes.length], [1]]) {
        const { driver, events } = serverWith([deflate()], "permessage-deflate");
        if (pieces.length === 2) {
          driver.parse(bytes.slice(0, pieces[0]));
          driver.parse(bytes.slice(pieces[0]));
        } else {
          feed((chunk) => driver.parse(chunk), bytes, [1]);
        }
        expect(events).toEqual([["message", { data: "Hello" }], ["message", { data: "Hello" }]]);
      }
    }
  });
});
