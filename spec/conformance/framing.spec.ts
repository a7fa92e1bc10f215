/**
 * Group 1 (Autobahn 1.1, 1.2): text and binary frames at every payload-length boundary of RFC 6455
 * §5.2 — the 7-bit form (0, 125), the 16-bit form (126, 65535) and the 64-bit form (65536, 2^20),
 * plus 127, the first length a 7-bit field cannot say — each written in one piece and in pieces,
 * and echoed back byte for byte.
 */
import { clientFrame, concat, frame, upgradeRequest } from "../support/wire";
import { BINARY, NORMAL_CLOSE, TEXT, expectBeforeClose, exchange, expectClosedWith, expectServerFrames, serverError, stars } from "./cases";
import { type EchoServer, RawClient, group, startEchoServer } from "./peer";

let server: EchoServer;
beforeAll(async () => { server = await startEchoServer(); });
afterAll(() => server.close());

const LENGTHS = [0, 125, 126, 127, 65535, 65536, 2 ** 20];

/** One byte at a time for the short frames; 997-byte pieces (Autobahn's chop size) for the long ones. */
const pieceSize = (length: number): number => (length <= 127 ? 1 : 997);

group("framing", (testCase) => {
  for (const opcode of [TEXT, BINARY]) {
    const kind = opcode === TEXT ? "text" : "binary";
    for (const length of LENGTHS) {
      testCase(`${kind} frame of ${length} bytes, written at once, is echoed`, async () => {
        const payload = stars(length);
        const { frames } = await exchange(server, (client) => client.send(concat(clientFrame({ opcode, payload }), NORMAL_CLOSE)));
        expectServerFrames(frames);
        expectBeforeClose(frames, [[opcode, payload]]);
        expectClosedWith(frames, 1000);
      });

      testCase(`${kind} frame of ${length} bytes, read in ${pieceSize(length)}-byte pieces, is echoed`, async () => {
        const payload = stars(length);
        const { frames } = await exchange(server, async (client) => {
          await client.sendInPieces(clientFrame({ opcode, payload }), pieceSize(length));
          client.send(NORMAL_CLOSE);
        });
        expectBeforeClose(frames, [[opcode, payload]]);
        expectClosedWith(frames, 1000);
      });
    }
  }

  testCase("the server answers with the shortest length form (7, 16, 64 bits)", async () => {
    const { raw } = await exchange(server, (c) => c.send(
      clientFrame({ opcode: BINARY, payload: stars(125) }),
      clientFrame({ opcode: BINARY, payload: stars(126) }),
      clientFrame({ opcode: BINARY, payload: stars(65536) }),
      NORMAL_CLOSE,
    ));
    // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    expect(Array.from(raw.subarray(0, 2))).toEqual([0x82, 125]);
    const second = 2 + 125;
    expect(Array.from(raw.subarray(second, second + 4))).toEqual([0x82, 126, 0x00, 126]);
    const third = second + 4 + 126;
    expect(Array.from(raw.subarray(third, third + 10))).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  testCase("many small frames in one write are each echoed, in order", async () => {
    const sent = Array.from({ length: 100 }, (_, i) => stars(i));
    const { frames } = await exchange(server, (client) => client.send(concat(...sent.map((payload) => clientFrame({ opcode: BINARY, payload })), NORMAL_CLOSE)));
    expectBeforeClose(frames, sent.map((payload) => [BINARY, payload]));
  });

  testCase("frames in the same write as the opening handshake are read once it is answered", async () => {
    const request = new TextEncoder().encode(upgradeRequest());
    const client = await RawClient.connect(server, concat(request, clientFrame({ opcode: TEXT, payload: "early" }), NORMAL_CLOSE));
    try {
      expect(client.response).toMatch(/^HTTP\/1\.1 101 /);
      const frames = await client.framesUntilClosed();
      expectBeforeClose(frames, [[TEXT, new TextEncoder().encode("early")]]);
      expectClosedWith(frames, 1000);
    } finally {
      client.destroy();
    }
  });

  testCase("an unmasked frame from a client fails the connection with 1002 (§5.1)", async () => {
    const { frames, client } = await exchange(server, (c) => c.send(frame({ opcode: TEXT, payload: "Hello" }), clientFrame({ opcode: TEXT, payload: "after" })));
    expectBeforeClose(frames, []);
    expectClosedWith(frames, 1002);
    expect(serverError(client)).toMatch(/unmasked/i);
  });
});
