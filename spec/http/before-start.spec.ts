/**
 * What a server holds of a peer's bytes before `start()` answers the handshake (while the embedder
 * authenticates the request, say): 64 KiB of frames, or `maxLength` if smaller, plus a header.
 * RFC 6455 §4.1: a client "MUST wait for a response from the server before sending any further
 * data", so only a peer that breaks that rule comes near it.
 */
import { Driver } from "../../lib/driver";
import { MAX_EARLY_BYTES } from "../../lib/options";
import type { ServerOptions } from "../../lib/options";
import { DRAFT75_REQUEST, latin1 } from "../hixie/support";
import { CollectingIO, clientFrame, closeFrameOf, concat, record, upgradeRequest, utf8 } from "../support/wire";

/** A server whose handler waits (start is called by the test), fed the request and then `early`. */
function waiting(request: string, early: Uint8Array, options: ServerOptions = {}) {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  const events = record(driver);
  driver.parse(concat(utf8(request), early));
  return { io, driver, events };
}

describe("RFC 6455 requests: frames that arrive before start()", () => {
  it("is 64 KiB", () => {
    expect(MAX_EARLY_BYTES).toBe(65536);
  });

  it("holds a 64 KiB message and its 8-byte header (a 64-bit length, masked: 14 bytes), and reads it once started", () => {
    const frame = clientFrame({ opcode: 2, payload: new Uint8Array(MAX_EARLY_BYTES).fill(7) });
    expect(frame.length).toBe(MAX_EARLY_BYTES + 14);
    const { driver, events } = waiting(upgradeRequest(), frame);
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    driver.start();
    expect(events.map(([type]) => type)).toEqual(["connect", "open", "message"]);
  });

  it("fails with 1009 at the byte past it, however large maxLength is, and reads nothing", () => {
    const frame = clientFrame({ opcode: 2, payload: new Uint8Array(MAX_EARLY_BYTES + 1) });
    const { io, driver, events } = waiting(upgradeRequest(), frame, { maxLength: 2 ** 30 });
    expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
    expect((events[1]![1] as Error).message).toBe("Too many bytes received before the handshake was answered");
    expect(events[2]).toEqual(["close", expect.objectContaining({ code: 1009 })]);
    expect(driver.start()).toBe(false);
    expect(io.text()).not.toMatch(/^HTTP\/1\.1 101/);
  });

  it("is maxLength plus 14 bytes when maxLength is smaller", () => {
    // A 100-byte frame has a 6-byte header: 106 bytes, then 8 more make 114, and 9 one too many.
    const frame = clientFrame({ opcode: 1, payload: utf8("x".repeat(100)) });
    const fits = waiting(upgradeRequest(), concat(frame, new Uint8Array(8)), { maxLength: 100 });
    expect(fits.events.map(([type]) => type)).toEqual(["connect"]);
    const over = waiting(upgradeRequest(), concat(frame, new Uint8Array(9)), { maxLength: 100 });
    expect(over.events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
  });

  it("counts bytes across chunks, a trickle included", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const events = record(driver);
    driver.parse(utf8(upgradeRequest()));
    const chunk = new Uint8Array(1024);
    for (let i = 0; i < 64; i++) driver.parse(chunk);
    for (let i = 0; i < 14; i++) driver.parse(chunk.subarray(0, 1));
    expect(events.map(([type]) => type)).toEqual(["connect"]);
    driver.parse(chunk.subarray(0, 1));
    expect(events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
    expect(closeFrameOf(io.all())).toBeNull();
  });
});

describe("draft-hixie-75 requests: frames that arrive before start()", () => {
  it("holds 64 KiB and a frame's two framing bytes, and fails with 1009 past them", () => {
    const text = (length: number): Uint8Array => concat(Uint8Array.of(0x00), latin1("a".repeat(length)), Uint8Array.of(0xff));
    const fits = waiting(DRAFT75_REQUEST, text(MAX_EARLY_BYTES), { allowDrafts: true, maxLength: 2 ** 30 });
    expect(fits.events.map(([type]) => type)).toEqual(["connect"]);
    fits.driver.start();
    expect(fits.events.map(([type]) => type)).toEqual(["connect", "open", "message"]);
    const over = waiting(DRAFT75_REQUEST, text(MAX_EARLY_BYTES + 1), { allowDrafts: true, maxLength: 2 ** 30 });
    expect(over.events.map(([type]) => type)).toEqual(["connect", "error", "close"]);
    expect(over.events[2]).toEqual(["close", expect.objectContaining({ code: 1009 })]);
  });
});
