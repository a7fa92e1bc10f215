import { Driver } from "../../lib/driver";
import type { Extension } from "../../lib/extensions/extension";
import { deflate } from "../../lib/extensions/permessage-deflate";
import { CollectingIO, record, upgradeRequest, utf8 } from "../support/wire";

/**
 * `Driver.server` before the request has been read: calls are kept and made on the version driver
 * once it exists, but what they answer, and what `close()` does, must be what the docs say of a
 * driver that is connecting.
 */
describe("Driver.server: setHeader before the request is read", () => {
  it("returns false at once for a name or value that would break the head, as once it is read", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    expect(driver.setHeader("X-Evil", "a\r\nSet-Cookie: x=1")).toBe(false);
    expect(driver.setHeader("Bad Name", "x")).toBe(false);
    expect(driver.setHeader("X-Nul", "a\0b")).toBe(false);
    expect(driver.setHeader("X-Fine", "yes")).toBe(true);
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest()));
    const response = io.text();
    expect(response).toMatch(/^HTTP\/1\.1 101 /);
    expect(response).toContain("X-Fine: yes\r\n");
    expect(response).not.toContain("Set-Cookie");
  });
});

describe("Driver.server: close() before the request is read", () => {
  it("closes at once, as a connecting driver does: close fires, readyState is 3, nothing is read after", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const events = record(driver);
    expect(driver.close("going away", 1001)).toBe(true);
    expect(driver.readyState).toBe(3);
    expect(events).toEqual([["close", { code: 1001, reason: "going away" }]]);
    // A request that arrives afterwards is not read: no connect, no second close, nothing written.
    driver.parse(utf8(upgradeRequest()));
    expect(events).toHaveLength(1);
    expect(io.chunks).toHaveLength(0);
    expect(driver.start()).toBe(false);
    expect(driver.close()).toBe(false);
  });

  it("closes with 1000 and no reason by default", () => {
    const driver = Driver.server(new CollectingIO());
    const events = record(driver);
    driver.close();
    expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
  });
});

describe("Driver.server: ping and pong before the request is read (RFC 6455 §5.5)", () => {
  it("returns false at once for a payload over 125 bytes, as once it is read, and sends nothing", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    let ponged = false;
    expect(driver.ping(new Uint8Array(126), () => { ponged = true; })).toBe(false);
    expect(driver.ping("é".repeat(63))).toBe(false); // 126 bytes of UTF-8
    expect(driver.pong(new ArrayBuffer(126))).toBe(false);
    expect(driver.ping(new Uint8Array(125))).toBe(true);
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest()));
    const sent = io.all();
    // The 101, then the one ping of 125 bytes: 0x89, length 125, its payload.
    const head = io.text().indexOf("\r\n\r\n") + 4;
    expect(Array.from(sent.subarray(head, head + 2))).toEqual([0x89, 125]);
    expect(sent.length).toBe(head + 2 + 125);
    expect(ponged).toBe(false);
  });
});

describe("Driver.server: addExtension before the request is read", () => {
  /** An extension that is never negotiated here: only its name and bits are looked at. */
  const named = (name: string, rsv = 0x40): Extension => ({
    name, rsv, offer: () => [], respond: () => null, activate: () => { throw new Error("not negotiated here"); },
  });

  it("returns false at once for a second extension of the same name, as once it is read", () => {
    const driver = Driver.server(new CollectingIO());
    expect(driver.addExtension(deflate())).toBe(true);
    expect(driver.addExtension(deflate())).toBe(false);
  });

  it("throws at once for a name that is not a token or bits outside RSV1-3, not later out of parse()", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    expect(() => driver.addExtension(named("bad name"))).toThrow(TypeError);
    expect(() => driver.addExtension(named("x-bits", 0x80))).toThrow(RangeError);
    const events = record(driver);
    driver.on("connect", () => driver.start());
    expect(() => driver.parse(utf8(upgradeRequest()))).not.toThrow();
    expect(io.text()).toMatch(/^HTTP\/1\.1 101 /);
    expect(events.map(([type]) => type)).toEqual(["connect", "open"]);
  });

  it("returns false at once after start(), as once it is read", () => {
    const driver = Driver.server(new CollectingIO());
    expect(driver.start()).toBe(true);
    expect(driver.addExtension(deflate())).toBe(false);
  });
});
