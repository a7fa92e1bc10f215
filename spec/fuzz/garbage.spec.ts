/**
 * Garbage: random bytes — and valid streams with random damage — after a valid handshake, and
 * random or damaged handshake bytes. `parse` never throws and always returns, and the driver ends
 * in valid events or in exactly one `error` followed by one `close` with a defined code, after
 * which nothing more is emitted.
 */
import { constants as zlibConstants, deflateRawSync } from "node:zlib";
import fc from "fast-check";
import { Driver } from "../../lib/driver";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import type { ServerDriver } from "../../lib/types";
import { CollectingIO, type Recorded, frame, openClient, openServer, readFrames, record, upgradeRequest, upgradeResponse, requestKey, utf8 } from "../support/wire";
import { encode, fuzzParameters, maskingKey, mutate, mutation, splitBy, splits, validFrames } from "./arbitraries";

/** The codes a driver fails a connection with (RFC 6455 §7.4.1). */
const FAILURE_CODES = [1002, 1007, 1009];

/** A close code a peer may send (RFC 6455 §7.4), or 1005 for none. */
const peerCode = (code: number): boolean => code === 1005 || (code >= 3000 && code <= 4999) || [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code);

/** Checks the shape of a run's events after the handshake. */
function expectWellFormed(events: Recorded[], io: CollectingIO): void {
  const types = events.map(([type]) => type);
  const errorAt = types.indexOf("error");
  const closeAt = types.indexOf("close");
  // Nothing after close; at most one error and one close.
  if (closeAt >= 0) expect(closeAt).toBe(types.length - 1);
  expect(types.filter((t) => t === "error").length).toBeLessThanOrEqual(1);
  for (const type of types.slice(0, errorAt >= 0 ? errorAt : closeAt >= 0 ? closeAt : types.length)) {
    expect(["message", "ping", "pong"]).toContain(type);
  }
  if (errorAt >= 0) {
    // A failure: error, then close with the error's code, and a close frame carrying it on the wire.
    expect(closeAt).toBe(errorAt + 1);
    const error = events[errorAt][1] as Error & { code: number };
    expect(error.message.length).toBeGreaterThan(0);
    expect(FAILURE_CODES).toContain(error.code);
    expect((events[closeAt][1] as { code: number }).code).toBe(error.code);
    const close = readFrames(io.all()).filter((f) => f.opcode === 8);
    expect(close).toHaveLength(1);
    expect((close[0].payload[0] << 8) | close[0].payload[1]).toBe(error.code);
  } else if (closeAt >= 0) {
    // The peer closed: its code (or 1005), answered with one close frame.
    expect(peerCode((events[closeAt][1] as { code: number }).code)).toBe(true);
    expect(readFrames(io.all()).filter((f) => f.opcode === 8)).toHaveLength(1);
  }
}

/** Hands over every piece; `parse` must not throw on any of them. */
const feed = (driver: { parse(b: Uint8Array): void }, pieces: Uint8Array[]): void => {
  const thrown: unknown[] = [];
  for (const piece of pieces) {
    try {
      driver.parse(piece);
    } catch (error) {
      thrown.push(error);
    }
  }
  expect(thrown).toEqual([]);
};

describe("garbage after a valid handshake", () => {
  for (const [side, open, masked] of [["server", openServer, true], ["client", openClient, false]] as const) {
    test(`${side}: random bytes`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), splits, (data, cuts) => {
        const { driver, io, events } = open();
        feed(driver, splitBy(data, cuts));
        expectWellFormed(events, io);
      }), fuzzParameters(150));
    });

    test(`${side}: random bytes that start like a frame header`, () => {
      // A plausible first byte and the mask bit the side expects, so the parser reads further in.
      const header = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 127 }))
        .map(([b0, b1]) => Uint8Array.of(b0, (masked ? 0x80 : 0) | b1));
      fc.assert(fc.property(fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 140 })), { minLength: 1, maxLength: 6 }), splits, (parts, cuts) => {
        const data = new Uint8Array(parts.flatMap(([h, body]) => [...h, ...body]));
        const { driver, io, events } = open();
        feed(driver, splitBy(data, cuts));
        expectWellFormed(events, io);
      }), fuzzParameters(150));
    });

    test(`${side}: valid frames with random damage`, () => {
      fc.assert(fc.property(validFrames(masked), mutation, splits, (frames, edits, cuts) => {
        const { driver, io, events } = open();
        feed(driver, splitBy(mutate(encode(frames), edits), cuts));
        expectWellFormed(events, io);
      }), fuzzParameters(60));
    });
  }
});

describe("garbage in the opening handshake", () => {
  /** Handshake outcomes: nothing yet (partial), or a request/response read, or one error and one close. */
  function expectHandshakeOutcome(events: Recorded[]): void {
    const types = events.map(([type]) => type);
    const errorAt = types.indexOf("error");
    if (errorAt < 0) {
      for (const type of types) expect(["connect", "open", "message", "ping", "pong", "close"]).toContain(type);
      return;
    }
    expect(types.slice(errorAt)).toEqual(["error", "close"]);
    expect((events[errorAt][1] as Error).message.length).toBeGreaterThan(0);
    expect((events[errorAt + 1][1] as { code: number }).code).toBe(1002);
  }

  test("server: random request bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), splits, (data, withEnd, cuts) => {
      const io = new CollectingIO();
      const driver = Driver.server(io, { maxHeaderSize: 256 });
      const events = record(driver);
      driver.on("connect", () => driver.start());
      // Often end the garbage with CRLFCRLF, so the head is complete and gets parsed.
      feed(driver, splitBy(withEnd ? new Uint8Array([...data, 13, 10, 13, 10]) : data, cuts));
      expectHandshakeOutcome(events);
      if (events.some(([type]) => type === "error")) expect(io.text()).toMatch(/^HTTP\/1\.1 4\d\d /);
    }), fuzzParameters(150));
  });

  test("server: a valid request with random damage", () => {
    fc.assert(fc.property(mutation, splits, (edits, cuts) => {
      const io = new CollectingIO();
      const driver = Driver.server(io);
      const events = record(driver);
      driver.on("connect", () => driver.start());
      feed(driver, splitBy(mutate(utf8(upgradeRequest()), edits), cuts));
      expectHandshakeOutcome(events);
      const response = io.text();
      if (events.some(([type]) => type === "open")) expect(response).toMatch(/^HTTP\/1\.1 101 /);
      if (events.some(([type]) => type === "error")) expect(response).toMatch(/^HTTP\/1\.1 4\d\d /);
    }), fuzzParameters(150));
  });

  test("client: random or damaged response bytes", () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutation.map((m) => m)), splits, (garbage, cuts) => {
      const io = new CollectingIO();
      const driver = Driver.client("ws://example.com/", io);
      const events = record(driver);
      driver.start();
      const valid = utf8(upgradeResponse(requestKey(io.text())));
      const data = garbage instanceof Uint8Array ? garbage : mutate(valid, garbage);
      feed(driver, splitBy(data, cuts));
      expectHandshakeOutcome(events);
    }), fuzzParameters(150));
  });
});

describe("garbage on the draft protocols", () => {
  const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
  const requests: Array<[string, Uint8Array]> = [
    ["hixie-76", latin1("GET /demo HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n" +
      "Upgrade: WebSocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nOrigin: http://example.com\r\n\r\n^n:ds[4U")],
    ["hixie-75", latin1("GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: example.com\r\nOrigin: http://example.com\r\n\r\n")],
  ];
  /** Draft frames: text frames (valid or not), skipped typed frames, closing frames, raw bytes. */
  const draftBytes = fc.array(fc.oneof(
    fc.uint8Array({ maxLength: 20 }).map((b) => new Uint8Array([0x00, ...b.filter((x) => x !== 0xff), 0xff])),
    fc.uint8Array({ maxLength: 20 }).map((b) => new Uint8Array([0x80, b.length, ...b])),
    fc.constant(Uint8Array.of(0xff, 0x00)),
    fc.uint8Array({ maxLength: 10 }),
  ), { maxLength: 8 }).map((parts) => new Uint8Array(parts.flatMap((p) => [...p])));

  for (const [version, request] of requests) {
    test(`${version}: random frames never throw, and end in messages or one error and one close`, () => {
      fc.assert(fc.property(draftBytes, splits, (data, cuts) => {
        const io = new CollectingIO();
        const driver = Driver.server(io, { allowDrafts: true, maxLength: 64 });
        driver.on("connect", () => driver.start());
        driver.parse(request);
        expect(driver.version).toBe(version);
        const events = record(driver);
        feed(driver, splitBy(data, cuts));
        const types = events.map(([type]) => type);
        const closeAt = types.indexOf("close");
        if (closeAt >= 0) expect(closeAt).toBe(types.length - 1);
        const errorAt = types.indexOf("error");
        if (errorAt >= 0) {
          expect(types.slice(errorAt)).toEqual(["error", "close"]);
          expect([1002, 1007, 1009]).toContain((events[errorAt][1] as { code: number }).code);
        }
        for (const type of types.slice(0, errorAt >= 0 ? errorAt : closeAt >= 0 ? closeAt : types.length)) expect(type).toBe("message");
      }), fuzzParameters(150));
    });
  }
});

describe("garbage on a permessage-deflate connection", () => {
  /** A server that has agreed permessage-deflate; its handshake output is discarded. */
  function openDeflateServer(options: DeflateOptions = {}): { driver: ServerDriver; io: CollectingIO; events: Recorded[] } {
    const io = new CollectingIO();
    const driver = Driver.server(io, { maxLength: 4096 });
    driver.addExtension(deflate(options));
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest({ "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" })));
    expect(io.text()).toMatch(/Sec-WebSocket-Extensions: permessage-deflate/);
    io.take();
    return { driver, io, events: record(driver) };
  }

  /** Masked frames with RSV1 set (or not) and random or truly compressed payloads. */
  const deflateFrames = fc.array(fc.record({
    opcode: fc.constantFrom(0x0, 0x1, 0x2, 0x9),
    fin: fc.boolean(),
    rsv1: fc.boolean(),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      fc.uint8Array({ maxLength: 3000 }).map((b) => {
        const out = deflateRawSync(b, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
        return new Uint8Array(out.subarray(0, out.length - 4));
      }),
    ),
    key: maskingKey,
  }), { maxLength: 6 }).map((frames) => new Uint8Array(frames.flatMap((f) =>
    [...frame({ opcode: f.opcode, fin: f.opcode === 0x9 ? true : f.fin, rsv: f.rsv1 ? 0x40 : 0, payload: f.payload, mask: f.key })])));

  test("random RSV1 frames and random or real DEFLATE data never throw, and end well-formed", () => {
    fc.assert(fc.property(deflateFrames, splits, (data, cuts) => {
      const { driver, io, events } = openDeflateServer();
      feed(driver, splitBy(data, cuts));
      expectWellFormed(events, io);
    }), fuzzParameters(60));
  });

  /** A server and a client of ours with `deflate(options)`, joined in memory, and what each read. */
  function openPair(options: DeflateOptions): { server: ServerDriver; client: ReturnType<typeof Driver.client>; atServer: unknown[]; atClient: unknown[] } {
    const atServer: unknown[] = [], atClient: unknown[] = [];
    const server = Driver.server({ write: (chunk) => client.parse(chunk.slice()) }, { maxLength: 4096 });
    const client = Driver.client("ws://127.0.0.1/", { write: (chunk) => server.parse(chunk.slice()) });
    server.addExtension(deflate(options));
    client.addExtension(deflate(options));
    server.on("connect", () => server.start());
    server.on("message", ({ data }) => atServer.push(data));
    client.on("message", ({ data }) => atClient.push(data));
    client.start();
    return { server, client, atServer, atClient };
  }

  // Shared streams (lib/extensions/contexts.ts): with room for one live stream each way, or with
  // no context at all, the garbage connection and the good one take turns on the same streams.
  test("garbage on one connection never reaches another connection that shares its streams", () => {
    const texts = fc.array(fc.string({ maxLength: 200 }), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(deflateFrames, splits, texts, fc.boolean(), (data, cuts, messages, noContext) => {
      const options: DeflateOptions = noContext
        ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : { liveContexts: 1 };
      const bad = openDeflateServer(options);
      const good = openPair(options);
      const pieces = splitBy(data, cuts);
      const step = Math.max(1, Math.ceil(pieces.length / messages.length));
      messages.forEach((text, i) => {
        feed(bad.driver, pieces.slice(i * step, (i + 1) * step));
        good.client.text(text.repeat(3));
        good.server.text(text);
      });
      feed(bad.driver, pieces.slice(messages.length * step));
      expectWellFormed(bad.events, bad.io);
      expect(good.atServer).toEqual(messages.map((text) => text.repeat(3)));
      expect(good.atClient).toEqual(messages);
    }), fuzzParameters(60));
  });
});
