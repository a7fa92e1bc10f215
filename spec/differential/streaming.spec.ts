/**
 * Differential: the same byte streams as the ws differential (valid traffic with every kind of
 * damage, with and without permessage-deflate, in any split) read by two wsdriver drivers: one
 * taking messages whole (the default), one taking every message in pieces (`receive: "stream"`,
 * `maxStreamLength` equal to `maxLength`). The one in pieces must hand on exactly the bytes of
 * every message the other delivers, the same control frames in the same order, and end the same
 * way: the same close code on the wire and in `close`, in the same `parse` call.
 *
 * The one allowed difference (RFC 7692 §6.2 leaves it to the reader when to inflate): a compressed
 * message whose DEFLATE data is bad, or inflates past the limit, fails as soon as a piece shows it
 * when taken in pieces, and at its end when taken whole; the code is the same, and what the whole
 * reader sees in between can only be control frames, then the same failure at the message's end
 * (or another end that comes first inside the message: a broken frame, the peer's close frame; or
 * none, if the bytes stop before the message ends).
 */
import fc from "fast-check";
import { Driver } from "../../lib/driver";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { Driver as AnyDriver } from "../../lib/types";
import { fuzzParameters, mutate, mutation, splitBy, splits } from "../fuzz/arbitraries";
import { CollectingIO, concat, readFrames, requestKey, upgradeRequest, upgradeResponse, utf8 } from "../support/wire";
import type { Setup } from "./peers";
import { type Stream, stream, wireBytes } from "./streams";

/** What a reader concluded, and in which `parse` call (the handshake is call -1). */
type Conclusion = [kind: string, detail: string | number, call: number];

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/** A driver opened by a real handshake, as in peers.ts, in the given receive mode. */
function opened(setup: Setup, receive: "whole" | "stream"): { driver: AnyDriver; io: CollectingIO } {
  const io = new CollectingIO();
  const options = { maxLength: setup.maxPayload, maxStreamLength: setup.maxPayload, receive };
  const extensions: Record<string, string> = setup.deflate ? { "Sec-WebSocket-Extensions": "permessage-deflate" } : {};
  let driver: AnyDriver;
  if (setup.role === "server") {
    const server = Driver.server(io, options);
    if (setup.deflate) server.addExtension(deflate());
    server.on("connect", () => server.start());
    server.parse(utf8(upgradeRequest(extensions)));
    driver = server;
  } else {
    const client = Driver.client("ws://example.com/chat", io, options);
    if (setup.deflate) client.addExtension(deflate());
    client.start();
    client.parse(utf8(upgradeResponse(requestKey(io.text()), setup.deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "")));
    driver = client;
  }
  if (driver.readyState !== 1) throw new Error(`the handshake did not open the ${setup.role} driver`);
  io.take();
  return { driver, io };
}

/** Reads `pieces` in one mode; every message becomes ["text" | "binary", base64 of its bytes, call]. */
function run(setup: Setup, pieces: Uint8Array[], receive: "whole" | "stream"): Conclusion[] {
  const { driver, io } = opened(setup, receive);
  const out: Conclusion[] = [];
  let call = -1;
  let kind = "";
  let parts: Uint8Array[] = [];
  let failed = false;
  driver.on("message", ({ data }) => out.push(typeof data === "string" ? ["text", base64(utf8(data)), call] : ["binary", base64(data), call]));
  driver.on("messagestart", ({ type }) => {
    kind = type;
    parts = [];
  });
  // Pieces may be views of the input or of the inflater's output: copied, as a consumer would.
  driver.on("messagedata", ({ data }) => parts.push(data.slice()));
  driver.on("messageend", ({ error }) => {
    if (error === null) out.push([kind, base64(concat(...parts)), call]);
  });
  driver.on("ping", ({ data }) => out.push(["ping", base64(data), call]));
  driver.on("pong", ({ data }) => out.push(["pong", base64(data), call]));
  driver.on("error", (error) => {
    failed = true;
    out.push(["fail", (error as Error & { code: number }).code, call]);
  });
  driver.on("close", ({ code }) => out.push([failed ? "closed after failing" : "close", code, call]));
  for (call = 0; call < pieces.length; call++) driver.parse(pieces[call]);
  // The close frame written, if any: its code.
  const close = readFrames(io.all()).find((f) => f.opcode === 8);
  if (close !== undefined) out.push(["close frame", close.payload.length >= 2 ? (close.payload[0] << 8) | close.payload[1] : 1005, -2]);
  return out;
}

/** Null when the two agree (see the file's comment), or how they part. */
function disagreement(whole: Conclusion[], inPieces: Conclusion[], deflate: boolean): string | null {
  const same = (a: Conclusion, b: Conclusion): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  let k = 0;
  while (k < whole.length && k < inPieces.length && same(whole[k], inPieces[k])) k++;
  if (k === whole.length && k === inPieces.length) return null;
  const wholeRest = whole.slice(k), piecesRest = inPieces.slice(k);
  if (deflate && piecesRest.length >= 1 && piecesRest[0][0] === "fail" && (piecesRest[0][1] === 1007 || piecesRest[0][1] === 1009)) {
    // Failed earlier, inside a compressed message: the whole reader saw control frames, then the same failure.
    let j = 0;
    while (j < wholeRest.length && (wholeRest[j][0] === "ping" || wholeRest[j][0] === "pong")) j++;
    const wholeFail = wholeRest[j];
    const rest = (c: Conclusion[]): string => JSON.stringify(c.map(([a, b]) => [a, b]));
    // The bytes stop before that message ends: the whole reader never judges it.
    if (wholeFail === undefined) return null;
    // The whole reader reads on inside the message, to the same failure at its end, or to another
    // end first (a broken frame, the peer's close frame), after which nothing more is read.
    if ((wholeFail[0] === "fail" || wholeFail[0] === "close") && wholeFail[2] >= piecesRest[0][2]) {
      if (wholeFail[0] !== "fail" || wholeFail[1] !== piecesRest[0][1]) return null;
      if (rest(wholeRest.slice(j + 1)) === rest(piecesRest.slice(1))) return null;
    }
  }
  return `they part after ${k} conclusions: whole ${JSON.stringify(wholeRest)}, in pieces ${JSON.stringify(piecesRest)}`;
}

function compare(setup: Setup, s: Stream, cuts: number[] | "every-byte", damage?: Array<{ kind: string; at: number; value: number }>): void {
  let data = wireBytes(s, setup.role === "server");
  if (damage !== undefined) data = mutate(data, damage);
  const whole = run(setup, splitBy(data, cuts), "whole");
  const inPieces = run(setup, splitBy(data, cuts), "stream");
  const problem = disagreement(whole, inPieces, setup.deflate);
  if (problem !== null) throw new Error(problem);
}

const configurations: Array<{ name: string; setup: (max: number) => Setup }> = [
  { name: "server", setup: (maxPayload) => ({ role: "server", maxPayload, deflate: false }) },
  { name: "client", setup: (maxPayload) => ({ role: "client", maxPayload, deflate: false }) },
  { name: "server with permessage-deflate", setup: (maxPayload) => ({ role: "server", maxPayload, deflate: true }) },
  { name: "client with permessage-deflate", setup: (maxPayload) => ({ role: "client", maxPayload, deflate: true }) },
];

const maxPayload = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(70000));

describe("differential: messages taken in pieces are the messages taken whole", () => {
  for (const { name, setup } of configurations) {
    test(name, () => {
      fc.assert(fc.property(
        maxPayload.chain((max) => fc.tuple(fc.constant(max), stream(max, setup(max).deflate), splits)),
        ([max, s, cuts]) => compare(setup(max), s, cuts),
      ), fuzzParameters(150));
    });

    test(`${name}, damaged at random`, () => {
      fc.assert(fc.property(
        maxPayload.chain((max) => fc.tuple(fc.constant(max), stream(max, setup(max).deflate), splits, mutation)),
        ([max, s, cuts, damage]) => compare(setup(max), s, cuts, damage),
      ), fuzzParameters(150));
    });
  }
});
