import { Driver } from "../../lib/driver";
import type { ClientDriver } from "../../lib/types";
import {
  CollectingIO, bytes, clientFrame, closeFrameOf, concat, frame, openServer, readFrames, record, requestKey, upgradeRequest,
  upgradeResponse, utf8,
} from "../support/wire";

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

describe("the opening handshake with drivers wired to each other in memory", () => {
  /** A client and a server driver whose writes the other reads at once, inside the write. */
  function wiredPair() {
    const server = Driver.server({ write: (chunk) => client.parse(Uint8Array.from(chunk)) });
    const client: ClientDriver = Driver.client("ws://localhost/", { write: (chunk) => server.parse(Uint8Array.from(chunk)) });
    server.on("connect", () => server.start());
    return { server, client };
  }

  it("emits open before the messages that answer what was queued before it", () => {
    const { server, client } = wiredPair();
    server.on("message", ({ data }) => server.text(`echo ${String(data)}`));
    const seen: string[] = [];
    client.on("open", () => seen.push("open"));
    client.on("message", ({ data }) => seen.push(String(data)));
    client.text("queued");
    client.start();
    client.text("after open");
    expect(seen).toEqual(["open", "echo queued", "echo after open"]);
  });

  it("emits open before the message a peer answers a queued one with inside the write", () => {
    let request = "";
    const client: ClientDriver = Driver.client("ws://example.com/", {
      write: (chunk) => {
        // The first write is the handshake request; the peer answers each frame at once.
        if (request === "") request = new TextDecoder().decode(chunk);
        else client.parse(frame({ opcode: 1, payload: "answer" }));
      },
    });
    const seen: string[] = [];
    client.on("open", () => seen.push("open"));
    client.on("message", ({ data }) => seen.push(String(data)));
    client.text("queued");
    client.start();
    client.parse(utf8(upgradeResponse(requestKey(request))));
    expect(seen).toEqual(["open", "answer"]);
  });

  it("reads frames that came with the 101 response before those an open handler's sends bring back", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io);
    const seen: unknown[] = [];
    client.on("message", ({ data }) => seen.push(data));
    // The server answers at once, inside the write.
    client.on("open", () => client.parse(frame({ opcode: 1, payload: "answer" })));
    client.start();
    const key = requestKey(io.text());
    client.parse(concat(utf8(upgradeResponse(key)), frame({ opcode: 1, payload: "greeting" })));
    expect(seen).toEqual(["greeting", "answer"]);
  });

  it("reads frames that came before start() before those an open handler's sends bring back", () => {
    const io = new CollectingIO();
    const server = Driver.server(io);
    const seen: unknown[] = [];
    server.on("message", ({ data }) => seen.push(data));
    server.on("open", () => server.parse(text("answer")));
    server.parse(concat(utf8(upgradeRequest()), text("early")));
    server.start();
    expect(seen).toEqual(["early", "answer"]);
  });
});

// A transport may find itself closed while the driver writes to it, and say so at once with `end()`.
describe("end() called from inside a write while the connection opens", () => {
  it("server: the transport ends while the 101 response is written: close (1006), and no open", () => {
    let writes = 0;
    const server = Driver.server({ write: () => { if (writes++ === 0) server.end(); } });
    const events = record(server);
    server.on("connect", () => server.start());
    server.parse(utf8(upgradeRequest()));
    expect(events).toEqual([["connect", {}], ["close", { code: 1006, reason: "" }]]);
    expect(server.readyState).toBe(3);
    expect(server.text("late")).toBe(false);
  });

  it("client: the transport ends while a queued message is written: close (1006), and no open", () => {
    let request = "";
    const client: ClientDriver = Driver.client("ws://example.com/", {
      write: (chunk) => {
        if (request === "") request = new TextDecoder().decode(chunk);
        else client.end();
      },
    });
    const events = record(client);
    client.text("queued");
    client.start();
    client.parse(concat(utf8(upgradeResponse(requestKey(request))), frame({ opcode: 1, payload: "came with the 101" })));
    expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
    expect(client.readyState).toBe(3);
  });
});
