import { ProtocolError } from "../../lib/errors";
import { isValidCloseCode } from "../../lib/hybi/close";
import { closePayload } from "../../lib/testing";
import { bytes, clientFrame, closeFrameOf, concat, frame, openClient, openServer, readFrames } from "../support/wire";

describe("RFC 6455 §7.4: which close codes a peer may send", () => {
  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  const invalid = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

  it("sorts every code from 0 to 5000", () => {
    const accepted = [];
    for (let code = 0; code <= 5000; code++) if (isValidCloseCode(code)) accepted.push(code);
    // 1000–1003, 1007–1014, 3000–4999.
    expect(accepted.length).toBe(4 + 8 + 2000);
    for (const code of valid) expect(isValidCloseCode(code)).toBe(true);
    for (const code of invalid) expect(isValidCloseCode(code)).toBe(false);
  });

  for (const code of valid) {
    it(`echoes a close with code ${code} and reports it`, () => {
      const { driver, events, io } = openServer();
      driver.parse(clientFrame({ opcode: 8, payload: closePayload(code, "bye") }));
      expect(events).toEqual([["close", { code, reason: "bye" }]]);
      expect(closeFrameOf(io.take())).toEqual({ code, reason: "" });
      expect(driver.readyState).toBe(3);
    });
  }

  for (const code of invalid) {
    it(`fails a close with code ${code} with 1002`, () => {
      const { driver, events, io } = openServer();
      driver.parse(clientFrame({ opcode: 8, payload: closePayload(code) }));
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
      expect((events[0][1] as ProtocolError).message).toBe(`Invalid close code ${code}`);
      expect(closeFrameOf(io.take())?.code).toBe(1002);
    });
  }
});

describe("RFC 6455 §5.5.1: the close frame's payload", () => {
  it("reports an empty close as 1005 and answers with an empty close", () => {
    const { driver, events, io } = openServer();
    driver.parse(clientFrame({ opcode: 8 }));
    expect(events).toEqual([["close", { code: 1005, reason: "" }]]);
    const [answer] = readFrames(io.take());
    expect(answer).toMatchObject({ opcode: 8, payload: new Uint8Array(0) });
  });

  it("fails a 1-byte payload with 1002", () => {
    const { driver, events, io } = openServer();
    driver.parse(clientFrame({ opcode: 8, payload: bytes(0x03) }));
    expect((events[0][1] as ProtocolError).message).toMatch(/1-byte payload/);
    expect(closeFrameOf(io.take())?.code).toBe(1002);
  });

  it("accepts a 123-byte reason", () => {
    const { driver, events } = openServer();
    const reason = "r".repeat(123);
    driver.parse(clientFrame({ opcode: 8, payload: closePayload(1000, reason) }));
    expect(events).toEqual([["close", { code: 1000, reason }]]);
  });

  it("fails a reason that is not UTF-8 with 1007", () => {
    const { driver, events, io } = openServer();
    driver.parse(clientFrame({ opcode: 8, payload: concat(bytes(0x03, 0xe8), bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80)) }));
    expect((events[0][1] as ProtocolError).code).toBe(1007);
    expect(closeFrameOf(io.take())?.code).toBe(1007);
  });
});

describe("RFC 6455 §7: the closing handshake in every order", () => {
  it("we close first: close frame, readyState 2, then close when the peer answers", () => {
    const { driver, events, io } = openServer();
    expect(driver.close("done", 4000)).toBe(true);
    expect(driver.readyState).toBe(2);
    expect(closeFrameOf(io.take())).toEqual({ code: 4000, reason: "done" });
    expect(events).toEqual([]);
    driver.parse(clientFrame({ opcode: 8, payload: closePayload(4000) }));
    expect(events).toEqual([["close", { code: 4000, reason: "" }]]);
    expect(driver.readyState).toBe(3);
    expect(io.chunks).toHaveLength(0); // no second close frame
  });

  it("close() defaults to 1000 with no reason", () => {
    const { driver, io } = openClient();
    driver.close();
    expect(closeFrameOf(io.take())).toEqual({ code: 1000, reason: "" });
  });

  it("the peer closes first: we answer, then report close", () => {
    const { driver, events, io } = openClient();
    driver.parse(frame({ opcode: 8, payload: closePayload(1001, "going") }));
    expect(events).toEqual([["close", { code: 1001, reason: "going" }]]);
    expect(closeFrameOf(io.take())?.code).toBe(1001);
    expect(driver.close()).toBe(false);
  });

  it("both close at once: each sends one close frame and both report close", () => {
    const server = openServer();
    const client = openClient();
    server.driver.close("s", 1000);
    client.driver.close("c", 1000);
    const fromServer = server.io.take();
    const fromClient = client.io.take();
    server.driver.parse(fromClient);
    client.driver.parse(fromServer);
    expect(server.events).toEqual([["close", { code: 1000, reason: "c" }]]);
    expect(client.events).toEqual([["close", { code: 1000, reason: "s" }]]);
    expect(server.io.chunks).toHaveLength(0);
    expect(client.io.chunks).toHaveLength(0);
  });

  it("keeps delivering messages between our close and the peer's", () => {
    const { driver, events } = openServer();
    driver.close();
    driver.parse(concat(clientFrame({ opcode: 1, payload: "in flight" }), clientFrame({ opcode: 8, payload: closePayload(1000) })));
    expect(events).toEqual([["message", { data: "in flight" }], ["close", { code: 1000, reason: "" }]]);
  });

  it("does not answer pings after sending close", () => {
    const { driver, io } = openServer();
    driver.close();
    io.take();
    driver.parse(clientFrame({ opcode: 9, payload: "late" }));
    expect(io.chunks).toHaveLength(0);
  });

  it("ignores data after a close frame", () => {
    const { driver, events } = openServer();
    driver.parse(concat(clientFrame({ opcode: 8, payload: closePayload(1000) }), clientFrame({ opcode: 1, payload: "ignored" })));
    driver.parse(clientFrame({ opcode: 1, payload: "ignored too" }));
    expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
  });

  it("drops a fragmented message cut short by a close", () => {
    const { driver, events } = openServer();
    driver.parse(concat(clientFrame({ opcode: 1, fin: false, payload: "half" }), clientFrame({ opcode: 8, payload: closePayload(1000) })));
    expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
  });

  it("sends nothing after close: text, binary, ping, pong and close return false", () => {
    const { driver, io } = openServer();
    driver.close();
    io.take();
    expect(driver.text("x")).toBe(false);
    expect(driver.binary(bytes(1))).toBe(false);
    expect(driver.ping()).toBe(false);
    expect(driver.pong()).toBe(false);
    expect(driver.close()).toBe(false);
    expect(io.chunks).toHaveLength(0);
  });

  it("refuses to send a code that may not be sent, or a reason over 123 bytes", () => {
    const { driver, io } = openServer();
    expect(driver.close("", 1005)).toBe(false);
    expect(driver.close("", 999)).toBe(false);
    expect(driver.close("x".repeat(124))).toBe(false);
    expect(io.chunks).toHaveLength(0);
    expect(driver.readyState).toBe(1);
    expect(driver.close("é".repeat(61))).toBe(true); // 122 bytes
  });

  // A code is two bytes on the wire: NaN went out as 0, 1004.5 as the reserved 1004, 1005.5 as 1005.
  for (const code of [NaN, Infinity, -Infinity, 1000.5, 1004.5, 1005.5, 1006.5, 3000.5]) {
    it(`refuses to send the code ${code}, which is not a whole number, and sends nothing`, () => {
      const { driver, io } = openServer();
      expect(isValidCloseCode(code)).toBe(false);
      expect(driver.close("bye", code)).toBe(false);
      expect(io.chunks).toHaveLength(0);
      expect(driver.readyState).toBe(1);
    });
  }
});

describe("end(): the transport closed", () => {
  it("emits close 1006 when the closing handshake had not finished", () => {
    const { driver, events } = openServer();
    driver.end();
    expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
    expect(driver.readyState).toBe(3);
  });

  it("emits close 1006 after our close frame if the peer never answered", () => {
    const { driver, events } = openClient();
    driver.close();
    driver.end();
    expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
  });

  it("emits nothing more once the closing handshake finished", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 8, payload: closePayload(1000) }));
    driver.end();
    driver.end();
    expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
  });
});

describe("RFC 6455 §7.1.7: failing the connection", () => {
  it("sends one close frame with the error's code, then error and close, and reads no further", () => {
    const { driver, events, io } = openServer();
    driver.parse(concat(clientFrame({ opcode: 0, payload: "orphan" }), clientFrame({ opcode: 1, payload: "not read" })));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    const frames = readFrames(io.take());
    expect(frames).toHaveLength(1);
    expect(frames[0].opcode).toBe(8);
    expect((frames[0].payload[0] << 8) | frames[0].payload[1]).toBe(1002);
    expect(events[1][1]).toEqual({ code: 1002, reason: "Continuation frame with no message to continue" });
  });
});

// An adapter whose transport refuses a write (a socket already gone) calls `end()` from inside
// `io.write`. The connection is then closed, and its one `close` (1006) has been emitted: whatever
// the driver was writing when that happened must not emit a second one or reopen the state.
describe("end() from inside the write of our close frame", () => {
  /** Opens `side`, then makes its io call `end()` whenever a close frame (first byte 0x88) is written. */
  function endingOnCloseFrame(side: typeof openServer | typeof openClient) {
    const opened = side();
    const write = opened.io.write.bind(opened.io);
    opened.io.write = (chunk: Uint8Array) => {
      const accepted = write(chunk);
      if (chunk[0] === 0x88) opened.driver.end();
      return accepted;
    };
    return opened;
  }

  for (const [name, side] of [["server", openServer], ["client", openClient]] as const) {
    it(`${name}: close() ends with one close (1006) and readyState 3`, () => {
      const { driver, events } = endingOnCloseFrame(side);
      expect(driver.close("bye", 1000)).toBe(true);
      expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
      expect(driver.readyState).toBe(3);
    });
  }

  it("answering the peer's close frame: one close (1006)", () => {
    const { driver, events } = endingOnCloseFrame(openServer);
    driver.parse(clientFrame({ opcode: 8, payload: closePayload(1000, "done") }));
    expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
    expect(driver.readyState).toBe(3);
  });

  it("failing the connection (1002): one close (1006), nothing after it", () => {
    const { driver, events } = endingOnCloseFrame(openServer);
    driver.parse(concat(clientFrame({ opcode: 0, payload: "orphan" }), clientFrame({ opcode: 1, payload: "not read" })));
    expect(events).toEqual([["close", { code: 1006, reason: "" }]]);
    expect(driver.readyState).toBe(3);
  });
});
