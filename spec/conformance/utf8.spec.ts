/**
 * Group 6 (Autobahn 6.x): text messages must be valid UTF-8 (RFC 6455 §5.6, §8.1, RFC 3629). Each
 * valid sequence is echoed byte for byte; each invalid one fails the connection with 1007, and
 * fails fast: at the first byte that can no longer begin valid UTF-8, even in the middle of a
 * fragmented message (§8.1, Autobahn 6.4).
 *
 * Each sequence is sent three ways: in one frame written at once, as a message of one-byte
 * fragments, and in one frame that the server reads one byte at a time.
 */
import { bytes, clientFrame, concat } from "../support/wire";
import { INVALID, KOSME, VALID, failPosition, utf8 } from "./utf8-sequences";
import { CONTINUATION, NORMAL_CLOSE, TEXT, exchange, expectBeforeClose, expectClosedWith, serverError } from "./cases";
import { type EchoServer, group, startEchoServer } from "./peer";

let server: EchoServer;
beforeAll(async () => { server = await startEchoServer(); });
afterAll(() => server.close());

/** A message of one-byte fragments. */
const byteFragments = (payload: Uint8Array): Uint8Array[] =>
  payload.length === 0 ? [clientFrame({ opcode: TEXT, payload })]
    : Array.from(payload, (b, i) => clientFrame({ opcode: i === 0 ? TEXT : CONTINUATION, fin: i === payload.length - 1, payload: bytes(b) }));

group("utf-8", (testCase) => {
  testCase("the reference classification agrees with the lists", () => {
    for (const [, payload] of VALID) expect(failPosition(payload)).toBe(0);
    for (const [, payload] of INVALID) expect(failPosition(payload)).toBeGreaterThan(0);
  });

  for (const [title, payload] of VALID) {
    testCase(`valid, one frame: ${title} is echoed`, async () => {
      const { frames } = await exchange(server, (c) => c.send(clientFrame({ opcode: TEXT, payload }), NORMAL_CLOSE));
      expectBeforeClose(frames, [[TEXT, payload]]);
      expectClosedWith(frames, 1000);
    });

    testCase(`valid, one-byte fragments: ${title} is echoed`, async () => {
      const { frames } = await exchange(server, (c) => c.send(concat(...byteFragments(payload), NORMAL_CLOSE)));
      expectBeforeClose(frames, [[TEXT, payload]]);
      expectClosedWith(frames, 1000);
    });

    testCase(`valid, one frame read one byte at a time: ${title} is echoed`, async () => {
      const { frames } = await exchange(server, async (c) => {
        await c.sendInPieces(clientFrame({ opcode: TEXT, payload }), 1);
        c.send(NORMAL_CLOSE);
      });
      expectBeforeClose(frames, [[TEXT, payload]]);
    });
  }

  for (const [title, payload] of INVALID) {
    const at = failPosition(payload);
    testCase(`invalid, one frame: ${title} fails with 1007`, async () => {
      const { frames, client } = await exchange(server, (c) => c.send(clientFrame({ opcode: TEXT, payload }), NORMAL_CLOSE));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1007);
      expect(serverError(client)).toMatch(/UTF-8/);
    });

    testCase(`invalid, one-byte fragments: ${title} fails with 1007 at fragment ${at}`, async () => {
      const { frames, client } = await exchange(server, (c) => c.sendPaced(byteFragments(payload)));
      expectBeforeClose(frames, []);
      expectClosedWith(frames, 1007);
      // Each one-byte masked fragment is 7 bytes on the wire.
      expect(client.errorOffset).toBe(at * 7);
    });

    testCase(`invalid, one frame read one byte at a time: ${title} fails with 1007 at byte ${at}`, async () => {
      const frame = clientFrame({ opcode: TEXT, payload });
      const header = frame.length - payload.length;
      const { frames, client } = await exchange(server, (c) => c.sendInPieces(frame, 1));
      expectClosedWith(frames, 1007);
      expect(client.errorOffset).toBe(header + at);
    });
  }

  // Autobahn 6.4: the connection fails before the message's remaining fragments are even sent.
  testCase("fail fast: a fragment above U+10FFFF fails the message before its last fragment is sent", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: TEXT, fin: false, payload: KOSME }),
      clientFrame({ opcode: CONTINUATION, fin: false, payload: bytes(0xf4, 0x90, 0x80, 0x80) }),
    ));
    expectClosedWith(frames, 1007);
    expect(client.server?.events.filter(([type]) => type === "message")).toEqual([]);
  });

  testCase("fail fast: a sequence split across fragments fails on the fragment that breaks it", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: TEXT, fin: false, payload: concat(KOSME, bytes(0xf4)) }),
      clientFrame({ opcode: CONTINUATION, fin: false, payload: bytes(0x90, 0x80, 0x80) }),
    ));
    expectClosedWith(frames, 1007);
  });

  testCase("fail fast: one frame, read in three pieces, fails in the piece holding the bad sequence", async () => {
    const payload = concat(KOSME, bytes(0xf4, 0x90, 0x80, 0x80), utf8("edited"));
    const frame = clientFrame({ opcode: TEXT, payload });
    const header = frame.length - payload.length;
    const cut1 = header + KOSME.length, cut2 = cut1 + 4;
    const { frames, client } = await exchange(server, (c) => c.sendPaced([frame.subarray(0, cut1), frame.subarray(cut1, cut2), frame.subarray(cut2)]));
    expectClosedWith(frames, 1007);
    expect(client.errorOffset).toBe(cut2);
  });

  testCase("a valid text message, then an invalid one: the first is echoed, then 1007", async () => {
    const { frames } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: TEXT, payload: KOSME }),
      clientFrame({ opcode: TEXT, payload: bytes(0xc0, 0xaf) }),
      clientFrame({ opcode: TEXT, payload: "after" }),
    ));
    expectBeforeClose(frames, [[TEXT, KOSME]]);
    expectClosedWith(frames, 1007);
  });
});
