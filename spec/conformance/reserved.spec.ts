/**
 * Group 3 and 4 (Autobahn 3.x, 4.x): RSV bits with no extension negotiated to define them
 * (RFC 6455 §5.2 "MUST be 0 ... the receiving endpoint MUST _Fail the WebSocket Connection_"), and
 * the reserved opcodes 0x3–0x7 and 0xB–0xF (§5.2 "MUST _Fail_"). The connection fails on the
 * frame's header, with 1002, and nothing that came after it is read.
 */
import { clientFrame, concat, utf8 } from "../support/wire";
import { BINARY, CLOSE, CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, expectBeforeClose, exchange, expectClosedWith, serverError } from "./cases";
import { type EchoServer, group, startEchoServer } from "./peer";

let server: EchoServer;
beforeAll(async () => { server = await startEchoServer(); });
afterAll(() => server.close());

const OK = clientFrame({ opcode: TEXT, payload: "ok" });
const PING_AFTER = clientFrame({ opcode: PING, payload: "must not be answered" });
const FRAME_NAMES: Record<number, string> = { [TEXT]: "text", [BINARY]: "binary", [PING]: "ping", [PONG]: "pong", [CLOSE]: "close" };

group("reserved bits and opcodes", (testCase) => {
  for (let rsv = 1; rsv <= 7; rsv++) {
    const bits = rsv << 4;
    const name = `RSV ${[rsv & 4 ? "1" : "", rsv & 2 ? "2" : "", rsv & 1 ? "3" : ""].filter(Boolean).join("+")}`;
    for (const opcode of [TEXT, BINARY, PING, PONG, CLOSE]) {
      const payload = opcode === CLOSE ? Uint8Array.of(0x03, 0xe8) : utf8("Hello");
      testCase(`${name} on a ${FRAME_NAMES[opcode]} frame: 1002 after the frame before it, nothing after it read`, async () => {
        const { frames, client } = await exchange(server, (c) => c.send(concat(OK, clientFrame({ opcode, rsv: bits, payload }), PING_AFTER, NORMAL_CLOSE)));
        expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
        expectClosedWith(frames, 1002);
        expect(serverError(client)).toMatch(/RSV/);
      });
    }
    testCase(`${name} on a continuation frame: 1002, the message is not delivered`, async () => {
      const { frames } = await exchange(server, (c) => c.send(concat(
        clientFrame({ opcode: TEXT, fin: false, payload: "frag1" }),
        clientFrame({ opcode: CONTINUATION, rsv: bits, payload: "frag2" }),
        PING_AFTER,
      )));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1002);
    });
  }

  testCase("RSV 1+2 on a text frame read one byte at a time fails on the frame's header, before its payload", async () => {
    const bad = clientFrame({ opcode: TEXT, rsv: 0x60, payload: "Hello" });
    const { frames, client } = await exchange(server, (c) => c.sendInPieces(concat(OK, bad, PING_AFTER), 1));
    expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
    expectClosedWith(frames, 1002);
    // A masked 5-byte frame has a 6-byte header: the connection fails when that header is complete.
    expect(client.errorOffset).toBe(OK.length + 6);
  });

  const reserved = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];
  for (const opcode of reserved) {
    const hex = `0x${opcode.toString(16).toUpperCase()}`;
    testCase(`reserved opcode ${hex}, empty: 1002, the frame before it echoed, nothing after it read`, async () => {
      const { frames, client } = await exchange(server, (c) => c.send(concat(OK, clientFrame({ opcode }), PING_AFTER, NORMAL_CLOSE)));
      expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
      expectClosedWith(frames, 1002);
      expect(serverError(client)).toMatch(/opcode/i);
    });

    testCase(`reserved opcode ${hex} with a payload, read one byte at a time: fails on its header`, async () => {
      const bad = clientFrame({ opcode, payload: "reserved opcode payload" });
      const { frames, client } = await exchange(server, (c) => c.sendInPieces(concat(OK, bad, PING_AFTER), 1));
      expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
      expectClosedWith(frames, 1002);
      expect(client.errorOffset).toBe(OK.length + 6);
    });

    testCase(`reserved opcode ${hex} inside a fragmented message: 1002, the message is not delivered`, async () => {
      const { frames } = await exchange(server, (c) => c.send(concat(
        clientFrame({ opcode: TEXT, fin: false, payload: "frag1" }),
        clientFrame({ opcode, payload: "x" }),
        clientFrame({ opcode: CONTINUATION, payload: "frag2" }),
      )));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1002);
    });
  }
});
