/**
 * The reference: the same peer and the same expectations, run against the `ws` package's server.
 * The matrix means to hold wsdriver to the standard `ws` meets, so the expectations must be ones
 * `ws` passes too; this group runs a cross-section of every other group against it (what can be
 * checked from the wire: `ws` has no driver events to look into). `ws` waits for the closing
 * handshake to finish before it closes the connection, so here the peer ends its side once a close
 * frame has come in.
 */
import { bytes, clientFrame, concat } from "../support/wire";
import { BINARY, CONTINUATION, NORMAL_CLOSE, PING, PONG, TEXT, clientClose, exchange, expectBeforeClose, expectClosedWith, stars } from "./cases";
import { type EchoServer, group, startWsEchoServer } from "./peer";
import { INVALID, VALID, utf8 } from "./utf8-sequences";

let server: EchoServer;
beforeAll(async () => { server = await startWsEchoServer(); });
afterAll(() => server.close());

const run = (send: Uint8Array[]) => exchange(server, (c) => c.send(...send), true);

/** Valid close codes, as close.spec.ts lists them. */
const validCode = (code: number): boolean =>
  (code >= 3000 && code <= 4999) || [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code);

group("reference: ws", (testCase) => {
  for (const opcode of [TEXT, BINARY]) {
    for (const length of [0, 125, 126, 127, 65535, 65536, 2 ** 20]) {
      testCase(`framing: ${opcode === TEXT ? "text" : "binary"} of ${length} bytes is echoed`, async () => {
        const payload = stars(length);
        const { frames } = await run([clientFrame({ opcode, payload }), NORMAL_CLOSE]);
        expectBeforeClose(frames, [[opcode, payload]]);
        expectClosedWith(frames, 1000);
      });
    }
  }

  testCase("framing: an unmasked client frame fails with 1002", async () => {
    const { frames } = await run([clientFrame({ opcode: TEXT, payload: "x", mask: false })]);
    expectClosedWith(frames, 1002);
  });

  for (const payload of [new Uint8Array(0), utf8("Hello, world!"), stars(125)]) {
    testCase(`ping-pong: a ping of ${payload.length} bytes is answered with the same bytes`, async () => {
      const { frames } = await run([clientFrame({ opcode: PING, payload }), NORMAL_CLOSE]);
      expectBeforeClose(frames, [[PONG, payload]]);
    });
  }
  testCase("ping-pong: a 126-byte ping fails with 1002", async () => {
    expectClosedWith((await run([clientFrame({ opcode: PING, payload: stars(126) })])).frames, 1002);
  });
  testCase("ping-pong: an unsolicited pong is not answered", async () => {
    expectBeforeClose((await run([clientFrame({ opcode: PONG, payload: "x" }), NORMAL_CLOSE])).frames, []);
  });
  testCase("ping-pong: a fragmented ping fails with 1002", async () => {
    const { frames } = await run([clientFrame({ opcode: PING, fin: false, payload: "a" }), clientFrame({ opcode: CONTINUATION, payload: "b" })]);
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
  });

  for (let rsv = 1; rsv <= 7; rsv++) {
    testCase(`reserved: RSV bits 0x${(rsv << 4).toString(16)} after a good frame: echo, then 1002`, async () => {
      const { frames } = await run([clientFrame({ opcode: TEXT, payload: "ok" }), clientFrame({ opcode: TEXT, rsv: rsv << 4, payload: "x" }), clientFrame({ opcode: PING })]);
      expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
      expectClosedWith(frames, 1002);
    });
  }
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    testCase(`reserved: opcode 0x${opcode.toString(16).toUpperCase()} after a good frame: echo, then 1002`, async () => {
      const { frames } = await run([clientFrame({ opcode: TEXT, payload: "ok" }), clientFrame({ opcode }), clientFrame({ opcode: PING })]);
      expectBeforeClose(frames, [[TEXT, utf8("ok")]]);
      expectClosedWith(frames, 1002);
    });
  }

  testCase("fragmentation: 100 fragments with a ping between make one message", async () => {
    const parts = Array.from({ length: 100 }, (_, i) => clientFrame({ opcode: i === 0 ? TEXT : CONTINUATION, fin: i === 99, payload: `${i};` }));
    const { frames } = await run([parts[0], clientFrame({ opcode: PING, payload: "p" }), ...parts.slice(1), NORMAL_CLOSE]);
    expectBeforeClose(frames, [[PONG, utf8("p")], [TEXT, utf8(Array.from({ length: 100 }, (_, i) => `${i};`).join(""))]]);
  });
  testCase("fragmentation: a continuation with nothing to continue fails with 1002", async () => {
    expectClosedWith((await run([clientFrame({ opcode: CONTINUATION, payload: "x" })])).frames, 1002);
  });
  testCase("fragmentation: a new data frame inside a fragmented message fails with 1002", async () => {
    const { frames } = await run([clientFrame({ opcode: TEXT, fin: false, payload: "a" }), clientFrame({ opcode: TEXT, payload: "b" })]);
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
  });

  const byteFragments = (payload: Uint8Array): Uint8Array[] => payload.length === 0 ? [clientFrame({ opcode: TEXT, payload })]
    : Array.from(payload, (b, i) => clientFrame({ opcode: i === 0 ? TEXT : CONTINUATION, fin: i === payload.length - 1, payload: bytes(b) }));
  for (const [title, payload] of VALID) {
    testCase(`utf-8: valid, one frame and one-byte fragments: ${title} is echoed`, async () => {
      expectBeforeClose((await run([clientFrame({ opcode: TEXT, payload }), NORMAL_CLOSE])).frames, [[TEXT, payload]]);
      expectBeforeClose((await run([...byteFragments(payload), NORMAL_CLOSE])).frames, [[TEXT, payload]]);
    });
  }
  for (const [title, payload] of INVALID) {
    testCase(`utf-8: invalid, one frame and one-byte fragments: ${title} fails with 1007`, async () => {
      const one = await run([clientFrame({ opcode: TEXT, payload })]);
      expectBeforeClose(one.frames, []);
      expectClosedWith(one.frames, 1007);
      const fragmented = await run(byteFragments(payload));
      expectBeforeClose(fragmented.frames, []);
      expectClosedWith(fragmented.frames, 1007);
    });
  }

  const codes = [0, 1, 999, ...Array.from({ length: 17 }, (_, i) => 1000 + i), 1100, 2000, 2999, 3000, 3999, 4000, 4999, 5000, 65535];
  for (const code of codes) {
    testCase(`close: code ${code} is ${validCode(code) ? "echoed" : "refused with 1002"}`, async () => {
      expectClosedWith((await run([clientClose(code)])).frames, validCode(code) ? code : 1002);
    });
  }
  testCase("close: an empty close is answered with an empty close", async () => {
    expectClosedWith((await run([clientClose()])).frames, null);
  });
  testCase("close: a 1-byte payload fails with 1002", async () => {
    expectClosedWith((await run([clientFrame({ opcode: 0x8, payload: bytes(0x03) })])).frames, 1002);
  });
  testCase("close: a 123-byte reason is accepted, a 124-byte one fails with 1002", async () => {
    expectClosedWith((await run([clientClose(1000, "*".repeat(123))])).frames, 1000);
    expectClosedWith((await run([clientClose(1000, "*".repeat(124))])).frames, 1002);
  });
  testCase("close: a reason that is not UTF-8 fails with 1007", async () => {
    expectClosedWith((await run([clientClose(1000, concat(utf8("a"), bytes(0xed, 0xa0, 0x80)))])).frames, 1007);
  });
  testCase("close: data after a close is ignored", async () => {
    const { frames } = await run([NORMAL_CLOSE, clientFrame({ opcode: TEXT, payload: "late" }), clientFrame({ opcode: PING })]);
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1000);
  });
});
