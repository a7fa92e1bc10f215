import { bytes, clientFrame, closeFrameOf, concat, openServer, readFrames } from "../support/wire";

const text = (payload: string, fin = true) => clientFrame({ opcode: 1, fin, payload });
const continuation = (payload: string, fin = true) => clientFrame({ opcode: 0, fin, payload });
const ping = (payload = "") => clientFrame({ opcode: 9, payload });
const close = (code: number) => clientFrame({ opcode: 8, payload: bytes(code >>> 8, code & 0xff) });

/** The messages, closes and errors a driver emitted, in order. */
function summary(events: ReturnType<typeof openServer>["events"]): unknown[] {
  return events.map(([type, event]) => {
    if (type === "message") return ["message", event.data];
    if (type === "error") return ["error", event.message];
    if (type === "close") return ["close", event.code];
    return [type];
  });
}

// Bytes handed to `parse` follow the bytes handed to it before. A handler that calls `parse` while
// a chunk is being read (as two drivers wired to each other in memory do: a pong written by one is
// read by the other at once, whose handler may send back) hands over bytes that come after the
// rest of that chunk.
describe("parse() called from an event handler: its bytes follow the chunk being read", () => {
  it("reads a frame cut between the chunk and the bytes a ping handler hands over", () => {
    const { driver, events } = openServer();
    const long = text("bbbb");
    driver.on("ping", () => driver.parse(concat(long.subarray(3), text("x"))));
    driver.parse(concat(ping(), text("a"), long.subarray(0, 3)));
    expect(summary(events)).toEqual([["ping"], ["message", "a"], ["message", "bbbb"], ["message", "x"]]);
    expect(driver.readyState).toBe(1);
  });

  it("delivers the messages of a nested parse after the rest of the chunk", () => {
    const { driver, events } = openServer();
    let nested = false;
    driver.on("message", () => {
      if (nested) return;
      nested = true;
      driver.parse(text("third"));
    });
    driver.parse(concat(text("first"), text("second")));
    expect(summary(events)).toEqual([["message", "first"], ["message", "second"], ["message", "third"]]);
  });

  it("reads nothing after a close frame in the chunk, not even what a handler handed over before it (RFC 6455 §5.5.1)", () => {
    const { driver, events, io } = openServer();
    driver.on("message", ({ data }) => {
      if (data === "first") driver.parse(text("nested"));
    });
    driver.parse(concat(text("first"), close(1000), text("after close")));
    expect(summary(events)).toEqual([["message", "first"], ["close", 1000]]);
    expect(closeFrameOf(io.take())).toEqual({ code: 1000, reason: "" });
    expect(driver.readyState).toBe(3);
  });

  it("reads the rest of a message fragmented around a nested parse", () => {
    const { driver, events } = openServer();
    driver.on("ping", () => driver.parse(concat(continuation("lo"), text("next"))));
    driver.parse(concat(text("he", false), ping("p"), continuation("l", false)));
    expect(summary(events)).toEqual([["ping"], ["message", "hello"], ["message", "next"]]);
  });

  it("reads the next chunk after a handler threw out of parse()", () => {
    const { driver, events } = openServer();
    let thrown = false;
    driver.on("message", () => {
      if (thrown) return;
      thrown = true;
      throw new Error("handler failed");
    });
    expect(() => driver.parse(text("first"))).toThrow("handler failed");
    driver.parse(text("second"));
    expect(summary(events)).toEqual([["message", "first"], ["message", "second"]]);
  });
});

describe("close() and end() called from an event handler", () => {
  it("close() in a message handler: the rest of the chunk is still read, pings there are not answered (RFC 6455 §5.5.1)", () => {
    const { driver, events, io } = openServer();
    driver.on("message", ({ data }) => {
      if (data === "first") driver.close("bye", 1000);
    });
    driver.parse(concat(text("first"), ping("p"), text("second"), close(1000)));
    expect(summary(events)).toEqual([["message", "first"], ["ping"], ["message", "second"], ["close", 1000]]);
    expect(readFrames(io.take()).map((f) => f.opcode)).toEqual([8]);
  });

  it("end() in a message handler: nothing more of the chunk is read", () => {
    const { driver, events, io } = openServer();
    driver.on("message", () => driver.end());
    driver.parse(concat(text("first"), ping("p"), text("second")));
    expect(summary(events)).toEqual([["message", "first"], ["close", 1006]]);
    expect(io.chunks).toHaveLength(0);
  });
});
